// GET /api/v1/report carries an entity tag per snapshot: a poller that sends it back gets 304 and no body
// while nothing changed (the report page revalidates this way), and the new report once something did.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { loopbackInventory } from '../helpers/cluster.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { apiRoutes } from '../../aggregator/routes/api.js';
import { AggregatorState } from '../../aggregator/state.js';
import { simHello } from '../bench/fleet-lib.js';
import type { InventoryNode } from '../../agent/contract/inventory.js';

const inventory = loopbackInventory(2, ['internal']);
let app: FastifyInstance;
let state: AggregatorState;
before(async () => {
  state = new AggregatorState({ inventory, profile: builtinProfile('demo') });
  app = Fastify();
  await app.register(apiRoutes, { state, startedAt: Date.now(), token: 'secret' });
});
after(async () => {
  state.close();
  await app?.close();
});

const get = (matrix: string, etag?: string) =>
  app.inject({ method: 'GET', url: `/api/v1/report?matrix=${matrix}`, headers: etag ? { 'if-none-match': etag } : {} });

test('a report that did not change is a 304 without a body; a changed one is a 200 with a new tag', async () => {
  const first = await get('none');
  assert.equal(first.statusCode, 200);
  const tag = String(first.headers.etag);
  assert.match(tag, /^"[a-z0-9]+-\d+"$/);
  assert.equal(first.headers['cache-control'], 'no-cache');
  assert.equal(JSON.parse(first.body).verdict, 'pending');

  const again = await get('none', tag);
  assert.equal(again.statusCode, 304);
  assert.equal(again.body, '');
  assert.equal(again.headers.etag, tag);

  // Another matrix detail is another report, another tag.
  const states = await get('states', tag);
  assert.equal(states.statusCode, 200);
  assert.notEqual(states.headers.etag, tag);

  state.hello(simHello(inventory.nodes[0]!));
  const changed = await get('none', tag);
  assert.equal(changed.statusCode, 200, 'a hello changed the report');
  assert.notEqual(changed.headers.etag, tag);
  assert.equal(JSON.parse(changed.body).nodes.find((n: { name: string }) => n.name === inventory.nodes[0]!.name).state, 'reporting');
});

test('a tag that is not the current one gets the whole report', async () => {
  const r = await get('none', '"stale-1"');
  assert.equal(r.statusCode, 200);
  assert.ok(r.body.length > 0);
});

test('links=none: the report without link facts under its own tag; /api/v1/links has them, 304 until a hello changes them', async () => {
  const [a, b] = inventory.nodes as [InventoryNode, InventoryNode];
  state.hello({ ...simHello(a, state.plan, true, true), listening: [] });
  state.hello(simHello(b));
  const inject = (url: string, etag?: string) => app.inject({ method: 'GET', url, headers: etag ? { 'if-none-match': etag } : {} });
  const full = await inject('/api/v1/report?matrix=none');
  const lean = await inject('/api/v1/report?matrix=none&links=none');
  assert.equal(lean.statusCode, 200);
  assert.notEqual(lean.headers.etag, full.headers.etag, 'other bytes, another tag');
  const fullNodes = JSON.parse(full.body).nodes as { name: string; links?: unknown[] }[];
  const leanNodes = JSON.parse(lean.body).nodes as { name: string; links?: unknown[] }[];
  assert.ok(fullNodes.find((n) => n.name === a.name)?.links?.length, 'the default report keeps every node its link facts');
  assert.ok(
    leanNodes.every((n) => !('links' in n)),
    'links=none: none',
  );
  assert.deepEqual(
    leanNodes,
    fullNodes.map(({ links: _, ...n }) => n),
    'and nothing else is left out',
  );
  assert.equal((await inject('/api/v1/report?matrix=none&links=none', String(lean.headers.etag))).statusCode, 304);
  assert.equal((await inject('/api/v1/report?links=some')).statusCode, 400);

  const links = await inject('/api/v1/links');
  assert.equal(links.statusCode, 200);
  assert.deepEqual(JSON.parse(links.body), { nodes: [{ name: a.name, links: fullNodes.find((n) => n.name === a.name)!.links }] });
  const tag = String(links.headers.etag);
  assert.equal((await inject('/api/v1/links', tag)).statusCode, 304);
  // Another hello from b (no link facts) leaves the facts as they were; a's new facts make a new body.
  state.hello({ ...simHello(b), hostname: 'b2' });
  assert.equal((await inject('/api/v1/links', tag)).statusCode, 304);
  const facts = simHello(a, state.plan, true, true).links!;
  facts[0]!.ports[0]!.mii = 'down';
  state.hello({ ...simHello(a, state.plan, true, true), links: facts });
  const moved = await inject('/api/v1/links', tag);
  assert.equal(moved.statusCode, 200);
  assert.match(moved.body, /"mii":"down"/);
});

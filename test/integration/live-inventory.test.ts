// Live inventory: nodes added, removed and moved reach a running aggregator and its agents (real processes
// on loopback) with no restart; what unchanged pairs measured survives, and their cells never fall back to
// "no result" (the verdict never waits for them again).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { inventoryToText, type Inventory } from '../../agent/contract/inventory.js';
import type { Report } from '../../aggregator/report.js';
import { loopbackInventory, startCluster, type Cluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/procs.js';

const full = loopbackInventory(4, ['internal', 'shared-db']);
const firstThree: Inventory = { ...full, nodes: full.nodes.slice(0, 3) };
let c: Cluster;

before(async () => {
  c = await startCluster(firstThree);
});
after(async () => c?.close());

/** Watches the report every 100 ms: every verdict seen, and every cell of the watched pairs that went back to '?'. */
function watch(pairs: () => [string, string][]) {
  const verdicts: string[] = [];
  const lost: string[] = [];
  let on = true;
  const done = (async () => {
    while (on) {
      const r = await c.report();
      verdicts.push(r.verdict);
      for (const b of r.bindings) {
        for (const [from, to] of pairs()) {
          const i = b.nodes.indexOf(from);
          const j = b.nodes.indexOf(to);
          if (i < 0 || j < 0) continue;
          if (b.matrix!.states[i]![j] !== 'o') lost.push(`${b.name} ${from}->${to}: ${b.matrix!.states[i]![j]} (verdict ${r.verdict})`);
        }
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  return {
    verdicts,
    lost,
    stop: async () => {
      on = false;
      await done;
    },
  };
}

const pairsOf = (names: string[]): [string, string][] => names.flatMap((a) => names.filter((b) => b !== a).map((b) => [a, b] as [string, string]));
const pids = () => new Map([...c.agents].map(([n, p]) => [n, p.child.pid]));
const alive = (pid: number | undefined) => {
  try {
    process.kill(pid!, 0);
    return true;
  } catch {
    return false;
  }
};

async function readyWith(nodes: string[]): Promise<Report> {
  return waitUntil(
    async () => {
      const r = await c.report();
      const names = r.nodes.map((n) => n.name);
      return r.verdict === 'ready' &&
        JSON.stringify(names) === JSON.stringify(nodes) &&
        r.bindings.every((b) => b.matrix!.states.every((row, i) => [...row].every((ch, j) => (i === j ? ch === '-' : ch === 'o'))))
        ? r
        : undefined;
    },
    `ready with ${nodes.join(', ')}`,
    30_000,
    200,
  );
}

async function reload(): Promise<Response> {
  return fetch(`${c.url}/api/v1/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${c.token}` } });
}

/** The results messages by how they named peers, and the refusals for a bad message, from /metrics. */
async function resultCounts() {
  const text = await (await fetch(`${c.url}/metrics`)).text();
  const value = (series: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`${series} `))
        ?.split(' ')[1] ?? 0,
    );
  return {
    indexed: value('pinger_result_messages_total{peers="indexed"}'),
    named: value('pinger_result_messages_total{peers="named"}'),
    bad: value('pinger_agent_messages_rejected_total{code="PINGER_ERR_WS_BAD_MESSAGE"}'),
    seen: text.match(/^pinger_(result_messages|agent_messages_rejected)_total.*$/gm)?.join('; '),
  };
}
/** Connections an agent made after its first: each re-sends its last round naming peers (it holds no offer yet). */
const reconnects = () => [...c.agents.values()].reduce((sum, p) => sum + Math.max(0, (p.output().match(/connected to /g) ?? []).length - 1), 0);

test('three agents reach ready', async () => {
  for (const n of firstThree.nodes) c.startAgent(n.name);
  await readyWith(['node-1', 'node-2', 'node-3']);
});

test('a node added reaches the running aggregator (SIGHUP) and agents; the first three keep their pairs', async () => {
  const aggPid = c.aggregator.child.pid;
  const before = pids();
  const pairBefore = await (await fetch(`${c.url}/api/v1/pair?binding=internal&from=node-1&to=node-2`)).json();
  const w = watch(() => pairsOf(['node-1', 'node-2', 'node-3']));
  writeFileSync(c.inventoryFile, inventoryToText(full));
  process.kill(aggPid!, 'SIGHUP');
  // The aggregator knows node-4 at once (missing until its agent starts); nothing else moved.
  await waitUntil(async () => ((await c.report()).nodes.some((n) => n.name === 'node-4') ? true : undefined), 'node-4 in the report');
  const mid = await (await fetch(`${c.url}/api/v1/pair?binding=internal&from=node-1&to=node-2`)).json();
  assert.equal(mid.state, 'ok');
  assert.ok(mid.updatedAt >= pairBefore.updatedAt, 'the pair kept its measurement');
  c.startAgent('node-4');
  await readyWith(['node-1', 'node-2', 'node-3', 'node-4']);
  await w.stop();
  assert.deepEqual(w.lost, [], 'unchanged pairs never lost their result');
  assert.equal(c.aggregator.child.exitCode, null);
  assert.equal(c.aggregator.child.pid, aggPid);
  for (const [n, pid] of before) assert.ok(alive(pid) && c.agents.get(n)!.child.exitCode === null, `${n}'s agent was not restarted`);
  // The running agents probe node-4 from the aggregator's push: their own files were never re-read.
  for (const n of ['node-1', 'node-2', 'node-3']) assert.match(c.agents.get(n)!.output(), /peer set from the aggregator: 4 nodes/);
});

test('an address changed (POST /api/v1/admin/reload) moves that node only; pairs between the others keep their results', async () => {
  const moved: Inventory = structuredClone(full);
  const old = moved.nodes[1]!.addresses.internal![0]!;
  const next = old.replace(/\.(\d+)$/, '.42');
  moved.nodes[1]!.addresses.internal = [next];
  const w = watch(() => pairsOf(['node-1', 'node-3', 'node-4']));
  writeFileSync(c.inventoryFile, inventoryToText(moved));
  const res = await reload();
  assert.equal(res.status, 200);
  const summary = await res.json();
  assert.deepEqual([summary.added, summary.removed, summary.changed], [[], [], ['node-2']]);
  // Every pair not touching node-2 (3 x 2 per binding, 2 bindings) and node-2's shared-db pairs (2 x 3) kept.
  assert.equal(summary.keptPairs, 6 * 2 + 6);
  const r = await waitUntil(
    async () => {
      const rr = await readyWith(['node-1', 'node-2', 'node-3', 'node-4']);
      return rr.nodes.find((n) => n.name === 'node-2')!.bindings.internal?.[0]?.address === next ? rr : undefined;
    },
    'node-2 on its new address',
    30_000,
  );
  await w.stop();
  assert.deepEqual(w.lost, []);
  assert.equal(r.nodes.find((n) => n.name === 'node-2')!.bindings.internal![0]!.iface, 'lo');
  assert.match(c.agents.get('node-2')!.output(), /this node's addresses changed/);
});

test('while the agents took their peer sets from the aggregator, they named peers by index into the set offered', async () => {
  // Each agent takes the set of every plan the aggregator pushes, so its ids match: a peer is named only in
  // the re-send after a reconnect (a loaded machine may drop a connection).
  const n = await resultCounts();
  assert.ok(n.indexed >= 8, n.seen); // at least two rounds from each of four agents
  assert.ok(n.named <= reconnects(), `${n.seen}; reconnects: ${reconnects()}`);
  assert.equal(n.bad, 0, n.seen);
});

test('a node removed: its agent is let go, the verdict never leaves ready, agents re-read their file on SIGHUP', async () => {
  const moved = (await (await fetch(`${c.url}/api/v1/report`)).json()) as Report;
  assert.equal(moved.verdict, 'ready');
  const inv: Inventory = structuredClone(full);
  inv.nodes[1]!.addresses.internal = [moved.nodes.find((n) => n.name === 'node-2')!.bindings.internal![0]!.address];
  inv.nodes = inv.nodes.filter((n) => n.name !== 'node-3');
  const w = watch(() => pairsOf(['node-1', 'node-2', 'node-4']));
  writeFileSync(c.inventoryFile, inventoryToText(inv));
  process.kill(c.aggregator.child.pid!, 'SIGHUP');
  for (const n of ['node-1', 'node-2', 'node-4']) process.kill(c.agents.get(n)!.child.pid!, 'SIGHUP');
  try {
    await readyWith(['node-1', 'node-2', 'node-4']);
    // node-3's agent was closed with the final unknown-node code: it retries only at the slowest pace.
    await c.agents.get('node-3')!.waitFor(/aggregator closed the link: 4404 PINGER_ERR_WS_UNKNOWN_NODE: node-3 was removed/, 15_000);
    await new Promise((res) => setTimeout(res, 1500));
  } finally {
    await w.stop();
  }
  await c.agents.get('node-3')!.stop();
  assert.deepEqual(w.lost, []);
  assert.ok(w.verdicts.length > 5 && w.verdicts.every((v) => v === 'ready'), `verdicts seen: ${[...new Set(w.verdicts)].join(', ')}`);
  for (const n of ['node-1', 'node-2', 'node-4']) {
    assert.equal(c.agents.get(n)!.child.exitCode, null);
    assert.match(c.agents.get(n)!.output(), /peer set from the inventory file: 3 nodes/);
  }
});

test('a bad file is refused with file:line:field, and the running inventory stays', async () => {
  const good = await c.report();
  writeFileSync(c.inventoryFile, 'version: 1\nnodes:\n  node-1:\n    addresses:\n      internal: 300.1.1.1\n');
  const res = await reload();
  assert.equal(res.status, 422);
  const body = await res.json();
  assert.equal(body.code, 'PINGER_ERR_RELOAD_REFUSED');
  assert.equal(body.cause, 'PINGER_ERR_INVENTORY_INVALID');
  assert.match(body.error, /inventory\.yaml:5:\d+: nodes\.node-1\.addresses\.internal: /);
  process.kill(c.aggregator.child.pid!, 'SIGHUP');
  await c.aggregator.waitFor(/PINGER_ERR_RELOAD_REFUSED: .*inventory\.yaml:5/);
  for (const [, p] of c.agents) if (p.child.exitCode === null) process.kill(p.child.pid!, 'SIGHUP');
  await c.agents.get('node-1')!.waitFor(/PINGER_ERR_INVENTORY_INVALID: .*keeping the running inventory/);
  const after = await c.report();
  assert.deepEqual(
    after.nodes.map((n) => n.name),
    good.nodes.map((n) => n.name),
  );
  assert.equal(after.verdict, 'ready');
  const unauth = await fetch(`${c.url}/api/v1/admin/reload`, { method: 'POST' });
  assert.equal(unauth.status, 401);
});

test('once both ends re-read the same file, the agents index again, and no message was refused for it', async () => {
  // Between an agent's SIGHUP and the aggregator's push its set differed, so a round in that window named
  // its peers (the fallback); after it, every round is indexed again.
  const before = await resultCounts();
  const moreReconnects = reconnects();
  const after = await waitUntil(
    async () => {
      const n = await resultCounts();
      return n.indexed >= before.indexed + 6 ? n : undefined;
    },
    'two more rounds of results from the three agents',
    30_000,
    200,
  );
  assert.ok(after.named - before.named <= reconnects() - moreReconnects, `${before.seen} -> ${after.seen}`);
  assert.equal(after.bad, 0, after.seen);
});

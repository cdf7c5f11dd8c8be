// The seed's story, end to end through dispatch: `juju deploy pinger -n 4 --bind ...`, peers joining one
// by one, every unit's inventory listing every peer on every binding, the leader's aggregator reached by
// every unit's agent (real processes on loopback), statuses moving from waiting to the verdict; then the
// actions. Hooks run exactly as Juju runs them (see sim/sim.ts).
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Report } from '../../aggregator/report.js';
import { fetchReport } from '../../charm/src/aggregator-client.js';
import { waitUntil } from '../helpers/procs.js';
import { addr, appData, inventoryOf, simOptions } from './fixture.js';
import { Sim } from './sim/sim.js';

let sim: Sim;
before(async () => {
  sim = await Sim.create(simOptions({ goal: 4, systemd: 'run' }));
});
after(async () => sim?.close());

const units = ['pinger/0', 'pinger/1', 'pinger/2', 'pinger/3'];
const bindingNames = ['ceph-cluster', 'internal', 'public', 'shared-db'];

async function report(): Promise<Report> {
  // Over TLS (the leader's CA) with read auth on: the read token from the cluster's Juju secret.
  const app = appData(sim);
  const content = sim.model().secrets![app['cluster-secret-id']!]!.revisions.at(-1)!;
  const r = await fetchReport(app['aggregator-url']!, 3000, { readToken: content['read-token']!, ca: app['ca-cert']! });
  if ('error' in r) throw new Error(`report: ${r.error}`);
  return r;
}

test('deploy: peers join one by one; each waits for the rest (goal-state), the leader starts the aggregator', async () => {
  sim.addUnit();
  await sim.settle();
  let m = sim.model();
  assert.equal(m.units['pinger/0']!.status.state, 'waiting');
  assert.equal(m.units['pinger/0']!.status.message, 'waiting for peers: 0/3 joined');
  const app = appData(sim);
  assert.equal(app['aggregator-url'], `https://${addr('oam', 0)}:${m.config['aggregator-port']}`);
  assert.match(app['cluster-secret-id']!, /^secret:[0-9a-v]{20}$/, 'the cluster secret is a Juju secret, not relation data');
  assert.ok(sim.service('pinger/0', 'pinger-aggregator').active);
  assert.deepEqual(m.units['pinger/0']!.openPorts, [`${m.config['aggregator-port']}/tcp`]);
  for (const n of [1, 2, 3]) {
    sim.addUnit();
    await sim.settle();
    m = sim.model();
    for (const u of units.slice(0, n + 1)) {
      const s = m.units[u]!.status;
      if (n < 3) assert.equal(s.message, `waiting for peers: ${n}/3 joined`, u);
      else assert.doesNotMatch(s.message, /waiting for peers/, u);
    }
  }
});

test("every unit's inventory lists every peer on every binding; agents run with CAP_NET_RAW and a private token", () => {
  for (const u of units) {
    const inv = inventoryOf(sim, u);
    assert.deepEqual(
      inv.nodes.map((n) => n.name),
      units,
      u,
    );
    assert.deepEqual(inv.bindings, bindingNames, u);
    for (const [i, n] of inv.nodes.entries()) {
      assert.deepEqual(n.addresses, {
        internal: [addr('internal-api', i)],
        'shared-db': [addr('internal-api', i)],
        'ceph-cluster': [addr('storage-cluster', i)],
        public: [addr('public-api', i)],
      });
    }
    const svc = sim.service(u, 'pinger-agent');
    assert.ok(svc.active, u);
    assert.match(svc.file!, /^AmbientCapabilities=CAP_NET_RAW/m);
    assert.match(
      svc.file!,
      new RegExp(`--aggregator ${appData(sim)['aggregator-url']!.replace('https', 'wss')}/api/v1/agent --credential-file \\S+ --ca-file`),
    );
    assert.equal(statSync(join(sim.root(u), 'var/lib/pinger/credential')).mode & 0o777, 0o600);
    assert.equal(sim.service(u, 'pinger-aggregator').active, u === 'pinger/0', u);
  }
});

test("the leader's aggregator hears from every unit and reaches a verdict; statuses move from waiting to it", async () => {
  const r = await waitUntil(
    async () => {
      const x = await report();
      return x.verdict === 'ready' ? x : undefined;
    },
    'verdict ready',
    90_000,
    500,
  );
  assert.deepEqual(
    r.nodes.map((n) => [n.name, n.state]),
    units.map((u) => [u, 'reporting']),
  );
  assert.deepEqual(
    r.bindings.map((b) => b.name),
    bindingNames,
  );
  sim.updateStatus();
  await sim.settle();
  const m = sim.model();
  for (const u of units) {
    assert.equal(m.units[u]!.status.message, 'ready: 4 bindings, 3/3 peers reachable', u);
    assert.equal(m.units[u]!.status.state, 'active');
    const h = m.units[u]!.history;
    assert.ok(h.findIndex((x) => x.startsWith('waiting')) < h.findIndex((x) => x.startsWith('active: ready')), `${u}: ${h.join(' | ')}`);
  }
  assert.equal(m.appStatus.state, 'active');
  assert.match(m.appStatus.message, /^ready: 4\/4 nodes reporting/);
});

test('actions: get-report (text and JSON), run-check waits for a fresh round, unknown action fails cleanly', async () => {
  const text = await sim.runAction('pinger/2', 'get-report');
  assert.equal(text.failed, undefined, text.err);
  assert.equal(text.results.verdict, 'ready');
  assert.match(text.results.report!, /^verdict: ready\nready: 4\/4 nodes reporting/);
  const json = await sim.runAction('pinger/1', 'get-report', { format: 'json' });
  assert.deepEqual(
    (JSON.parse(json.results.report!) as Report).nodes.map((n) => n.name),
    units,
  );
  const before = await report();
  const check = await sim.runAction('pinger/3', 'run-check', { timeout: 60 });
  assert.equal(check.failed, undefined, check.err);
  assert.equal(check.results.fresh, 'true');
  assert.equal(check.results.verdict, 'ready');
  assert.match(check.logs[0]!, /^asked 4 agents for a round now$/);
  const later = await report();
  for (const n of later.nodes) assert.ok(n.rounds > before.nodes.find((b) => b.name === n.name)!.rounds, n.name);
  const nope = await sim.runAction('pinger/0', 'no-such-action');
  assert.equal(nope.failed, 'unknown action "no-such-action"');
});

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

test('stop-responders (on the leader) releases the ports on every unit; start-responders takes them back', async () => {
  const notLeader = await sim.runAction('pinger/1', 'stop-responders');
  assert.match(notLeader.failed!, /^run it on the leader: juju run pinger\/leader stop-responders$/);
  // The demo profile has the responders answer on internal 5000.
  assert.ok(await portOpen(addr('internal-api', 3), 5000));
  const stop = await sim.runAction('pinger/0', 'stop-responders');
  assert.equal(stop.failed, undefined, stop.err);
  await sim.settle(); // the app databag change wakes every unit
  for (const u of units) assert.match(sim.service(u, 'pinger-agent').file!, / --no-responders$/m, u);
  await waitUntil(async () => !(await portOpen(addr('internal-api', 3), 5000)) || undefined, 'port 5000 released on pinger/3', 20_000, 300);
  const start = await sim.runAction('pinger/0', 'start-responders');
  assert.equal(start.failed, undefined, start.err);
  await sim.settle();
  for (const u of units) assert.doesNotMatch(sim.service(u, 'pinger-agent').file!, /--no-responders/, u);
  await waitUntil(async () => (await portOpen(addr('internal-api', 3), 5000)) || undefined, 'port 5000 answered again on pinger/3', 20_000, 300);
});

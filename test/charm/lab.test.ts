// The charm in the lab: each unit's hooks run in its node's network namespace (test/lab), so network-get
// returns that namespace's real addresses and the MTU comes from its /sys; the services the charm starts
// run there too, and their verdict comes back through the get-report action and the statuses.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { requireEnv } from '../helpers/env.js';
import { waitUntil } from '../helpers/procs.js';
import { Lab } from '../lab/lab.js';
import { inventoryOf } from './fixture.js';
import { Sim } from './sim/sim.js';

let lab: Lab | undefined;
let sim: Sim | undefined;
after(async () => {
  await sim?.close();
  await lab?.down();
});

test("lab: network-get gives each namespace's real addresses; the charm-started agents reach a verdict", { timeout: 600_000 }, async (t) => {
  if (!requireEnv(t, { root: true, commands: ['ip', 'perl'] })) return;
  const spaces = ['oam', 'internal-api', 'storage-cluster'];
  lab = await Lab.create({ nodes: 3, spaces: ['oam', 'internal-api', { name: 'storage-cluster', family: 'dual', mtu: 9000 }], startAgents: false });
  const l = lab;
  // The lab numbers space j (1-based) 198.18.j.0/24 and 2001:db8:j::/64: that is what the spaces hold.
  const simSpaces = Object.fromEntries(spaces.map((s, j) => [s, [`198.18.${j + 1}.0/24`, `2001:db8:${j + 1}::/64`]]));
  sim = await Sim.create({
    goal: 3,
    systemd: 'run',
    spaces: simSpaces,
    bindings: { '': 'oam', internal: 'internal-api', 'ceph-cluster': 'storage-cluster' },
    machine: (i) => ({ hostname: `node-${i + 1}` }),
    netns: (unit) => l.nodeNs(`node-${Number(unit.split('/')[1]) + 1}`),
    config: { profile: 'demo', bindings: 'internal ceph-cluster' },
  });
  const s = sim;
  for (let i = 0; i < 3; i++) s.addUnit();
  await s.settle();

  const inv = inventoryOf(s, 'pinger/2');
  assert.deepEqual(
    inv.nodes.map((n) => [n.name, n.addresses]),
    [0, 1, 2].map((i) => [`pinger/${i}`, { 'ceph-cluster': [`198.18.3.${i + 1}`, `2001:db8:3::${i + 1}`], internal: [`198.18.2.${i + 1}`] }]),
  );
  const rows = JSON.parse(s.peers().unitData['pinger/1']!.interfaces!) as { binding: string; iface: string; mtu: number }[];
  assert.deepEqual(
    rows.map((r) => [r.binding, r.iface, r.mtu]),
    [
      ['internal', 'eth2', 1500],
      ['ceph-cluster', 'eth3', 9000],
      ['ceph-cluster', 'eth3', 9000],
    ],
  );
  const app = s.peers().appData.pinger!;
  assert.equal(app['aggregator-url'], 'https://198.18.1.1:9300'); // the leader's CA signs the aggregator's certificate

  // The report, as an operator gets it: an action run on a unit (in its namespace).
  const report = await waitUntil(
    async () => {
      const r = await s.runAction('pinger/1', 'get-report', { format: 'json' });
      const rep = r.results.report ? (JSON.parse(r.results.report) as { verdict: string; nodes: { name: string; state: string }[] }) : undefined;
      return rep?.verdict === 'ready' ? rep : undefined;
    },
    'verdict ready from the charm-started services',
    240_000,
    2000,
  );
  assert.deepEqual(
    report.nodes.map((n) => [n.name, n.state]),
    [0, 1, 2].map((i) => [`pinger/${i}`, 'reporting']),
  );
  s.updateStatus();
  await s.settle();
  const m = s.model();
  for (const u of ['pinger/0', 'pinger/1', 'pinger/2']) assert.equal(m.units[u]!.status.message, 'ready: 2 bindings, 2/2 peers reachable', u);
  assert.match(m.appStatus.message, /^ready: 3\/3 nodes reporting/);
});

// Link metrics: one series per node and binding (the slowest port's speed; a bond's members by state), none
// per port or pair, none where the speed is unknown. Link facts read from the sysfs fixture trees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readLinkFact } from '../../agent/link-facts.js';
import { collectMetrics, defaultMetricsOptions, ProbeTally, type Family, type Sample } from '../../aggregator/metrics.js';
import { exposition } from '../../aggregator/exposition.js';
import { linkSamples } from '../../aggregator/link-metrics.js';
import { helloFor, synthFleet } from './synth.js';
import { buildServer } from '../../aggregator/server.js';
import { packRows } from '../../agent/contract/wire-packed.js';

test('link speed and bond members: per node and binding, bounded', () => {
  const f = synthFleet(3, ['internal', 'ceph-cluster']);
  f.feed({});
  const fact = (tree: string, binding: string, iface = 'bond0') => readLinkFact(binding, iface, { root: `test/fixtures/sysfs/${tree}` });
  const links = {
    'node-1': [fact('bond-8023ad-up', 'ceph-cluster'), fact('mixed-speed', 'internal', 'eno3')],
    'node-2': [fact('bond-degraded', 'ceph-cluster')],
    'node-3': [fact('veth', 'ceph-cluster', 'eth1')],
  };
  for (const [n, l] of Object.entries(links)) f.state.nodes.get(n)!.hello!.links = l;
  const s = f.state.snapshot();
  const fams = collectMetrics({
    inventory: f.inv,
    verdict: s.verdict,
    findings: s.findings,
    nodes: s.nodes,
    expected: 3,
    matrices: f.state.matrices,
    counters: f.state.counters,
    tally: new ProbeTally(f.inv.bindings),
    options: defaultMetricsOptions,
    lastCollectSeconds: 0,
  });
  f.state.close();
  const get = (name: string) =>
    fams
      .find((x) => x.name === name)!
      .samples.map((x) => `${Object.values(x.labels).join('/')}=${x.value}`)
      .sort();
  assert.deepEqual(get('pinger_link_speed_bits_per_second'), [
    'node-1/ceph-cluster=10000000000',
    'node-1/internal=1000000000',
    'node-2/ceph-cluster=10000000000',
  ]);
  assert.deepEqual(get('pinger_bond_members'), [
    'node-1/ceph-cluster/down=0',
    'node-1/ceph-cluster/up=2',
    'node-2/ceph-cluster/down=1',
    'node-2/ceph-cluster/up=1',
  ]);
});

test("link series are built once per hello, and formatted once: a new hello's facts replace them", () => {
  const fact = (tree: string) => readLinkFact('ceph-cluster', 'bond0', { root: `test/fixtures/sysfs/${tree}` });
  const up = [fact('bond-8023ad-up')];
  const first = linkSamples('node-1', up);
  assert.equal(linkSamples('node-1', up), first, 'the same hello: the same samples');
  assert.ok([...first.speed, ...first.bond].every((x) => x.stable));
  const fam = (samples: Sample[]): Family => ({ name: 'pinger_bond_members', help: 'h', type: 'gauge', samples });
  assert.equal(exposition([fam(first.bond)]), exposition([fam(first.bond)]));
  assert.match(exposition([fam(first.bond)]), /state="down"\} 0\n/);
  // The next hello: a member down (another array, as every hello brings).
  const degraded = linkSamples('node-1', [fact('bond-degraded')]);
  assert.notEqual(degraded, first);
  assert.match(exposition([fam(degraded.bond)]), /state="down"\} 1\n/);
  // The same facts for another node (a test's shared fixture): its own labels.
  assert.equal(linkSamples('node-2', up).speed[0]!.labels.node, 'node-2');
});

test("bandwidth: the node's median as sender, per node and binding, never per pair", () => {
  const f = synthFleet(4, ['internal', 'ceph-cluster']);
  f.feed({});
  // Through the state, as results rows carry them: node-1 sends to three peers, node-2 to one.
  const rows = (to: string[], mbps: number[]) =>
    packRows(to.map((peer, i) => ({ peer, addr: f.inv.nodes.find((n) => n.name === peer)!.addresses.internal![0]!, bandwidth: { mbps: mbps[i]!, ms: 2000 } })));
  f.state.results({
    v: 3,
    type: 'results',
    node: 'node-1',
    round: 99,
    durationMs: 5,
    final: true,
    bindings: { internal: rows(['node-2', 'node-3', 'node-4'], [900, 100, 950]) },
  });
  f.state.results({ v: 3, type: 'results', node: 'node-2', round: 99, durationMs: 5, final: true, bindings: { internal: rows(['node-1'], [20]) } });
  const s = f.state.snapshot();
  const fams = collectMetrics({
    inventory: f.inv,
    verdict: s.verdict,
    findings: s.findings,
    nodes: s.nodes,
    expected: 4,
    matrices: f.state.matrices,
    counters: f.state.counters,
    tally: new ProbeTally(f.inv.bindings),
    options: defaultMetricsOptions,
    lastCollectSeconds: 0,
    bandwidth: f.state.bandwidth,
  });
  f.state.close();
  const got = fams
    .find((x) => x.name === 'pinger_bandwidth_bits_per_second')!
    .samples.map((x) => `${x.labels.node}/${x.labels.binding}=${x.value}`)
    .sort();
  assert.deepEqual(got, ['node-1/internal=900000000', 'node-2/internal=20000000']);
});

test("a hello's link lines are formatted when it reaches the state, ahead of the scrape", async () => {
  const up = () => [readLinkFact('ceph-cluster', 'bond0', { root: 'test/fixtures/sysfs/bond-8023ad-up' })];
  const fam = (samples: Sample[]): Family => ({ name: 'pinger_bond_members', help: 'h', type: 'gauge', samples });
  // Through the real route: a hello with link facts, then its samples. A stable sample never changes, so
  // changing one here shows which line the writer holds: the one formatted at the hello.
  const f = synthFleet(2, ['ceph-cluster']);
  const app = await buildServer({ state: f.state, token: 't', logLevel: 'warn' });
  try {
    const facts = up();
    f.state.hello({ ...helloFor(f.inv, 'node-1'), links: facts });
    const warmed = linkSamples('node-1', f.state.nodes.get('node-1')!.hello!.links!);
    assert.equal(f.state.nodes.get('node-1')!.hello!.links, facts, "the state keeps the hello's own array");
    warmed.bond[0]!.value = 99;
    assert.match(exposition([fam(warmed.bond)]), /node="node-1",binding="ceph-cluster",state="up"\} 2\n/);
    assert.match((await app.inject('/metrics')).body, /pinger_bond_members\{node="node-1",binding="ceph-cluster",state="up"\} 2\n/);
    // The control: samples nobody warmed are formatted at the scrape, with what they hold then.
    const cold = linkSamples('node-2', up());
    cold.bond[0]!.value = 99;
    assert.match(exposition([fam(cold.bond)]), /node="node-2",binding="ceph-cluster",state="up"\} 99\n/);
  } finally {
    await app.close();
    f.state.close();
  }
});

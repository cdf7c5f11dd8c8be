// The pure metrics module: families built from synthetic fleets (no network), table-driven.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bucketIndex,
  collectMetrics,
  defaultMetricsOptions,
  knownFindingKinds,
  metricDefs,
  ProbeTally,
  rttBuckets,
  type Family,
  type MetricsOptions,
  type Sample,
} from '../../aggregator/metrics.js';
import { helloFor, roundFor, synthFleet, synthInventory, type FaultFn, type SynthFleet } from './synth.js';
import { AggregatorState } from '../../aggregator/state.js';
import { packRows, unpackRows } from '../../agent/contract/wire-packed.js';
import { builtinProfile } from '../../aggregator/profile.js';
import type { FindingKind } from '../../aggregator/findings.js';

const demoProfile = builtinProfile('demo');

function collect(
  f: SynthFleet,
  tally: ProbeTally,
  options: Partial<MetricsOptions> = {},
  extra: Partial<Parameters<typeof collectMetrics>[0]> = {},
): Map<string, Family> {
  const s = f.state.snapshot();
  const fams = collectMetrics({
    verdict: s.verdict,
    findings: s.findings,
    nodes: s.nodes,
    expected: f.inv.nodes.length,
    matrices: f.state.matrices,
    inventory: f.inv,
    counters: f.state.counters,
    tally,
    options: { ...defaultMetricsOptions, ...options },
    lastCollectSeconds: 0,
    coverage: s.coverage,
    ...extra,
  });
  return new Map(fams.map((x) => [x.name, x]));
}

/** A fleet with the metrics tally attached as the route attaches it, then fed. */
function fleet(nodes: number, bindings: string[], feed: Parameters<SynthFleet['feed']>[0] = {}): { f: SynthFleet; tally: ProbeTally } {
  const f = synthFleet(nodes, bindings);
  const tally = new ProbeTally(f.inv.bindings);
  f.state.on('results', (m) => tally.observe(m, (peers) => f.state.nodes.upOf(peers)));
  f.feed(feed);
  f.state.close();
  return { f, tally };
}

const samples = (m: Map<string, Family>, name: string, match: Record<string, string> = {}): Sample[] =>
  m.get(name)!.samples.filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
const value = (m: Map<string, Family>, name: string, match: Record<string, string> = {}): number | undefined => {
  const s = samples(m, name, match);
  assert.ok(s.length <= 1, `${name} ${JSON.stringify(match)} matched ${s.length} samples`);
  return s[0]?.value;
};

/** Ratios come from float32 cells, exported rounded: equal to 6 decimals is what the exposition promises. */
const approx = (got: number | undefined, want: number) => assert.ok(got !== undefined && Math.abs(got - want) < 1e-6, `${got} != ${want}`);

describe('metric names follow Prometheus conventions', () => {
  for (const [name, def] of Object.entries(metricDefs)) {
    test(name, () => {
      assert.match(name, /^pinger_[a-z0-9_]+$/);
      assert.equal(name.endsWith('_total'), def.type === 'counter', '_total on counters and only on counters');
      assert.ok(!/_(ms|milliseconds|percent|bytes_total_total)$/.test(name), 'base units');
      assert.ok(def.help.length > 10);
    });
  }
});

describe('bucketIndex puts a value in the first bucket that holds it', () => {
  const cases: [number, number][] = [
    [0, 0],
    [0.0001, 0],
    [0.00011, 1],
    [0.001, 3],
    [0.0011, 4],
    [1, rttBuckets.length - 1],
    [1.5, rttBuckets.length],
  ];
  for (const [s, want] of cases) test(`${s} s -> ${want}`, () => assert.equal(bucketIndex(s), want));
});

const bindings = ['internal', 'storage'];
const onePair: FaultFn = (b, from, to) => (b === 'internal' && from === 'node-1' && to === 'node-2' ? 'unreachable' : undefined);

describe('collectMetrics on synthetic fleets', () => {
  const table: {
    name: string;
    nodes: number;
    fault?: FaultFn;
    connected?: (n: string) => boolean;
    options?: Partial<MetricsOptions>;
    check: (m: Map<string, Family>, tally: ProbeTally) => void;
  }[] = [
    {
      name: 'healthy small fleet: ready, every pair exported, RTT histogram complete',
      nodes: 4,
      check: (m) => {
        assert.equal(value(m, 'pinger_verdict', { verdict: 'ready' }), 1);
        assert.equal(
          samples(m, 'pinger_verdict').reduce((a, s) => a + s.value, 0),
          1,
          'exactly one verdict is 1',
        );
        assert.equal(value(m, 'pinger_binding_pairs', { binding: 'internal', state: 'ok' }), 12);
        assert.equal(value(m, 'pinger_binding_reachability_ratio', { binding: 'internal' }), 1);
        assert.equal(value(m, 'pinger_binding_coverage_ratio', { binding: 'internal' }), 1, 'every pair measured');
        assert.equal(value(m, 'pinger_binding_loss_ratio', { binding: 'internal' }), 0);
        assert.equal(samples(m, 'pinger_pair_ok').length, 24);
        assert.ok(samples(m, 'pinger_pair_ok').every((s) => s.value === 1));
        assert.equal(samples(m, 'pinger_pair_problem').length, 0);
        assert.equal(value(m, 'pinger_pair_rtt_seconds', { binding: 'storage', from: 'node-3', to: 'node-1' }), 0.0003, 'float32 noise rounded away');
        const buckets = samples(m, 'pinger_rtt_seconds', { binding: 'internal' }).filter((s) => s.suffix === '_bucket');
        assert.equal(buckets.length, rttBuckets.length + 1);
        for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, 'cumulative');
        assert.equal(buckets.at(-1)!.labels.le, '+Inf');
        assert.equal(buckets.at(-1)!.value, 12);
        assert.equal(value(m, 'pinger_rtt_seconds', { binding: 'internal', le: '0.00025' }), 0, '0.3 ms is above 0.25 ms');
        assert.equal(value(m, 'pinger_rtt_seconds', { binding: 'internal', le: '0.0005' }), 12);
        const count = samples(m, 'pinger_rtt_seconds', { binding: 'internal' }).find((s) => s.suffix === '_count');
        assert.equal(count?.value, 12);
        assert.equal(value(m, 'pinger_icmp_echo_requests_total', { binding: 'internal' }), 36);
        assert.equal(value(m, 'pinger_probes_total', { binding: 'internal', kind: 'tcp', outcome: 'ok' }), 12);
        assert.equal(value(m, 'pinger_agents', { state: 'reporting' }), 4);
        assert.equal(value(m, 'pinger_agent_state', { node: 'node-2', state: 'reporting' }), 1);
      },
    },
    {
      name: 'healthy fleet above the pair threshold: no pair series at all',
      nodes: 4,
      options: { pairMaxNodes: 3 },
      check: (m) => {
        for (const n of ['pinger_pair_ok', 'pinger_pair_problem', 'pinger_pair_rtt_seconds', 'pinger_pair_loss_ratio'])
          assert.equal(samples(m, n).length, 0, n);
        assert.equal(value(m, 'pinger_binding_pairs', { binding: 'storage', state: 'ok' }), 12);
      },
    },
    {
      name: 'one unreachable pair above the threshold: only that pair has series',
      nodes: 4,
      fault: onePair,
      options: { pairMaxNodes: 3 },
      check: (m) => {
        assert.equal(value(m, 'pinger_verdict', { verdict: 'not-ready' }), 1);
        assert.deepEqual(
          samples(m, 'pinger_pair_ok').map((s) => [s.labels, s.value]),
          [[{ binding: 'internal', from: 'node-1', to: 'node-2' }, 0]],
        );
        assert.equal(value(m, 'pinger_pair_problem', { binding: 'internal', from: 'node-1', to: 'node-2', problem: 'unreachable' }), 1);
        assert.equal(value(m, 'pinger_binding_reachability_ratio', { binding: 'internal' }), 11 / 12);
        assert.equal(value(m, 'pinger_binding_reachability_ratio', { binding: 'storage' }), 1);
        approx(value(m, 'pinger_binding_loss_ratio', { binding: 'internal' }), 1 / 12);
        assert.ok(
          samples(m, 'pinger_findings', { severity: 'error' }).some((s) => s.value > 0),
          'some error finding',
        );
        assert.equal(value(m, 'pinger_probes_total', { binding: 'internal', kind: 'tcp', outcome: 'filtered' }), 1);
      },
    },
    {
      name: 'loss on one pair shows in the binding loss ratio and the echo counters',
      nodes: 3,
      fault: (b, from, to) => (b === 'storage' && from === 'node-3' && to === 'node-1' ? 'loss' : undefined),
      check: (m) => {
        approx(value(m, 'pinger_binding_loss_ratio', { binding: 'storage' }), 1 / 3 / 6);
        approx(value(m, 'pinger_pair_loss_ratio', { binding: 'storage', from: 'node-3', to: 'node-1' }), 1 / 3);
        assert.equal(value(m, 'pinger_icmp_echo_requests_total', { binding: 'storage' }), 18);
        assert.equal(value(m, 'pinger_icmp_echo_replies_total', { binding: 'storage' }), 17);
        assert.equal(value(m, 'pinger_pair_problem', { binding: 'storage', from: 'node-3', to: 'node-1', problem: 'loss' }), 1);
      },
    },
    {
      name: 'MTU fault counts as mtu pairs and an mtu probe outcome',
      nodes: 3,
      fault: (b) => (b === 'internal' ? 'mtu' : undefined),
      check: (m) => {
        assert.equal(value(m, 'pinger_binding_pairs', { binding: 'internal', state: 'mtu' }), 6);
        assert.equal(value(m, 'pinger_probes_total', { binding: 'internal', kind: 'mtu', outcome: 'filtered' }), 6);
      },
    },
    {
      name: 'a partition above the threshold is capped: pair series stop at pairProblemsMax, the rest is counted',
      nodes: 6,
      fault: (b, from, to) => (b === 'internal' && Number(from.slice(5)) <= 3 !== Number(to.slice(5)) <= 3 ? 'unreachable' : undefined),
      options: { pairMaxNodes: 3, pairProblemsMax: 5 },
      check: (m) => {
        assert.equal(value(m, 'pinger_binding_pairs', { binding: 'internal', state: 'unreachable' }), 18);
        assert.equal(samples(m, 'pinger_pair_ok', { binding: 'internal' }).length, 5);
        assert.equal(value(m, 'pinger_pair_problems_omitted', { binding: 'internal' }), 13);
        assert.equal(value(m, 'pinger_pair_problems_omitted', { binding: 'storage' }), 0);
      },
    },
    {
      name: 'a missing agent: state set, counts, and its peers are not tallied as loss',
      nodes: 3,
      connected: (n) => n !== 'node-3',
      check: (m, tally) => {
        assert.equal(value(m, 'pinger_agent_state', { node: 'node-3', state: 'missing' }), 1);
        assert.equal(value(m, 'pinger_agent_state', { node: 'node-3', state: 'reporting' }), 0);
        assert.equal(value(m, 'pinger_agents', { state: 'missing' }), 1);
        assert.equal(value(m, 'pinger_agents_connected'), 2);
        assert.equal(value(m, 'pinger_agents_expected'), 3);
        // node-3 measured nothing: its 2 of the 6 ordered pairs have no result.
        approx(value(m, 'pinger_binding_coverage_ratio', { binding: 'storage' }), 4 / 6);
        assert.equal(value(m, 'pinger_verdict', { verdict: 'pending' }), 1);
        // Within the start-up grace it is waited for (pending), not yet a finding.
        assert.equal(value(m, 'pinger_findings', { kind: 'agent-missing', severity: 'error' }), 0);
        // node-1 and node-2 probe each other (2 rows) and node-3 (skipped: its agent is gone).
        const t = new Map(tally.bindings());
        assert.equal(t.get('internal')!.count, 2);
      },
    },
  ];
  for (const c of table) {
    test(c.name, () => {
      const { f, tally } = fleet(c.nodes, bindings, { ...(c.fault ? { fault: c.fault } : {}), ...(c.connected ? { connected: c.connected } : {}) });
      const m = collect(f, tally, c.options);
      c.check(m, tally);
      // Whatever kinds diagnosis produces, each finding is counted once under its kind and severity.
      const want = new Map<string, number>();
      for (const x of f.state.snapshot().findings) want.set(`${x.kind}/${x.severity}`, (want.get(`${x.kind}/${x.severity}`) ?? 0) + 1);
      const got = new Map(
        samples(m, 'pinger_findings')
          .filter((s) => s.value > 0)
          .map((s) => [`${s.labels.kind}/${s.labels.severity}`, s.value]),
      );
      assert.deepEqual(got, want);
    });
  }
});

describe('collectMetrics on hand-made inputs', () => {
  test('findings: known kinds start at zero, unknown kinds are exported as they come', () => {
    const { f, tally } = fleet(2, ['internal']);
    const m = collect(
      f,
      tally,
      {},
      {
        findings: [
          { severity: 'warning', kind: 'brand-new-kind' as FindingKind, nodes: ['node-1'], summary: 'x' },
          { severity: 'warning', kind: 'brand-new-kind' as FindingKind, nodes: ['node-2'], summary: 'y' },
          { severity: 'error', kind: 'clock-skew', nodes: ['node-2'], summary: 'z' },
        ],
      },
    );
    assert.equal(value(m, 'pinger_findings', { kind: 'brand-new-kind', severity: 'warning' }), 2);
    assert.equal(value(m, 'pinger_findings', { kind: 'clock-skew', severity: 'error' }), 1);
    assert.equal(value(m, 'pinger_findings', { kind: 'partition', severity: 'error' }), 0);
    assert.equal(samples(m, 'pinger_findings').length, knownFindingKinds.length * 2 + 1);
  });

  test('clock offset is exported in seconds for connected agents that measured it', () => {
    const { f, tally } = fleet(2, ['internal']);
    f.state.heartbeat({ v: 3, type: 'heartbeat', node: 'node-1', at: 0, clock: { offsetMs: -120, rttMs: 1 } });
    f.state.close();
    const m = collect(f, tally);
    assert.equal(value(m, 'pinger_agent_clock_offset_seconds', { node: 'node-1' }), -0.12);
    assert.equal(value(m, 'pinger_agent_clock_offset_seconds', { node: 'node-2' }), undefined);
  });

  test('the tally ignores bindings outside the inventory (agents cannot create series)', () => {
    const tally = new ProbeTally(['internal']);
    tally.observe({
      v: 3,
      type: 'results',
      node: 'a',
      round: 0,
      durationMs: 1,
      final: true,
      bindings: { bogus: packRows([{ peer: 'b', addr: '2001:db8::1', tcp: { '1': 'ok' } }]) },
    });
    assert.deepEqual(
      tally.bindings().map(([b]) => b),
      ['internal'],
    );
    assert.equal(
      tally.bindings()[0]![1].probes.reduce((x, y) => x + y, 0),
      0,
    );
  });
});

describe('pinger_binding_pairs per address family', () => {
  test('a dual-stack binding whose IPv6 fails towards one node: unreachable in ipv6, ok in ipv4', () => {
    const inv = synthInventory(3, ['internal']);
    for (const [i, n] of inv.nodes.entries()) n.addresses.internal = [`198.18.1.${i + 1}`, ...n.addresses.internal!];
    const state = new AggregatorState({ inventory: inv, profile: demoProfile, now: () => 1_000_000 });
    for (const n of inv.nodes) state.hello(helloFor(inv, n.name));
    for (const n of inv.nodes) {
      const msg = roundFor(inv, n.name, 0);
      msg.bindings.internal = packRows(
        unpackRows(msg.bindings.internal!).map((r) =>
          r.addr.includes(':') && (r.peer === 'node-3' || n.name === 'node-3')
            ? { ...r, icmp: { sent: 3, recv: 0, rtt: null, outcome: 'filtered' as const }, tcp: { '5000': 'filtered' as const } }
            : r,
        ),
      );
      state.results({ ...msg, durationMs: 0 });
    }
    const s = state.snapshot();
    const fams = collectMetrics({
      verdict: s.verdict,
      findings: s.findings,
      nodes: s.nodes,
      expected: 3,
      matrices: state.matrices,
      inventory: inv,
      counters: state.counters,
      tally: new ProbeTally(inv.bindings),
      options: defaultMetricsOptions,
      lastCollectSeconds: 0,
    });
    const m = new Map(fams.map((f) => [f.name, f]));
    assert.equal(value(m, 'pinger_binding_pairs', { binding: 'internal', family: 'ipv4', state: 'ok' }), 6);
    assert.equal(value(m, 'pinger_binding_pairs', { binding: 'internal', family: 'ipv6', state: 'ok' }), 2);
    assert.equal(value(m, 'pinger_binding_pairs', { binding: 'internal', family: 'ipv6', state: 'unreachable' }), 4);
    // The finding says the same: IPv6 only.
    assert.deepEqual(
      s.findings.map((f) => [f.kind, f.family, f.nodes]),
      [['node-isolated', 'ipv6', ['node-3']]],
    );
    state.close();
  });
});

test("pinger_agent_state: a node's samples are the same (stable) objects until its state changes", () => {
  const { f, tally } = fleet(3, bindings, { connected: (n) => n !== 'node-3' });
  const of = (m: Map<string, Family>, node: string) => samples(m, 'pinger_agent_state', { node });
  const a = collect(f, tally);
  const b = collect(f, tally);
  assert.ok(
    of(a, 'node-1').every((s, i) => s.stable && s === of(b, 'node-1')[i]),
    'unchanged: the same samples',
  );
  assert.deepEqual(
    of(a, 'node-3').map((s) => [s.labels.state, s.value]),
    [
      ['reporting', 0],
      ['stale', 0],
      ['stalled', 0],
      ['missing', 1],
    ],
  );
  // node-3's agent connects: its samples are new and say so; node-1's stay the same objects.
  f.state.hello(helloFor(f.inv, 'node-3'));
  const c = collect(f, tally);
  assert.notEqual(of(c, 'node-3')[0], of(b, 'node-3')[0]);
  assert.equal(value(c, 'pinger_agent_state', { node: 'node-3', state: 'missing' }), 0);
  assert.equal(of(c, 'node-1')[0], of(a, 'node-1')[0]);
});

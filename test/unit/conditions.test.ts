// Condition parsing and evaluation, table-driven: what people write, what it means, how a result reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TargetRow } from '../../agent/contract/wire.js';
import {
  evaluateCompare,
  evaluatePort,
  pairFailures,
  pairMetrics,
  parseCondition,
  type CompareCondition,
  type PortCondition,
} from '../../aggregator/conditions.js';

const good: [string, object][] = [
  ['loss == 0%', { type: 'compare', metric: 'loss', op: '==', value: 0 }],
  ['rtt_p99 < 5ms', { type: 'compare', metric: 'rtt_p99', op: '<', value: 5 }],
  ['[RTT_P99] < 5ms', { type: 'compare', metric: 'rtt_p99', op: '<', value: 5 }],
  ['rtt_avg <= 500us', { type: 'compare', metric: 'rtt_avg', op: '<=', value: 0.5 }],
  ['clock_offset < 0.05s', { type: 'compare', metric: 'clock_offset', op: '<', value: 50 }],
  ['mtu >= 9000', { type: 'compare', metric: 'mtu', op: '>=', value: 9000 }],
  ['tcp 3306 open', { type: 'port', proto: 'tcp', ports: [3306] }],
  ['tcp  6641-6644   open', { type: 'port', proto: 'tcp', ports: [6641, 6642, 6643, 6644] }],
  ['tcp 7300,6800 open', { type: 'port', proto: 'tcp', ports: [6800, 7300] }],
  ['udp 6081 open', { type: 'port', proto: 'udp', ports: [6081] }],
  ['dns agrees', { type: 'dns' }],
];
for (const [text, want] of good) {
  test(`parse: ${text}`, () => {
    const c = parseCondition(text, 'warning');
    assert.deepEqual({ ...c, text: undefined, severity: undefined }, { ...want, text: undefined, severity: undefined });
    assert.equal(c.severity, 'warning');
  });
}

const bad: [string, string][] = [
  [
    'rtt_p98 < 5ms',
    'unknown placeholder "rtt_p98" (known: loss, rtt_min, rtt_avg, rtt_p50, rtt_p99, rtt_max, mtu, clock_offset, link_speed, bandwidth, and tcp PORT open, udp PORT open, dns agrees, bond healthy, port description names node)',
  ],
  ['rtt_p99 < 5', '"5" needs a unit: us, ms or s (e.g. 5ms)'],
  ['rtt_p99 < 5min', 'unknown unit "min" in "5min" (use us, ms or s)'],
  ['loss == 0', '"0" needs a % sign (e.g. 0%)'],
  ['loss < 150%', '"150%" is not between 0% and 100%'],
  ['mtu == 9000', '"mtu == 9000": write "mtu >= N" (the path must carry N-byte packets)'],
  ['mtu >= 500', '"500" is not an MTU between 1280 and 65535'],
  ['tcp 3306', '"tcp 3306": write "tcp PORT open", e.g. "tcp 3306 open"'],
  ['tcp 70000 open', '"70000" is not a port range within 1-65535'],
  ['tcp 6800-7300 open', '"6800-7300" names more than 64 ports: sample the range instead (e.g. 6800,6801,7050,7300)'],
  ['dns ok', '"dns ok": the DNS condition is written "dns agrees"'],
  ['rtt_p99 is small', '"rtt_p99 is small" has no comparison (use ==, !=, <, <=, >, >=), and is not "tcp PORT open", "udp PORT open" or "dns agrees"'],
  ['  ', 'empty condition'],
];
for (const [text, message] of bad) test(`parse refuses ${JSON.stringify(text)}`, () => assert.throws(() => parseCondition(text), { message }));

const cmp = (t: string) => parseCondition(t) as CompareCondition;
const evals: [string, number | undefined, boolean | undefined, string][] = [
  ['rtt_p99 < 5ms', 7.2, false, 'rtt_p99 (7.2ms) < 5ms: failed'],
  ['rtt_p99 < 5ms', 0.31, true, 'rtt_p99 (0.31ms) < 5ms: passed'],
  ['rtt_avg < 1ms', 0.05, true, 'rtt_avg (50us) < 1ms: passed'],
  ['loss == 0%', 100 / 3, false, 'loss (33.33%) == 0%: failed'],
  ['loss < 5%', 0, true, 'loss (0%) < 5%: passed'],
  ['clock_offset < 50ms', 2000, false, 'clock_offset (2s) < 50ms: failed'],
  ['rtt_max > 1ms', undefined, undefined, 'rtt_max (not measured) > 1ms: not measured'],
  ['rtt_min != 0ms', 0, false, 'rtt_min (0ms) != 0ms: failed'],
  ['rtt_p50 >= 1ms', 1, true, 'rtt_p50 (1ms) >= 1ms: passed'],
];
for (const [text, actual, passed, shown] of evals) {
  test(`evaluate: ${text} with ${actual}`, () => {
    const r = evaluateCompare(cmp(text), actual);
    assert.equal(r.passed, passed);
    assert.equal(r.text, shown);
  });
}

const row = (r: Partial<TargetRow>): TargetRow => ({ peer: 'b', addr: '198.18.0.2', ...r });
const icmp = (sent: number, recv: number, rtt: [number, number, number, number, number] | null) => ({
  sent,
  recv,
  rtt,
  outcome: recv === sent ? ('ok' as const) : ('filtered' as const),
});

test('pair metrics: the worst address decides, loss counts every echo', () => {
  const m = pairMetrics([row({ icmp: icmp(3, 3, [0.1, 0.2, 0.4, 0.2, 0.4]) }), row({ addr: '2001:db8::2', icmp: icmp(3, 2, [0.2, 0.5, 0.9, 0.5, 0.9]) })]);
  assert.deepEqual(m, { loss: (100 * 1) / 6, rtt_min: 0.1, rtt_avg: 0.5, rtt_max: 0.9, rtt_p50: 0.5, rtt_p99: 0.9 });
  assert.deepEqual(pairMetrics([row({ icmp: { sent: 0, recv: 0, rtt: null, outcome: 'not-measured' } })]), {});
});

const ports: [string, TargetRow[], boolean | undefined, string][] = [
  ['tcp 3306,33060 open', [row({ tcp: { '3306': 'ok', '33060': 'filtered' } })], false, 'tcp 3306,33060 open (33060 filtered): failed'],
  ['tcp 3306 open', [row({ tcp: { '3306': 'ok' } })], true, 'tcp 3306 open: passed'],
  ['udp 6081 open', [row({ udp: { '6081': 'not-measured' } })], undefined, 'udp 6081 open (not measured): not measured'],
  ['tcp 5000 open', [row({ tcp: { '5000': 'ok' } }), row({ addr: '2001:db8::2', tcp: { '5000': 'refused' } })], false, 'tcp 5000 open (5000 refused): failed'],
];
for (const [text, rows, passed, shown] of ports) {
  test(`evaluate: ${text} on ${JSON.stringify(rows.map((r) => r.tcp ?? r.udp))}`, () => {
    const r = evaluatePort(parseCondition(text) as PortCondition, rows);
    assert.equal(r.passed, passed);
    assert.equal(r.text, shown);
  });
}

test('pairFailures: only the failing pair conditions, node and binding scope left to the diagnosis', () => {
  const conds = ['loss == 0%', 'rtt_p99 < 1ms', 'tcp 22 open', 'mtu >= 9000', 'dns agrees'].map((t) => parseCondition(t));
  const f = pairFailures(conds, [row({ icmp: icmp(3, 3, [0.5, 1, 2, 1, 2]), tcp: { '22': 'ok' }, mtu: { size: 8980, outcome: 'filtered' } })]);
  assert.deepEqual(
    f.map((r) => r.text),
    ['rtt_p99 (2ms) < 1ms: failed'],
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentile, robustP99, RttHistory, RTT_WINDOW, summariseIcmp } from '../../agent/stats.js';
import type { ProbeResult } from '../../agent/contract/probe.js';

test('percentile is nearest-rank', () => {
  const cases: [number[], number, number][] = [
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 99, 4],
    [[5], 50, 5],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
  ];
  for (const [xs, p, want] of cases) assert.equal(percentile(xs, p), want);
  assert.ok(Number.isNaN(percentile([], 50)));
});

const ok = (rttMs: number): ProbeResult => ({ outcome: 'ok', rttMs });
const cases: [string, ProbeResult[], object][] = [
  // p99 sets the slowest echo aside (robustP99): of three, the second slowest.
  ['all back', [ok(0.2), ok(0.1), ok(0.3)], { sent: 3, recv: 3, rtt: [0.1, 0.2, 0.3, 0.2, 0.2], outcome: 'ok' }],
  ['one lost', [ok(0.2), { outcome: 'filtered' }, ok(0.4)], { sent: 3, recv: 2, rtt: [0.2, 0.3, 0.4, 0.2, 0.2], outcome: 'filtered' }],
  [
    'a lagged echo counts as received, not in any RTT figure',
    [ok(0.2), { outcome: 'ok', rttMs: 52, lagged: true }, ok(0.1)],
    { sent: 3, recv: 3, rtt: [0.1, 0.15, 0.2, 0.1, 0.1], outcome: 'ok' },
  ],
  [
    'all lagged: no RTT (not measured), never a figure that blames the network',
    [{ outcome: 'ok', rttMs: 50, lagged: true }],
    { sent: 1, recv: 1, rtt: null, outcome: 'ok' },
  ],
  [
    'unreachable beats filtered by count',
    [{ outcome: 'unreachable' }, { outcome: 'unreachable' }, { outcome: 'filtered' }],
    { sent: 3, recv: 0, rtt: null, outcome: 'unreachable' },
  ],
  [
    'not measured is neither ok nor failed',
    [{ outcome: 'not-measured' }, { outcome: 'not-measured' }],
    { sent: 0, recv: 0, rtt: null, outcome: 'not-measured' },
  ],
  ['sub-millisecond precision is kept', [ok(0.0123456)], { sent: 1, recv: 1, rtt: [0.012, 0.012, 0.012, 0.012, 0.012], outcome: 'ok' }],
];
for (const [what, input, want] of cases) test(`summariseIcmp: ${what}`, () => assert.deepEqual(summariseIcmp(input), want));

test('robustP99: one late echo in a window is set aside, two are not', () => {
  const fast = Array.from({ length: 29 }, () => 0.05);
  assert.equal(robustP99([...fast, 40].sort((a, b) => a - b)), 0.05);
  assert.equal(robustP99([...fast.slice(1), 40, 40].sort((a, b) => a - b)), 40);
  assert.equal(robustP99([7]), 7);
  assert.ok(Number.isNaN(robustP99([])));
  // With 200 samples two may be set aside (ceil(200/100)), the third counts.
  const many = [...Array.from({ length: 197 }, () => 0.1), 30, 30, 30].sort((a, b) => a - b);
  assert.equal(robustP99(many), 30);
  assert.equal(robustP99(many.slice(0, -1)), 0.1, 'two of 199: both set aside');
});

test('RttHistory: p50/p99 over the last RTT_WINDOW echoes per target, across rounds', () => {
  const h = new RttHistory();
  const round = (key: string, rs: ProbeResult[]) => summariseIcmp(rs, (rtts) => h.add(key, rtts));
  // A healthy pair with one late echo in its first round: the window sets it aside from round one on.
  let s = round('a 198.18.1.2', [ok(0.05), ok(9), ok(0.06)]);
  assert.deepEqual(s.rtt, [0.05, 3.037, 9, 0.06, 0.06]);
  h.endRound();
  s = round('a 198.18.1.2', [ok(0.05), ok(0.05), ok(0.05)]);
  assert.equal(s.rtt![4], 0.06);
  assert.equal(s.rtt![2], 0.05, "min/avg/max stay this round's");
  h.endRound();
  // A real slowdown (every echo 20 ms) shows in the round it starts in.
  s = round('a 198.18.1.2', [ok(20), ok(20), ok(20)]);
  assert.equal(s.rtt![4], 20);
  // Targets are kept apart.
  assert.equal(round('a 2001:db8:1::2', [ok(0.1)]).rtt![4], 0.1);
  // The window is bounded: after RTT_WINDOW fast echoes the slow ones are gone.
  for (let i = 0; i < RTT_WINDOW / 3; i++) {
    s = round('a 198.18.1.2', [ok(0.04), ok(0.04), ok(0.04)]);
    h.endRound();
  }
  assert.equal(s.rtt![4], 0.04);
});

test('RttHistory forgets targets not probed for maxAgeRounds rounds', () => {
  const h = new RttHistory(30, 2);
  h.add('x', [1]);
  h.endRound();
  h.add('y', [1]);
  h.endRound();
  h.endRound();
  assert.equal(h.size, 1, 'x (unseen for 3 rounds) is forgotten, y is kept');
});

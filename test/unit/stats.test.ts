import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentile, summariseIcmp } from '../../agent/stats.js';
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
  ['all back', [ok(0.2), ok(0.1), ok(0.3)], { sent: 3, recv: 3, rtt: [0.1, 0.2, 0.3, 0.2, 0.3], outcome: 'ok' }],
  ['one lost', [ok(0.2), { outcome: 'filtered' }, ok(0.4)], { sent: 3, recv: 2, rtt: [0.2, 0.3, 0.4, 0.2, 0.4], outcome: 'filtered' }],
  ['unreachable beats filtered by count', [{ outcome: 'unreachable' }, { outcome: 'unreachable' }, { outcome: 'filtered' }], { sent: 3, recv: 0, rtt: null, outcome: 'unreachable' }],
  ['not measured is neither ok nor failed', [{ outcome: 'not-measured' }, { outcome: 'not-measured' }], { sent: 0, recv: 0, rtt: null, outcome: 'not-measured' }],
  ['sub-millisecond precision is kept', [ok(0.0123456)], { sent: 1, recv: 1, rtt: [0.012, 0.012, 0.012, 0.012, 0.012], outcome: 'ok' }],
];
for (const [what, input, want] of cases) test(`summariseIcmp: ${what}`, () => assert.deepEqual(summariseIcmp(input), want));

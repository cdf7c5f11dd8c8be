import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClockFilter, clockPolicy } from '../../agent/clock-filter.js';

test('a clock exchange with every heartbeat until settled, then with every sixth', () => {
  const f = new ClockFilter();
  const asked: number[] = [];
  // One exchange at connect (before any heartbeat), then heartbeats every 5 s; each asked exchange is answered.
  f.add({ offsetMs: 1, rttMs: 1 }, 0);
  for (let beat = 1; beat <= 24; beat++) {
    if (f.beat()) {
      asked.push(beat);
      f.add({ offsetMs: 1, rttMs: 1 }, beat * 5000);
    }
  }
  assert.deepEqual(asked, [1, 2, 3, 6, 12, 18, 24]);
  assert.equal(clockPolicy.settleSamples, 4);
});

test('unanswered exchanges (a busy link) keep every heartbeat asking', () => {
  const f = new ClockFilter();
  for (let beat = 1; beat <= 10; beat++) assert.equal(f.beat(), true, `beat ${beat}`);
});

test('the estimate: lowest RTT of the recent samples, else the newest', () => {
  const cases: [string, [number, number, number][], number, { offsetMs: number; rttMs: number } | undefined][] = [
    ['none yet', [], 0, undefined],
    ['one', [[5, 2, 0]], 0, { offsetMs: 5, rttMs: 2 }],
    [
      'lowest RTT wins',
      [
        [5, 2, 0],
        [9, 1, 1000],
        [7, 3, 2000],
      ],
      2000,
      { offsetMs: 9, rttMs: 1 },
    ],
    // A stepped clock: the old low-RTT sample is too old to hide the newer ones.
    [
      'too old to win',
      [
        [5, 0.1, 0],
        [2005, 4, 40_000],
        [2004, 3, 70_000],
      ],
      70_000,
      { offsetMs: 2004, rttMs: 3 },
    ],
    [
      'all old: the newest',
      [
        [5, 1, 0],
        [6, 2, 10_000],
      ],
      200_000,
      { offsetMs: 6, rttMs: 2 },
    ],
    ['a negative RTT (a clock step mid-exchange) counts as 0', [[3, -4, 0]], 0, { offsetMs: 3, rttMs: 0 }],
  ];
  for (const [name, samples, now, want] of cases) {
    const f = new ClockFilter();
    for (const [offsetMs, rttMs, at] of samples) f.add({ offsetMs, rttMs }, at);
    assert.deepEqual(f.best(now), want, name);
  }
});

test('keeps the last samples only', () => {
  const f = new ClockFilter();
  assert.equal(f.add({ offsetMs: 0, rttMs: 0.01 }, 0), true);
  for (let i = 1; i <= clockPolicy.keep; i++) assert.equal(f.add({ offsetMs: i, rttMs: 1 }, 0), false);
  // The first (lowest RTT) has left the window of `keep`.
  assert.deepEqual(f.best(0), { offsetMs: 1, rttMs: 1 });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogLimiter, OTHER_PEERS, summaryLine } from '../../aggregator/log-limit.js';

// Each step: at time t, `n` lines from `peer`; then what was written, what was left out, and summaries given.
type Step = { t: number; peer: string; n: number; logged: number; summary?: [peer: string, count: number] };
const cases: {
  name: string;
  opts: { perWindow: number; windowMs: number; maxPeers: number; totalPerWindow?: number };
  steps: Step[];
  sweepAt?: [t: number, summaries: [string, number][]];
}[] = [
  {
    name: 'under the limit every line is written',
    opts: { perWindow: 3, windowMs: 1000, maxPeers: 10 },
    steps: [{ t: 0, peer: 'a', n: 3, logged: 3 }],
  },
  {
    name: 'over the limit only the first N, then the count comes with the next window',
    opts: { perWindow: 3, windowMs: 1000, maxPeers: 10 },
    steps: [
      { t: 0, peer: 'a', n: 100, logged: 3 },
      { t: 999, peer: 'a', n: 5, logged: 0 },
      { t: 1000, peer: 'a', n: 1, logged: 1, summary: ['a', 102] },
    ],
  },
  {
    name: 'peers have their own budgets',
    opts: { perWindow: 2, windowMs: 1000, maxPeers: 10 },
    steps: [
      { t: 0, peer: 'a', n: 50, logged: 2 },
      { t: 1, peer: 'b', n: 50, logged: 2 },
      { t: 2, peer: 'c', n: 1, logged: 1 },
    ],
  },
  {
    name: 'beyond maxPeers new peers share one slot, so the map stays bounded',
    opts: { perWindow: 2, windowMs: 1000, maxPeers: 2 },
    steps: [
      { t: 0, peer: 'a', n: 1, logged: 1 },
      { t: 0, peer: 'b', n: 1, logged: 1 },
      { t: 0, peer: 'c', n: 10, logged: 2 },
      { t: 0, peer: 'd', n: 10, logged: 0 },
    ],
    sweepAt: [1000, [[OTHER_PEERS, 18]]],
  },
  {
    name: 'many peers together stop at the total budget; each keeps its own count',
    opts: { perWindow: 5, windowMs: 1000, maxPeers: 100, totalPerWindow: 12 },
    steps: [
      { t: 0, peer: 'a', n: 10, logged: 5 },
      { t: 0, peer: 'b', n: 10, logged: 5 },
      { t: 0, peer: 'c', n: 10, logged: 2 },
      { t: 1000, peer: 'c', n: 1, logged: 1, summary: ['c', 8] },
    ],
  },
  {
    name: 'a sweep after the window reports suppressed counts and forgets the peers',
    opts: { perWindow: 1, windowMs: 60_000, maxPeers: 10 },
    steps: [
      { t: 0, peer: 'a', n: 4, logged: 1 },
      { t: 10, peer: 'b', n: 1, logged: 1 },
    ],
    sweepAt: [60_010, [['a', 3]]],
  },
];

for (const c of cases) {
  test(`log limiter: ${c.name}`, () => {
    let now = 0;
    const l = new LogLimiter({ totalPerWindow: 1e9, ...c.opts, now: () => now });
    for (const s of c.steps) {
      now = s.t;
      let logged = 0;
      const summaries: [string, number][] = [];
      for (let i = 0; i < s.n; i++) {
        const a = l.admit(s.peer);
        if (a.log) logged++;
        if (a.summary) summaries.push([a.summary.peer, a.summary.count]);
      }
      assert.equal(logged, s.logged, `${s.peer} at ${s.t}`);
      assert.deepEqual(summaries, s.summary ? [s.summary] : []);
    }
    if (c.sweepAt) {
      now = c.sweepAt[0];
      assert.deepEqual(
        l.sweep().map((x) => [x.peer, x.count]),
        c.sweepAt[1],
      );
      assert.equal(l.size, 0);
      assert.deepEqual(l.sweep(), []);
    }
  });
}

test('log limiter: a flood of 100,000 lines from one peer writes N lines and one summary per window', () => {
  let now = 0;
  const l = new LogLimiter({ perWindow: 20, windowMs: 60_000, maxPeers: 1000, now: () => now });
  let lines = 0;
  for (let i = 0; i < 100_000; i++) {
    now = i; // 100 s of flood: two windows
    const a = l.admit(`127.0.0.${i % 3}`);
    if (a.log) lines++;
    if (a.summary) lines++;
  }
  now = 200_000;
  lines += l.sweep().length;
  assert.equal(lines, 3 * 20 * 2 + 3 * 2);
});

test('summary line', () => {
  assert.equal(summaryLine({ peer: '127.0.0.1', count: 5, windowMs: 60_000 }), 'suppressed 5 similar messages from 127.0.0.1 in 60 s');
});

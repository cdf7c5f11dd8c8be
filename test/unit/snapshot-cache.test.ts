// The state's snapshot (findings, verdict, node states) is cached until something that can change it happens:
// a message that matters, or the clock passing a node's deadline. Driven by an injected clock, no waiting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeartbeatMsg } from '../../agent/contract/wire.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { AggregatorState } from '../../aggregator/state.js';
import { reportBody } from '../../aggregator/routes/api.js';
import { helloFor, roundFor, synthInventory } from '../metrics/synth.js';

// demo profile: 3 s interval, 0.5 s timeout: a connected agent silent for more than 9.5 s is stale; one
// disconnected for more than 10 s is missing too long (a fault, no longer waited for).
const staleAfterMs = 9500;

function readyFleet(n: number) {
  const inv = synthInventory(n, ['internal']);
  const clock = { t: 1_000_000 };
  const state = new AggregatorState({ inventory: inv, profile: builtinProfile('demo'), now: () => clock.t });
  const names = inv.nodes.map((x) => x.name);
  for (const x of names) state.hello(helloFor(inv, x));
  clock.t += 1000;
  for (const x of names) state.results(roundFor(inv, x, 0));
  const beat = (node: string, clk?: HeartbeatMsg['clock']): void =>
    state.heartbeat({ v: 3, type: 'heartbeat', node, at: clock.t, ...(clk ? { clock: clk } : {}) });
  return { inv, clock, state, names, beat };
}

test('the snapshot and its report are the same objects while nothing changed, and new ones after results', () => {
  const f = readyFleet(3);
  const s1 = f.state.snapshot();
  assert.equal(s1.verdict, 'ready');
  const r1 = f.state.report('states');
  // Time passes (below every deadline) and heartbeats only refresh last-seen: nothing to rebuild.
  f.clock.t += 4000;
  for (const x of f.names) f.beat(x);
  assert.equal(f.state.snapshot(), s1);
  assert.equal(f.state.report('states'), r1);
  f.clock.t += 2000;
  for (const x of f.names) f.beat(x, { offsetMs: 0.2, rttMs: 0.4 });
  const s2 = f.state.snapshot(); // a first clock reading is news
  assert.notEqual(s2, s1);
  f.clock.t += 500;
  for (const x of f.names) f.beat(x, { offsetMs: 0.5, rttMs: 0.6 }); // moved by less than 1 ms
  assert.equal(f.state.snapshot(), s2);
  // Clock moves, node-1 only: below CLOCK_SHOWN_MS (5 ms) nothing to rebuild; past it, or across the profile's
  // 50 ms bound (counted as |offset| - rtt/2) by less, a new snapshot, with the finding when across.
  const clockStep = (offsetMs: number, rttMs = 0.6) => {
    const before = f.state.snapshot();
    f.clock.t += 100;
    f.beat('node-1', { offsetMs, rttMs });
    const after = f.state.snapshot();
    return { rebuilt: after !== before, skew: after.findings.some((x) => x.kind === 'clock-skew') };
  };
  assert.deepEqual(clockStep(3.5), { rebuilt: false, skew: false }, '3 ms from the one shown');
  assert.deepEqual(clockStep(9), { rebuilt: true, skew: false }, '8.5 ms from the one shown');
  assert.deepEqual(clockStep(47), { rebuilt: true, skew: false });
  assert.deepEqual(clockStep(51), { rebuilt: true, skew: true }, '4 ms on, across the bound');
  assert.deepEqual(clockStep(52), { rebuilt: false, skew: true });
  assert.deepEqual(clockStep(52, 6), { rebuilt: true, skew: false }, 'the same offset, less certain: back within the bound');
  for (const x of f.names) f.beat(x, { offsetMs: 0.5, rttMs: 0.6 });
  const s2b = f.state.snapshot();
  assert.equal(s2b.findings.length, 0);
  // New results (node-2 now loses every echo toward node-3): a new snapshot, with the finding in it.
  f.clock.t += 500;
  f.state.results(roundFor(f.inv, 'node-2', 1, (_b, _from, to) => (to === 'node-3' ? 'loss' : undefined)));
  const s3 = f.state.snapshot();
  assert.notEqual(s3, s2b);
  assert.notEqual(f.state.report('states'), r1);
  assert.ok(s3.findings.length > 0, 'the lossy pair shows as a finding');
  assert.equal(f.state.snapshot(), s3);
  f.state.close();
});

test('an agent that goes silent becomes stale on time, though no message arrives to say so', () => {
  const f = readyFleet(2);
  const silentSince = f.clock.t; // node-2's last word
  // node-1 goes on: a round (a new snapshot), then heartbeats that force nothing; node-2 says nothing.
  f.clock.t += 5000;
  f.state.results(roundFor(f.inv, 'node-1', 1));
  const s1 = f.state.snapshot();
  const state = (s: typeof s1, n: string) => s.nodes.find((x) => x.record.name === n)!.state;
  assert.equal(state(s1, 'node-2'), 'reporting');
  f.clock.t = silentSince + staleAfterMs;
  f.beat('node-1');
  const s2 = f.state.snapshot();
  assert.equal(s2, s1, 'at the deadline itself nothing has changed yet');
  f.clock.t += 1;
  const s3 = f.state.snapshot();
  assert.notEqual(s3, s1);
  assert.equal(state(s3, 'node-2'), 'stale');
  assert.equal(s3.verdict, 'not-ready');
  assert.deepEqual(
    s3.findings.map((x) => [x.kind, x.nodes]),
    [['agent-stale', ['node-2']]],
  );
  // It speaks again (a heartbeat, still no round): its state moves on, so the snapshot follows at once.
  f.beat('node-2');
  assert.equal(state(f.state.snapshot(), 'node-2'), 'stalled');
  f.state.close();
});

test('a disconnected agent is waited for during the grace, then is missing on time', () => {
  const f = readyFleet(2);
  f.clock.t += 1000;
  f.state.disconnected('node-2');
  const gone = f.clock.t;
  f.clock.t += 5000;
  f.state.results(roundFor(f.inv, 'node-1', 1)); // node-1 goes on probing
  const s1 = f.state.snapshot();
  assert.equal(s1.verdict, 'pending');
  f.clock.t = gone + 10_000;
  f.beat('node-1');
  assert.equal(f.state.snapshot(), s1);
  f.clock.t += 1;
  const s2 = f.state.snapshot();
  assert.equal(s2.verdict, 'not-ready');
  assert.deepEqual(
    s2.findings.map((x) => [x.kind, x.nodes]),
    [['agent-missing', ['node-2']]],
  );
  f.state.close();
});

test('while agents still connect a changed snapshot may be twice as old; once all are in, the usual age', () => {
  const inv = synthInventory(4, ['internal']);
  const clock = { t: 1_000_000 };
  const state = new AggregatorState({ inventory: inv, profile: builtinProfile('demo'), now: () => clock.t });
  const maxAge = 1000;
  state.hello(helloFor(inv, 'node-1'));
  const s1 = state.snapshot(maxAge);
  assert.deepEqual(s1.waiting.connect, ['node-2', 'node-3', 'node-4']);
  clock.t += 1500;
  state.hello(helloFor(inv, 'node-2'));
  assert.equal(state.snapshot(maxAge), s1, '1.5 s old while agents connect: still served (the verdict is pending anyway)');
  clock.t += 600;
  const s2 = state.snapshot(maxAge);
  assert.notEqual(s2, s1, 'past twice the age: rebuilt');
  assert.deepEqual(s2.waiting.connect, ['node-3', 'node-4']);
  for (const n of ['node-3', 'node-4']) state.hello(helloFor(inv, n));
  clock.t += 2100;
  const s3 = state.snapshot(maxAge);
  assert.deepEqual(s3.waiting.connect, []);
  clock.t += 500;
  for (const n of ['node-1', 'node-2', 'node-3', 'node-4']) state.results(roundFor(inv, n, 0));
  clock.t += 600;
  const s4 = state.snapshot(maxAge);
  assert.notEqual(s4, s3, 'nobody left to connect: a change is rebuilt after the usual age');
  assert.equal(s4.verdict, 'ready');
  state.close();
});

test("a new report reuses an unchanged node's entry (its JSON written once) and builds a changed node's anew", () => {
  const f = readyFleet(3);
  const r1 = f.state.report('none');
  f.clock.t += 1000;
  f.state.results(roundFor(f.inv, 'node-2', 1));
  const r2 = f.state.report('none');
  assert.notEqual(r2, r1);
  const entry = (r: typeof r1, n: string) => r.nodes.find((x) => x.name === n)!;
  assert.equal(entry(r2, 'node-1'), entry(r1, 'node-1'), 'node-1 is unchanged: the same entry');
  assert.equal(entry(r2, 'node-3'), entry(r1, 'node-3'));
  assert.notEqual(entry(r2, 'node-2'), entry(r1, 'node-2'), "node-2's round changed its entry");
  assert.equal(entry(r2, 'node-2').rounds, entry(r1, 'node-2').rounds + 1);
  // A clock reading changes only that node's entry; the report's bytes say what its objects say.
  f.clock.t += 500;
  f.beat('node-3', { offsetMs: 7, rttMs: 0.4 });
  const r3 = f.state.report('none');
  assert.notEqual(entry(r3, 'node-3'), entry(r2, 'node-3'));
  assert.equal(entry(r3, 'node-3').clockOffsetMs, 7);
  assert.equal(entry(r3, 'node-1'), entry(r1, 'node-1'));
  for (const r of [r1, r2, r3]) assert.deepEqual(JSON.parse(reportBody(r).toString()), JSON.parse(JSON.stringify(r)));
  f.state.close();
});

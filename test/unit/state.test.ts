// The aggregator's state with a fake clock: when the verdict waits, and when an absent agent is a fault.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HelloMsg, ResultsMsg } from '../../agent/contract/wire.js';
import { splitResponders } from '../../agent/contract/listening.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { AggregatorState } from '../../aggregator/state.js';
import { helloFor, roundFor, synthInventory } from '../metrics/synth.js';
import { packRows, unpackRows, type PackedRows } from '../../agent/contract/wire-packed.js';

/** A packed table cut down to the rows toward one peer. */
const only = (p: PackedRows, peer: string) => packRows(unpackRows(p).filter((r) => r.peer === peer));

const demoProfile = builtinProfile('demo');

/** A manual clock: timers run only when advance() moves time past them, in the order they are due. */
function manualClock(start: number) {
  let id = 0;
  const timers = new Map<number, { at: number; cb: () => void }>();
  const clock = {
    t: start,
    now: () => clock.t,
    setTimeout: (cb: () => void, ms: number): unknown => {
      timers.set(++id, { at: clock.t + ms, cb });
      return id;
    },
    clearTimeout: (h: unknown) => void timers.delete(h as number),
    /** Moves time on by ms, running each timer that falls due on the way. */
    advance(ms: number): void {
      const end = clock.t + ms;
      for (;;) {
        const due = [...timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        clock.t = Math.max(clock.t, due[1].at);
        due[1].cb();
      }
      clock.t = end;
    },
  };
  return clock;
}

function fleet(n: number, opts: { manualTimers?: boolean } = {}) {
  const inv = synthInventory(n, ['internal']);
  const clock = manualClock(1_000_000);
  const state = new AggregatorState({ inventory: inv, profile: demoProfile, now: () => clock.t, ...(opts.manualTimers ? { clock } : {}) });
  const hello = (node: string): HelloMsg => helloFor(inv, node);
  const round = (node: string, r = 0): ResultsMsg => roundFor(inv, node, r);
  return { inv, clock, state, hello, round };
}

test('the verdict waits for agents during the grace, then an absent agent makes it not-ready', () => {
  const f = fleet(3);
  f.state.hello(f.hello('node-1'));
  f.state.hello(f.hello('node-2'));
  f.clock.t += 1000;
  f.state.results(f.round('node-1'));
  f.state.results(f.round('node-2'));
  assert.equal(f.state.snapshot().verdict, 'pending');
  assert.match(f.state.report('none').summary, /^pending: 2\/3 nodes reporting; waiting for 1 agent\(s\) to connect \(node-3\)$/);
  // demo profile: grace = max(3 x 3 s + 0.5 s, 10 s) = 10 s from the aggregator's start
  f.clock.t += 9500;
  f.state.heartbeat({ v: 3, type: 'heartbeat', node: 'node-1', at: f.clock.t });
  f.state.heartbeat({ v: 3, type: 'heartbeat', node: 'node-2', at: f.clock.t });
  const s = f.state.snapshot();
  assert.equal(s.verdict, 'not-ready');
  assert.deepEqual(
    s.findings.map((x) => [x.kind, x.nodes]),
    [['agent-missing', ['node-3']]],
  );
  f.state.close();
});

test('a pending summary names the agents whose first round is not in yet', () => {
  const f = fleet(3);
  for (const n of ['node-1', 'node-2', 'node-3']) f.state.hello(f.hello(n));
  f.clock.t += 1000;
  f.state.results(f.round('node-1'));
  assert.equal(f.state.report('none').summary, 'pending: 3/3 nodes reporting; waiting for the first round of node-2, node-3');
  f.state.close();
});

test('an agent that disconnects is waited for again for the grace, counted from its disconnection', () => {
  const f = fleet(2);
  for (const n of ['node-1', 'node-2']) f.state.hello(f.hello(n));
  f.clock.t += 1000;
  for (const n of ['node-1', 'node-2']) f.state.results(f.round(n));
  assert.equal(f.state.snapshot().verdict, 'ready');
  f.clock.t += 60_000;
  f.state.results(f.round('node-1', 1));
  f.state.disconnected('node-2');
  assert.equal(f.state.snapshot().verdict, 'pending');
  f.clock.t += 11_000;
  f.state.heartbeat({ v: 3, type: 'heartbeat', node: 'node-1', at: f.clock.t });
  assert.equal(f.state.snapshot().verdict, 'not-ready');
  f.state.close();
});

test('a node whose rounds outlast the interval is not stalled; one whose rounds stop while heartbeats go on is, and the verdict says so', () => {
  const f = fleet(2);
  for (const n of ['node-1', 'node-2']) f.state.hello(f.hello(n));
  f.clock.t += 1000;
  const slow = { ...f.round('node-1'), durationMs: 20_000 };
  f.state.results(slow);
  f.state.results(f.round('node-2'));
  f.clock.t += 15_000; // past 3 x interval + timeout (9.5 s), within 3 x its 20 s rounds
  for (const n of ['node-1', 'node-2']) f.state.heartbeat({ v: 3, type: 'heartbeat', node: n, at: f.clock.t });
  let s = f.state.snapshot();
  assert.equal(s.nodes.find((n) => n.record.name === 'node-1')!.state, 'reporting');
  assert.equal(s.nodes.find((n) => n.record.name === 'node-2')!.state, 'stalled');
  assert.equal(s.verdict, 'not-ready');
  assert.deepEqual(
    s.findings.map((x) => x.kind),
    ['agent-stalled'],
  );
  f.clock.t += 60_000;
  for (const n of ['node-1', 'node-2']) f.state.heartbeat({ v: 3, type: 'heartbeat', node: n, at: f.clock.t });
  s = f.state.snapshot();
  assert.equal(s.nodes.find((n) => n.record.name === 'node-1')!.state, 'stalled');
  // Heartbeats stop too (a SIGSTOPped agent): stale, one finding, nothing about its ports.
  f.clock.t += 20_000;
  s = f.state.snapshot();
  assert.deepEqual(
    s.nodes.map((n) => n.state),
    ['stale', 'stale'],
  );
  assert.deepEqual(
    s.findings.map((x) => [x.kind, x.nodes]),
    [['agent-stale', ['node-1', 'node-2']]],
  );
  f.state.close();
});

test('agents that join together are named in one targeted run-now once their responders are open; the API still asks for full rounds', async () => {
  const f = fleet(4);
  const asked: (string[] | undefined)[] = [];
  f.state.on('run-now', (peers: string[] | undefined) => asked.push(peers));
  const listening = (node: string): HelloMsg => {
    const h = f.hello(node);
    return { ...h, responders: [{ binding: 'internal', address: h.interfaces[0]!.address, proto: 'tcp', port: 5000, state: 'listening' }] };
  };
  // First hellos come before the agents have the plan: nothing listens yet, so nobody is asked to probe them.
  for (const n of ['node-1', 'node-2', 'node-3']) f.state.hello(f.hello(n));
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(asked, [], 'no catch-up toward agents whose responders are not open yet');
  assert.equal(f.state.snapshot().verdict, 'pending');
  // Their hellos after applying the plan: one run-now for those that came together.
  f.state.hello(listening('node-1'));
  await new Promise((r) => setTimeout(r, 50));
  f.state.hello(listening('node-2'));
  assert.deepEqual(asked, [], 'debounced while agents keep joining');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(asked, [['node-1', 'node-2']]);
  // An agent told to answer on no port says hello again with none: that second hello is its go.
  f.state.hello(f.hello('node-3'));
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(asked.at(-1), ['node-3']);
  f.state.hello(listening('node-2')); // the same hello again (e.g. after a DNS refresh): nothing to catch up
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(asked.length, 2);
  // Its responders changed: its cells need probing again.
  f.state.hello(f.hello('node-1'));
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(asked.at(-1), ['node-1']);
  // A reconnecting agent already has its responders open in its first hello: caught up at once.
  f.state.disconnected('node-2');
  f.state.hello(listening('node-2'));
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(asked.at(-1), ['node-2']);
  assert.equal(f.state.requestRound(), 3);
  assert.equal(asked.at(-1), undefined);
  assert.equal(asked.length, 5);
  f.state.close();
});

test('a catch-up updates the peers it names but is not a round: the verdict still waits for a full one', () => {
  const f = fleet(3);
  for (const n of ['node-1', 'node-2', 'node-3']) f.state.hello(f.hello(n));
  f.clock.t += 1000;
  f.state.results(f.round('node-1'));
  f.state.results(f.round('node-2'));
  // node-3 has only sent a catch-up about node-1 so far.
  const full = f.round('node-3');
  const onlyNode1 = Object.fromEntries(Object.entries(full.bindings).map(([b, rows]) => [b, only(rows, 'node-1')]));
  const before = f.state.report('states').bindings[0]!.matrix!.states[2]!;
  assert.ok(!before.startsWith('o'), `node-3 -> node-1 before the catch-up: ${before}`);
  f.state.results({ ...full, durationMs: 5, catchUp: true, bindings: onlyNode1 });
  const rec = f.state.nodes.get('node-3')!;
  assert.equal(rec.fullRounds, 0);
  assert.equal(rec.lastDurationMs, 0);
  assert.equal(f.state.snapshot().verdict, 'pending');
  assert.ok(f.state.report('states').bindings[0]!.matrix!.states[2]!.startsWith('o'), 'node-3 -> node-1 cell filled by the catch-up');
  f.state.results(full);
  assert.equal(rec.fullRounds, 1);
  assert.equal(f.state.snapshot().verdict, 'ready');
  f.state.close();
});

test('what the others measured toward a node before its agent came up does not count: pending until they probe it again', () => {
  const f = fleet(3);
  f.state.hello(f.hello('node-1'));
  f.state.hello(f.hello('node-2'));
  f.clock.t += 1000;
  // node-3's agent is not up: its ports are refused.
  const refusedTo3 = (_b: string, _from: string, to: string) => (to === 'node-3' ? ('port' as const) : undefined);
  f.state.results(roundFor(f.inv, 'node-1', 0, refusedTo3));
  f.state.results(roundFor(f.inv, 'node-2', 0, refusedTo3));
  f.clock.t += 1000;
  f.state.hello(f.hello('node-3'));
  f.clock.t += 1000;
  f.state.results(f.round('node-3'));
  let s = f.state.snapshot();
  assert.equal(s.verdict, 'pending', 'the refused rows are from before node-3 came up');
  assert.equal(s.waitingFor, 1);
  assert.deepEqual(s.waiting, { connect: [], firstRound: [], remeasure: ['node-3'], heard: [] });
  // The operator reads what the verdict waits for, not the refused ports it is about to clear.
  assert.equal(f.state.report('none').summary, 'pending: 3/3 nodes reporting; waiting for new measurements toward node-3, which came up since');
  assert.deepEqual(f.state.report('none').waiting, s.waiting);
  const towards3 = (from: string) => {
    const full = f.round(from, 1);
    return {
      ...full,
      catchUp: true,
      durationMs: 5,
      bindings: Object.fromEntries(Object.entries(full.bindings).map(([b, rows]) => [b, only(rows, 'node-3')])),
    };
  };
  f.state.results(towards3('node-1'));
  assert.equal(f.state.snapshot().verdict, 'pending', 'node-2 has not probed node-3 since');
  f.state.results(towards3('node-2'));
  s = f.state.snapshot();
  assert.equal(s.verdict, 'ready');
  assert.deepEqual(s.findings, []);
  assert.equal(f.state.report('none').waiting, undefined, 'only a pending report says what it waits for');
  f.state.close();
});

test('a real fault toward a node that came up is still found once it is measured again', () => {
  const f = fleet(3);
  f.state.hello(f.hello('node-1'));
  f.state.hello(f.hello('node-3'));
  f.clock.t += 1000;
  f.state.hello(f.hello('node-2'));
  f.clock.t += 1000;
  const refusedTo2 = (_b: string, _from: string, to: string) => (to === 'node-2' ? ('port' as const) : undefined);
  for (const n of ['node-1', 'node-3']) f.state.results(roundFor(f.inv, n, 0, refusedTo2));
  f.state.results(f.round('node-2'));
  const s = f.state.snapshot();
  assert.equal(s.verdict, 'not-ready');
  assert.ok(
    s.findings.some((x) => x.kind === 'port-refused' && x.nodes.includes('node-2')),
    JSON.stringify(s.findings.map((x) => [x.kind, x.nodes])),
  );
  f.state.close();
});

test('a round is dated by its start on the agent (with the clock offset), not by when its message got through', () => {
  const f = fleet(3);
  for (const n of ['node-1', 'node-3']) f.state.hello(f.hello(n));
  // node-1's clock runs 2 s ahead of ours.
  f.state.heartbeat({ v: 3, type: 'heartbeat', node: 'node-1', at: f.clock.t + 2000, clock: { offsetMs: 2000, rttMs: 1 } });
  const begun = f.clock.t + 500; // our clock
  f.clock.t += 1000;
  f.state.hello(f.hello('node-2')); // node-2's responders come up after node-1's round began
  f.clock.t += 4000; // ... and node-1's results arrive late, from a busy machine
  const refusedTo2 = (_b: string, _from: string, to: string) => (to === 'node-2' ? ('port' as const) : undefined);
  const late = { ...roundFor(f.inv, 'node-1', 0, refusedTo2), durationMs: 100, startedAt: begun + 2000 };
  f.state.results(late);
  f.state.results(f.round('node-2'));
  f.state.results(f.round('node-3'));
  let s = f.state.snapshot();
  assert.equal(s.verdict, 'pending', 'node-1 -> node-2 was measured before node-2 came up: held back');
  assert.ok(!s.findings.some((x) => x.kind === 'port-refused'), JSON.stringify(s.findings.map((x) => x.kind)));
  // Dated by arrival it would have counted: the same message without startedAt is taken as current.
  const { startedAt: _, ...undated } = late;
  f.state.results(undated);
  s = f.state.snapshot();
  assert.ok(
    s.findings.some((x) => x.kind === 'port-refused' && x.nodes.includes('node-2')),
    JSON.stringify(s.findings.map((x) => [x.kind, x.nodes])),
  );
  f.state.close();
});

test('a catch-up counts from the run-now it answers, even when the clock offset estimate would date it earlier', async () => {
  const f = fleet(3);
  const asked: [string[] | undefined, number | undefined][] = [];
  f.state.on('run-now', (peers: string[] | undefined, at: number | undefined) => asked.push([peers, at]));
  for (const n of ['node-1', 'node-3']) f.state.hello(f.hello(n));
  // node-1's offset estimate is 1.5 s off (a starved clock exchange): its agent clock reads 1.5 s behind what
  // the estimate assumes, so its start times look 1.5 s early to us.
  f.state.heartbeat({ v: 3, type: 'heartbeat', node: 'node-1', at: f.clock.t, clock: { offsetMs: 1500, rttMs: 3000 } });
  f.clock.t += 1000;
  for (const n of ['node-1', 'node-3']) f.state.results(f.round(n));
  f.clock.t += 1000;
  const h2 = f.hello('node-2');
  f.state.hello(h2);
  f.state.hello({ ...h2, responders: [{ binding: 'internal', address: h2.interfaces[0]!.address, proto: 'tcp', port: 5000, state: 'listening' }] });
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(asked, [[['node-2'], f.clock.t]], 'the run-now carries when it was asked');
  f.state.results(f.round('node-2'));
  f.clock.t += 50; // node-1 starts its catch-up 50 ms after the request, by its own clock
  const towards2 = (from: string, extra: object) => {
    const full = f.round(from, 1);
    return {
      ...full,
      ...extra,
      catchUp: true,
      durationMs: 5,
      bindings: Object.fromEntries(Object.entries(full.bindings).map(([b, rows]) => [b, only(rows, 'node-2')])),
    };
  };
  f.state.results(towards2('node-3', { requestedAt: asked[0]![1] }));
  const skewed = towards2('node-1', { startedAt: f.clock.t }); // minus the 1.5 s offset: before node-2 came up
  f.state.results(skewed);
  assert.equal(f.state.snapshot().verdict, 'pending', 'dated by the skewed clock alone it is held back');
  f.state.results({ ...skewed, requestedAt: asked[0]![1] });
  assert.deepEqual(f.state.snapshot().waiting, { connect: [], firstRound: [], remeasure: [], heard: [] });
  assert.equal(f.state.snapshot().verdict, 'ready');
  f.state.close();
});

test('a joining agent is told which peers are up: connected, with their responders open', () => {
  const f = fleet(4);
  const h1 = f.hello('node-1');
  f.state.hello(h1);
  f.state.hello({ ...h1, responders: [{ binding: 'internal', address: h1.interfaces[0]!.address, proto: 'tcp', port: 5000, state: 'listening' }] });
  f.state.hello(f.hello('node-2')); // has not applied the plan yet
  for (const n of ['node-3']) {
    f.state.hello(f.hello(n));
    f.state.hello(f.hello(n)); // its hello after the plan (it answers on no port)
  }
  assert.deepEqual(f.state.upNodes('node-4'), ['node-1', 'node-3']);
  assert.deepEqual(f.state.upNodes('node-1'), ['node-3']);
  f.state.disconnected('node-3');
  assert.deepEqual(f.state.upNodes('node-4'), ['node-1']);
  f.state.close();
});

test("a hello's responders: kept as the ones that could not listen plus one string; other responders re-announce the node", () => {
  const f = fleet(2);
  const address = f.hello('node-1').interfaces[0]!.address;
  const r = (port: number, state: 'listening' | 'in-use' | 'denied') => ({ binding: 'internal', address, proto: 'tcp' as const, port, state });
  const responders = [r(5000, 'listening'), r(3306, 'in-use'), r(6800, 'listening')];
  f.state.hello({ ...f.hello('node-1'), responders });
  const rec = f.state.nodes.get('node-1')!;
  assert.deepEqual(rec.hello!.responders, [r(3306, 'in-use')], 'only what findings and the report read');
  assert.equal(rec.respondersKey, JSON.stringify(responders));
  const ready = rec.readyAt;
  f.clock.t += 1000;
  f.state.hello({ ...f.hello('node-1'), responders: responders.map((x) => ({ ...x })), dns: [] });
  assert.equal(f.state.nodes.get('node-1')!.readyAt, ready, 'the same responders: not re-announced');
  f.clock.t += 1000;
  f.state.hello({ ...f.hello('node-1'), responders: [r(5000, 'listening'), r(3306, 'listening'), r(6800, 'denied')] });
  assert.equal(f.state.nodes.get('node-1')!.readyAt, f.clock.t, 'other responders: re-announced');
  assert.deepEqual(f.state.report('none').nodes.find((n) => n.name === 'node-1')!.responderProblems, [r(6800, 'denied')]);
  f.state.close();
});

test('a hello with its listening responders grouped (as agents send it): the same rules as the long form', () => {
  const f = fleet(2);
  const address = f.hello('node-1').interfaces[0]!.address;
  const r = (port: number, state: 'listening' | 'in-use' | 'denied') => ({ binding: 'internal', address, proto: 'tcp' as const, port, state });
  const grouped = (list: ReturnType<typeof r>[]) => ({ ...f.hello('node-1'), ...splitResponders(list) });
  // Before the plan: no responders in either form, so the node waits for the hello that opens them.
  f.state.hello(grouped([]));
  f.clock.t += 1000;
  f.state.hello(grouped([r(5000, 'listening'), r(3306, 'in-use'), r(6800, 'listening')]));
  const rec = f.state.nodes.get('node-1')!;
  assert.equal(rec.readyAt, f.clock.t, 'the hello that opened them announced the node');
  assert.deepEqual(rec.hello!.responders, [r(3306, 'in-use')]);
  assert.equal(rec.hello!.listening, undefined, 'the groups are kept only as the key');
  const ready = rec.readyAt;
  f.clock.t += 1000;
  f.state.hello(grouped([r(5000, 'listening'), r(3306, 'in-use'), r(6800, 'listening')]));
  assert.equal(f.state.nodes.get('node-1')!.readyAt, ready, 'the same responders: not re-announced');
  f.clock.t += 1000;
  f.state.hello(grouped([r(5000, 'listening'), r(3306, 'listening'), r(6800, 'listening')]));
  assert.equal(f.state.nodes.get('node-1')!.readyAt, f.clock.t, 'a port that listens now: re-announced');
  assert.deepEqual(f.state.report('none').nodes.find((n) => n.name === 'node-1')!.responderProblems, []);
  f.state.close();
});

test('a hello that only adds DNS results keeps the catch-up asked for before it (first verdict waits no round)', () => {
  const f = fleet(2, { manualTimers: true });
  const runNows: (number | undefined)[] = [];
  f.state.on('run-now', (_peers: string[] | undefined, at: number | undefined) => runNows.push(at));
  const withResponders = (node: string): HelloMsg => ({
    ...f.hello(node),
    responders: [{ binding: 'internal', address: f.hello(node).interfaces[0]!.address, proto: 'tcp', port: 5000, state: 'listening' }],
  });
  for (const n of ['node-1', 'node-2']) f.state.hello(withResponders(n));
  f.clock.t += 1000;
  for (const n of ['node-1', 'node-2']) f.state.results(f.round(n));
  assert.equal(f.state.snapshot().verdict, 'ready');
  // node-2's agent restarts: its first hello with responders open asks node-1 for a catch-up...
  f.state.disconnected('node-2');
  f.clock.t += 100;
  f.state.hello(withResponders('node-2'));
  f.clock.advance(1000); // the catch-up debounce (100 ms) runs on the state's clock
  f.state.heartbeat({ v: 3, type: 'heartbeat', node: 'node-1', at: f.clock.t });
  const at = runNows.at(-1);
  assert.equal(typeof at, 'number', 'a targeted run-now was asked for');
  // ...then its DNS lookups finish and it says hello again with the same responders, after the run-now went out.
  f.clock.t += 200;
  f.state.hello({ ...withResponders('node-2'), dns: [{ kind: 'hostname', query: 'node-2', names: [], addresses: [], ok: true }] });
  f.clock.t += 800; // the catch-up (begun at the run-now) took the probe timeout, 1 s
  f.state.results({ ...f.round('node-1', 1), catchUp: true, requestedAt: at, durationMs: 1000 });
  f.state.results(f.round('node-2', 0));
  assert.equal(f.state.snapshot().verdict, 'ready', f.state.report('none').summary);
  f.state.close();
});

test('a live reload keeps when each node came up: rows from a round begun before a peer came up stay set aside', () => {
  const f = fleet(3);
  for (const n of ['node-1', 'node-3']) f.state.hello(f.hello(n));
  const t0 = f.clock.t;
  f.clock.t += 1000;
  f.state.hello(f.hello('node-2')); // node-2's responders come up 1 s after node-1's round below began
  const refusedTo2 = (_b: string, _from: string, to: string) => (to === 'node-2' ? ('port' as const) : undefined);
  // The same nodes with a fourth added: every record (and its ready time) is carried over, the matrices are new.
  const grown = synthInventory(4, ['internal']);
  f.state.reload(grown, demoProfile);
  f.clock.t += 4000;
  const refused = (s: ReturnType<typeof f.state.snapshot>) => s.findings.some((x) => x.kind === 'port-refused' && x.nodes.includes('node-2'));
  // Begun at t0 + 500 (received at t0 + 5000 after 4.5 s of probing): before node-2 came up, so not held against it.
  f.state.results({ ...roundFor(grown, 'node-1', 0, refusedTo2), durationMs: 4500 });
  for (const n of ['node-2', 'node-3']) f.state.results(roundFor(grown, n, 0));
  assert.ok(!refused(f.state.snapshot()), JSON.stringify(f.state.snapshot().findings.map((x) => [x.kind, x.nodes])));
  // Begun after it came up: the refusal counts.
  f.clock.t += 1000;
  f.state.results({ ...roundFor(grown, 'node-1', 1, refusedTo2), durationMs: 100 });
  for (const n of ['node-2', 'node-3']) f.state.results(roundFor(grown, n, 1));
  assert.ok(refused(f.state.snapshot()), JSON.stringify(f.state.snapshot().findings.map((x) => [x.kind, x.nodes])));
  assert.equal(f.state.nodes.get('node-2')!.readyAt, t0 + 1000);
  f.state.close();
});

// The aggregator's state under a pinglist (6 nodes, 2 peers a round: K = 3), fed windows as agents send them:
// coverage and the summary say how far the rotation got, the verdict is pending until every pair is covered
// but a fault is reported at once, a fleet starting asks for no catch-up (one agent restarting later does),
// and rows toward a peer that is not up do not count.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ResultsMsg } from '../../agent/contract/wire.js';
import { packRows, unpackRows } from '../../agent/contract/wire-packed.js';
import { pinglistPeers } from '../../agent/pinglist.js';
import { parseProfile } from '../../aggregator/profile.js';
import { AggregatorState } from '../../aggregator/state.js';
import { helloFor, roundFor, synthInventory, type FaultFn } from '../metrics/synth.js';

const profile = parseProfile('name: t\nextends: demo\npinglist: {above: 4, per_round: 2}\n', 't.yaml', { read: (f) => readFileSync(f, 'utf8') });

function fleet() {
  const inv = synthInventory(6, ['internal']);
  const names = inv.nodes.map((n) => n.name);
  const clock = { t: 1_000_000 };
  const state = new AggregatorState({ inventory: inv, profile, now: () => clock.t });
  const runNows: unknown[] = [];
  state.on('run-now', (peers) => runNows.push(peers));
  /** node's round `r`: only the rows of its pinglist window, as the agent sends them. */
  const window = (node: string, r: number, fault?: FaultFn): ResultsMsg => {
    const msg = roundFor(inv, node, r, fault);
    const want = new Set(pinglistPeers(node, names, r, 2));
    return { ...msg, bindings: { internal: packRows(unpackRows(msg.bindings.internal!).filter((x) => want.has(x.peer))) } };
  };
  return { inv, names, clock, state, runNows, window };
}

test('pinglist: coverage rises round by round to every pair in K rounds; pending says so; then ready; then restarts', async () => {
  const f = fleet();
  assert.deepEqual(f.state.pinglist, { perRound: 2, rounds: 3 });
  // Each agent's first hello comes before its plan, the second with its responders open.
  for (const n of f.names) f.state.hello(helloFor(f.inv, n));
  for (const n of f.names) f.state.hello(helloFor(f.inv, n));
  const want = [12 / 30, 24 / 30, 1];
  for (let r = 0; r < 3; r++) {
    f.clock.t += 1000;
    for (const n of f.names) f.state.results(f.window(n, r));
    const s = f.state.snapshot();
    const report = f.state.report('none');
    assert.equal(s.coverage.get('internal')!.ratio, want[r], `round ${r}`);
    assert.equal(report.bindings[0]!.coverage!.covered, want[r]! * 30);
    if (r < 2) {
      assert.equal(s.verdict, 'pending');
      assert.equal(
        report.summary,
        `pending: 6/6 nodes reporting; waiting for coverage ${Math.floor(want[r]! * 100)}% of pairs (pinglist: full coverage every 3 rounds)`,
      );
    } else assert.equal(s.verdict, 'ready', report.summary);
  }
  assert.deepEqual(f.state.report('none').pinglist, { perRound: 2, rounds: 3 });
  await new Promise((r) => setTimeout(r, 600)); // the join debounce (at most 500 ms) has run out
  assert.deepEqual(f.runNows, [], 'no catch-up run-now for the joins of a fleet starting');
  // Covered once: one agent restarting is caught up by the others at once, not left to the rotation.
  f.state.disconnected('node-4');
  f.state.hello(helloFor(f.inv, 'node-4'));
  f.state.hello(helloFor(f.inv, 'node-4'));
  assert.ok(f.state.snapshot().coverage.get('internal')!.ratio < 1, 'its row and column are not current');
  await new Promise((r) => setTimeout(r, 600));
  assert.deepEqual(f.runNows, [['node-4']]);
  // More than perRound at once (a crowd) is left to the rotation.
  for (const n of ['node-1', 'node-2', 'node-3']) f.state.disconnected(n);
  for (const n of ['node-1', 'node-2', 'node-3']) f.state.hello(helloFor(f.inv, n));
  for (const n of ['node-1', 'node-2', 'node-3']) f.state.hello(helloFor(f.inv, n));
  await new Promise((r) => setTimeout(r, 600));
  assert.deepEqual(f.runNows, [['node-4']]);
  f.state.close();
});

test('pinglist: a fault is reported at once, before every pair is covered', () => {
  const f = fleet();
  for (const n of f.names) f.state.hello(helloFor(f.inv, n));
  for (const n of f.names) f.state.hello(helloFor(f.inv, n));
  f.clock.t += 1000;
  const victim = pinglistPeers('node-1', f.names, 0, 2)[0]!;
  for (const n of f.names) f.state.results(f.window(n, 0, (_b, from, to) => (from === 'node-1' && to === victim ? 'port' : undefined)));
  const s = f.state.snapshot();
  assert.equal(s.coverage.get('internal')!.ratio, 0.4);
  assert.equal(s.verdict, 'not-ready');
  assert.match(f.state.report('none').summary, /^not ready: 1 problem\(s\); .*; coverage 40% of pairs \(pinglist: full coverage every 3 rounds\)$/);
  f.state.close();
});

test('pinglist: rows toward a peer whose agent is not up (gone, or before its plan) do not count', () => {
  const f = fleet();
  for (const n of f.names) f.state.hello(helloFor(f.inv, n));
  for (const n of f.names.slice(0, 5)) f.state.hello(helloFor(f.inv, n)); // node-6 has not opened its responders
  f.clock.t += 1000;
  const all = roundFor(f.inv, 'node-1', 0, (_b, _f, to) => (to === 'node-6' ? 'port' : undefined));
  f.state.results(all);
  const m = f.state.matrices[0]!;
  assert.equal(m.cell('node-1', 'node-6')!.state, 'none', 'refused before its responders opened: not held against it');
  assert.equal(m.cell('node-1', 'node-2')!.state, 'ok');
  f.state.disconnected('node-2');
  f.clock.t += 1000;
  f.state.results(roundFor(f.inv, 'node-1', 1, (_b, _f, to) => (to === 'node-2' ? 'unreachable' : undefined)));
  assert.equal(m.cell('node-1', 'node-2')!.state, 'ok', 'its agent is gone: the last result is kept');
  assert.equal(f.state.snapshot().verdict, 'pending');
  f.state.close();
});

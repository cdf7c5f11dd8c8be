// Port results held back toward an agent not heard from since they began to fail (a stopped agent is not a
// firewall): without an error, the verdict waits for that agent's next word, once, and never reads ready while it
// hides them; with one, it is not-ready at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinProfile } from '../../aggregator/profile.js';
import { AggregatorState } from '../../aggregator/state.js';
import { helloFor, roundFor, synthInventory } from '../metrics/synth.js';

function fleet(n: number) {
  const inv = synthInventory(n, ['internal']);
  const clock = { t: 1_000_000 };
  const state = new AggregatorState({ inventory: inv, profile: builtinProfile('demo'), now: () => clock.t });
  return { inv, clock, state, hello: (node: string) => helloFor(inv, node), round: (node: string, r = 0) => roundFor(inv, node, r) };
}

test('a refused port stays a finding in every round, whatever order the two nodes report in', () => {
  // The hold-back for ports toward a node not heard from since the failure began must not come back each round:
  // a re-measured cell keeps the time its failure was first seen, so the verdict never flaps to ready.
  const f = fleet(3);
  for (const n of ['node-1', 'node-2', 'node-3']) f.state.hello(f.hello(n));
  const refusedTo2 = (_b: string, _from: string, to: string) => (to === 'node-2' ? ('port' as const) : undefined);
  const seen: string[] = [];
  for (let r = 0; r < 6; r++) {
    f.clock.t += 1000;
    // node-2 reports first, then node-1 and node-3 with a round that began after node-2 was last heard.
    f.state.results(f.round('node-2', r));
    f.clock.t += 1500;
    const startedAt = f.clock.t - 200;
    for (const n of ['node-1', 'node-3']) f.state.results({ ...roundFor(f.inv, n, r, refusedTo2), durationMs: 100, startedAt });
    const s = f.state.snapshot();
    seen.push(`${r}:${s.verdict}:${s.findings.some((x) => x.kind === 'port-refused' && x.nodes.includes('node-2'))}`);
    if (r === 0) {
      assert.deepEqual(s.waiting, { connect: [], firstRound: [], remeasure: [], heard: ['node-2'] });
      assert.match(f.state.report('none').summary, /waiting for word from node-2, whose ports began to fail after its agent was last heard$/);
    }
  }
  // Round 0: node-2 has not been heard since the failure was first measured, so it is held back (pending).
  assert.deepEqual(seen, ['0:pending:false', ...[1, 2, 3, 4, 5].map((r) => `${r}:not-ready:true`)]);
  f.state.close();
});

test('ports held back toward an agent that then goes stale: the verdict says stale, it does not wait for it', () => {
  const f = fleet(3);
  for (const n of ['node-1', 'node-2', 'node-3']) f.state.hello(f.hello(n));
  f.clock.t += 1000;
  const refusedTo2 = (_b: string, _from: string, to: string) => (to === 'node-2' ? ('port' as const) : undefined);
  f.state.results(f.round('node-2'));
  f.clock.t += 1500;
  for (const n of ['node-1', 'node-3']) f.state.results({ ...roundFor(f.inv, n, 0, refusedTo2), durationMs: 100, startedAt: f.clock.t - 200 });
  assert.equal(f.state.snapshot().verdict, 'pending');
  f.clock.t += 60_000; // node-2 says nothing more; the others keep reporting
  for (const n of ['node-1', 'node-3']) f.state.results({ ...roundFor(f.inv, n, 1, refusedTo2), durationMs: 100, startedAt: f.clock.t - 200 });
  const s = f.state.snapshot();
  assert.equal(s.verdict, 'not-ready');
  assert.deepEqual(s.waiting.heard, []);
  assert.ok(
    s.findings.some((x) => x.kind === 'agent-stale' && x.nodes.includes('node-2')),
    JSON.stringify(s.findings.map((x) => [x.kind, x.nodes])),
  );
  f.state.close();
});

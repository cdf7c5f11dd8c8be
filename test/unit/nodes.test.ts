// NodeTable's answer to "which of these peers have their agent connected", as the metrics tally asks it for every
// results table: cached per peer list, it must follow every connect, disconnect and reload (adopt) at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HelloMsg } from '../../agent/contract/wire.js';
import { NodeTable } from '../../aggregator/nodes.js';

const hello = (node: string) => ({ node }) as HelloMsg;
type Step = [what: string, act: (t: NodeTable) => void, want: number[]];

test('upOf follows connects, disconnects and a reload, for a peer list it has answered before', () => {
  let t = new NodeTable(['a', 'b', 'c'], 10_000);
  const peers = ['a', 'b', 'c', 'x']; // x: not in the inventory
  const steps: Step[] = [
    ['nobody yet', () => {}, [0, 0, 0, 0]],
    ['a and c connect', (t) => ['a', 'c'].forEach((n) => t.connected(n, hello(n), 1)), [1, 0, 1, 0]],
    ['a says hello again: no change', (t) => t.connected('a', hello('a'), 2), [1, 0, 1, 0]],
    ['c goes', (t) => t.disconnected('c', 3), [1, 0, 0, 0]],
    ['an unknown node connects', (t) => t.connected('x', hello('x'), 4), [1, 0, 0, 1]],
    ['c comes back, b arrives', (t) => ['c', 'b'].forEach((n) => t.connected(n, hello(n), 5)), [1, 1, 1, 1]],
    ['b goes', (t) => t.disconnected('b', 6), [1, 0, 1, 1]],
  ];
  for (const [what, act, want] of steps) {
    act(t);
    assert.deepEqual([...t.upOf(peers)], want, what);
    assert.equal(t.upOf(peers), t.upOf(peers), `${what}: the same answer until something moves`);
  }
  // A reload: a new table for the new inventory (c removed, d added) adopts the records still listed.
  const before = t;
  t = new NodeTable(['a', 'b', 'd'], 10_000);
  assert.deepEqual([...t.upOf(peers)], [0, 0, 0, 0], 'nothing adopted yet');
  for (const n of ['a', 'b', 'd']) {
    const r = before.get(n);
    if (r) t.adopt(r);
  }
  assert.deepEqual([...t.upOf(peers)], [1, 0, 0, 0], 'a kept its connection; b was away; c is gone with the inventory');
});

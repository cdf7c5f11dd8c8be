import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pinglistPeers, roundsToCover } from '../../agent/pinglist.js';

const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i + 1}`);

test('roundsToCover', () => {
  const cases: [number, number, number][] = [
    [0, 10, 1],
    [5, 10, 1],
    [10, 10, 1],
    [11, 10, 2],
    [999, 100, 10],
    [999, 0, 1],
  ];
  for (const [peers, per, want] of cases) assert.equal(roundsToCover(peers, per <= 0 ? peers : per), want, `${peers} peers, ${per} a round`);
});

test('every pair is covered within K consecutive rounds, from any starting round', () => {
  const cases: [number, number][] = [
    [2, 1],
    [7, 3],
    [20, 4],
    [101, 10],
    [250, 33],
    [1000, 100],
  ];
  for (const [n, per] of cases) {
    const all = names(n);
    const k = roundsToCover(n - 1, per);
    for (const from of [0, 1, k - 1, 17]) {
      for (const self of [all[0]!, all[n - 1]!, all[Math.floor(n / 2)]!]) {
        const seen = new Set<string>();
        for (let r = from; r < from + k; r++) {
          const list = pinglistPeers(self, all, r, per);
          assert.equal(list.length, Math.min(per, n - 1), `${n} nodes, ${per}/round: window size`);
          assert.ok(!list.includes(self), 'never probes itself');
          assert.equal(new Set(list).size, list.length, 'no peer twice in one round');
          for (const p of list) seen.add(p);
        }
        assert.equal(seen.size, n - 1, `${n} nodes, ${per}/round, ${self} from round ${from}: covered in ${k} rounds`);
      }
    }
  }
});

test('no limit, or a limit past the peer count, is every peer', () => {
  const all = names(5);
  assert.deepEqual(pinglistPeers('node-3', all, 4, 0), ['node-1', 'node-2', 'node-4', 'node-5']);
  assert.deepEqual(pinglistPeers('node-3', all, 4, 10), ['node-1', 'node-2', 'node-4', 'node-5']);
});

test('agents start at different offsets, so one peer is not probed by everyone at once', () => {
  const all = names(1000);
  const firsts = new Set(all.map((s) => pinglistPeers(s, all, 0, 100)[0]));
  assert.ok(firsts.size > 500, `${firsts.size} distinct first targets of 1000 agents`);
});

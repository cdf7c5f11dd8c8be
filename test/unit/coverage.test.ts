// Pinglist coverage (aggregator/coverage.ts), table-driven and pure; and the matrix keeping a pair's last
// result until the pair is measured again, which is what makes coverage add up over a pinglist's rounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TargetRow } from '../../agent/contract/wire.js';
import { packRows } from '../../agent/contract/wire-packed.js';
import { CoverageCache, coverageOf, coverageText, percentOf, reportRatio, totalCoverage, type Coverage } from '../../aggregator/coverage.js';
import { BindingMatrix } from '../../aggregator/matrix.js';

/** n x n cells from rows of '1'/'0' (the diagonal is ignored whatever it holds). */
const grid = (...rows: string[]) => Uint8Array.from(rows.join(''), (c) => (c === '1' ? 1 : 0));
const all = () => true;

const cases: [string, number, Uint8Array, (i: number) => boolean, Coverage][] = [
  ['nothing measured', 3, grid('000', '000', '000'), all, { covered: 0, pairs: 6, ratio: 0 }],
  ['every pair', 3, grid('011', '101', '110'), all, { covered: 6, pairs: 6, ratio: 1 }],
  ['the diagonal is no pair', 3, grid('100', '010', '001'), all, { covered: 0, pairs: 6, ratio: 0 }],
  ['half', 2, grid('01', '00'), all, { covered: 1, pairs: 2, ratio: 0.5 }],
  ['only members count: node 3 has no address on the binding', 3, grid('001', '100', '110'), (i) => i !== 2, { covered: 1, pairs: 2, ratio: 0.5 }],
  ['one member: no pair, fully covered', 3, grid('011', '101', '110'), (i) => i === 0, { covered: 0, pairs: 0, ratio: 1 }],
  ['no node', 0, grid(), all, { covered: 0, pairs: 0, ratio: 1 }],
  ['4 nodes, one row and one column', 4, grid('0111', '1000', '1000', '1000'), all, { covered: 6, pairs: 12, ratio: 0.5 }],
];
for (const [what, n, cells, member, want] of cases) test(`coverageOf: ${what}`, () => assert.deepEqual(coverageOf(n, cells, member), want));

test('totalCoverage adds pairs over bindings; no pair at all is full', () => {
  assert.deepEqual(
    totalCoverage([
      { covered: 1, pairs: 2, ratio: 0.5 },
      { covered: 6, pairs: 6, ratio: 1 },
    ]),
    { covered: 7, pairs: 8, ratio: 7 / 8 },
  );
  assert.deepEqual(totalCoverage([]), { covered: 0, pairs: 0, ratio: 1 });
});

test('percentages say 100% only when every pair is covered, and <1% rather than 0% for a start', () => {
  const c = (covered: number, pairs: number): Coverage => ({ covered, pairs, ratio: pairs ? covered / pairs : 1 });
  const texts: [Coverage, string, number][] = [
    [c(0, 10), '0%', 0],
    [c(43, 100), '43%', 0.43],
    [c(999_999, 1_000_000), '99%', 0.9999],
    [c(1, 999_000), '<1%', 0],
    [c(6, 6), '100%', 1],
    [c(0, 0), '100%', 1],
  ];
  for (const [cov, pct, ratio] of texts) {
    assert.equal(percentOf(cov), pct, `${cov.covered}/${cov.pairs}`);
    assert.equal(reportRatio(cov), ratio, `${cov.covered}/${cov.pairs} ratio`);
  }
  assert.equal(coverageText(c(43, 100), 10), 'coverage 43% of pairs (pinglist: full coverage every 10 rounds)');
  assert.equal(coverageText(c(43, 100), 1), 'coverage 43% of pairs (pinglist: full coverage every round)');
  assert.equal(coverageText(c(43, 100)), 'coverage 43% of pairs');
});

test("a pair's last result is kept until it is measured again; coverage adds up over rounds of different windows", () => {
  const row = (peer: string, recv: number): TargetRow => ({
    peer,
    addr: '198.18.0.1',
    icmp: { sent: 3, recv, rtt: recv ? [1, 1, 1, 1, 1] : null, outcome: recv ? 'ok' : 'filtered' },
  });
  const m = new BindingMatrix('internal', ['a', 'b', 'c', 'd']);
  const cov = () => coverageOf(m.n, m.currentCells(), all).covered;
  // Round 1 of a: its window is b, c (with c unreachable); round 2: d only.
  m.apply('a', packRows([row('b', 3), row('c', 0)]), 1000, () => 0);
  assert.equal(cov(), 2);
  m.apply('a', packRows([row('d', 3)]), 2000, () => 0);
  assert.equal(cov(), 3, 'the pairs of round 1 still count');
  assert.equal(m.cell('a', 'c')!.state, 'unreachable', 'the fault of round 1 stays until c is measured again');
  assert.equal(m.cell('a', 'b')!.updatedAt, 1000, 'round 1 result kept, with its time');
  m.apply('a', packRows([row('c', 3)]), 3000, () => 0);
  assert.equal(m.cell('a', 'c')!.state, 'ok', 'measured again: replaced');
  // c re-announces: the others' results toward it are kept but no longer current.
  m.expireColumn('c');
  assert.equal(cov(), 2);
  assert.equal(m.cell('a', 'c')!.state, 'ok');
});

test('the cache recounts only changed rows, and always agrees with a full count', () => {
  // A seeded walk of everything that moves currency: rows taken, unchanged peers, a column expired by a hello,
  // a row cleared, who is a member changing. After each step the cache must say what a full count says.
  let seed = 7;
  const rand = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), (seed >>> 16) % k); // the high bits: the low ones cycle
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  const m = new BindingMatrix('internal', names);
  const cache = new CoverageCache();
  let outside = -1; // the node without an address on the binding, or -1
  const member = (i: number) => i !== outside;
  const row = (peer: string): TargetRow => ({ peer, addr: '198.18.0.1', icmp: { sent: 3, recv: 3, rtt: [1, 1, 1, 1, 1], outcome: 'ok' } });
  let t = 1000;
  const kinds = new Set<number>();
  for (let step = 0; step < 400; step++) {
    const kind = rand(10);
    kinds.add(kind);
    const from = names[rand(names.length)]!;
    const peers = names.filter((p) => p !== from && rand(2) === 0);
    if (kind < 5) m.apply(from, packRows(peers.map(row)), (t += 1000), () => 0);
    else if (kind < 7) {
      const p = packRows(peers.map(row));
      m.applySame(from, { ...p, same: peers.map((_, i) => i) }, (t += 1000), () => 0, new Set());
    } else if (kind === 7) m.expireColumn(from);
    else if (kind === 8) m.clearRow(from);
    else outside = rand(3) === 0 ? -1 : rand(names.length);
    // Not asked after every step: a count must also catch up over several changes.
    if (rand(3) === 0) continue;
    const want = coverageOf(m.n, m.currentCells(), member);
    assert.deepEqual(cache.of(m, member), want, `step ${step} (kind ${kind})`);
    assert.equal(cache.of(m, member), cache.of(m, member), 'unchanged: the cached figure itself');
  }
  assert.equal(kinds.size, 10, 'every kind of step was taken');
  assert.ok(coverageOf(m.n, m.currentCells(), member).covered > 0, 'the walk left pairs covered');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BindingMatrix, classify } from '../../aggregator/matrix.js';
import type { TargetRow } from '../../agent/contract/wire.js';
import { packRows } from '../../agent/contract/wire-packed.js';

/** The matrix ingests packed tables (wire v2); the cases are written as rows. */
const apply = (m: BindingMatrix, from: string, rows: TargetRow[], roundStart: number, readyAt: (peer: string) => number) =>
  m.apply(from, packRows(rows), roundStart, readyAt);

const icmp = (sent: number, recv: number, outcome: 'ok' | 'filtered' | 'not-measured' | 'unreachable' = recv === sent ? 'ok' : 'filtered') => ({
  sent,
  recv,
  rtt: recv ? ([0.1, 0.2, 0.3, 0.2, 0.3] as [number, number, number, number, number]) : null,
  outcome,
});
const row = (r: Partial<TargetRow>): TargetRow => ({ peer: 'b', addr: '198.18.0.2', ...r });

const cases: [string, TargetRow[], string][] = [
  ['all fine', [row({ icmp: icmp(3, 3), tcp: { '22': 'ok' } })], 'ok'],
  ['all echoes lost, ports filtered', [row({ icmp: icmp(3, 0), tcp: { '22': 'filtered' } })], 'unreachable'],
  ['echoes lost but a port refuses: the path works', [row({ icmp: icmp(3, 0), tcp: { '22': 'refused' } })], 'port'],
  ['icmp fine, a port filtered', [row({ icmp: icmp(3, 3), tcp: { '22': 'ok', '3306': 'filtered' } })], 'port'],
  ['partial loss', [row({ icmp: icmp(3, 2) })], 'loss'],
  ['DF echo too big', [row({ icmp: icmp(3, 3), mtu: { size: 8980, outcome: 'filtered' } })], 'mtu'],
  ['udp echo lost', [row({ icmp: icmp(3, 3), udp: { '6081': 'filtered' } })], 'udp'],
  ['no CAP_NET_RAW and ports open: ok, never failed', [row({ icmp: icmp(0, 0, 'not-measured'), tcp: { '22': 'ok' } })], 'ok'],
  ['no CAP_NET_RAW and every port filtered', [row({ icmp: icmp(0, 0, 'not-measured'), tcp: { '22': 'filtered' } })], 'unreachable'],
  ['v4 fine, v6 dead: reachable with loss', [row({ icmp: icmp(3, 3) }), row({ addr: '2001:db8::2', icmp: icmp(3, 0) })], 'loss'],
];
for (const [what, rows, want] of cases) {
  test(`classify: ${what} -> ${want}`, () => assert.equal(classify(rows), want));
  test(`the matrix classifies the packed rows alike: ${what} -> ${want}`, () => {
    const m = new BindingMatrix('internal', ['a', 'b']);
    apply(m, 'a', rows, 10, () => 0);
    assert.equal(m.cell('a', 'b')!.state, want);
    // Detail (row objects, unpacked) only for a cell that is not ok, and equal to what was sent.
    assert.deepEqual(m.cell('a', 'b')!.rows, want === 'ok' ? undefined : rows);
  });
}

test('state counts are kept incrementally and always equal a count of the compact rows', () => {
  const nodes = ['a', 'b', 'c', 'd'];
  const m = new BindingMatrix('internal', nodes);
  const scan = () => {
    const chars = m.stateRows().join('');
    return {
      none: [...chars].filter((c) => c === '?').length,
      ok: [...chars].filter((c) => c === 'o').length,
      unreachable: [...chars].filter((c) => c === 'x').length,
    };
  };
  const check = (what: string) => {
    const c = m.counts();
    assert.deepEqual({ none: c.none, ok: c.ok, unreachable: c.unreachable }, scan(), what);
    assert.equal(c.self, 0);
    assert.equal(
      Object.values(c).reduce((a, b) => a + b, 0),
      12,
      `${what}: every cell but self counted once`,
    );
  };
  check('fresh');
  apply(m, 'a', [row({ peer: 'b', icmp: icmp(3, 3) }), row({ peer: 'c', icmp: icmp(3, 0) }), row({ peer: 'd', icmp: icmp(3, 3) })], 10, () => 0);
  check('after a round');
  assert.equal(m.counts().ok, 2);
  apply(m, 'a', [row({ peer: 'c', icmp: icmp(3, 3) })], 20, () => 0);
  check('after a repair');
  const m2 = new BindingMatrix('internal', nodes);
  m2.adopt(m, () => true);
  assert.deepEqual(m2.counts(), m.counts(), 'adopted cells carry their counts');
  m.clearRow('a');
  check('after clearRow');
  assert.equal(m.counts().ok, 0);
});

test('the matrix keeps details only for cells that are not ok, and compact rows show each state', () => {
  const m = new BindingMatrix('internal', ['a', 'b', 'c']);
  apply(m, 'a', [row({ peer: 'b', icmp: icmp(3, 3) }), row({ peer: 'c', icmp: icmp(3, 0) })], 10, () => 0);
  assert.deepEqual(m.stateRows(), ['-ox', '?-?', '??-']);
  assert.equal(m.cell('a', 'b')!.rows, undefined);
  assert.equal(m.cell('a', 'c')!.rows!.length, 1);
  assert.equal(m.cell('a', 'b')!.loss, 0);
  assert.ok(Math.abs(m.cell('a', 'b')!.rttAvg - 0.2) < 1e-6);
  assert.deepEqual(
    [...m.problems()].map((c) => `${c.from}->${c.to}:${c.state}`),
    ['a->c:unreachable'],
  );
  // repaired: the detail goes away
  apply(m, 'a', [row({ peer: 'c', icmp: icmp(3, 3) })], 20, () => 0);
  assert.deepEqual([...m.problems()], []);
  assert.equal(m.counts().ok, 2);
});

test('rows from a round older than the peer responders are held back, not blamed', () => {
  const m = new BindingMatrix('internal', ['a', 'b']);
  apply(m, 'a', [row({ peer: 'b', icmp: icmp(3, 3), tcp: { '22': 'refused' } })], 100_000, () => 150_000);
  assert.equal(m.cell('a', 'b')!.state, 'none');
  apply(m, 'a', [row({ peer: 'b', icmp: icmp(3, 3), tcp: { '22': 'refused' } })], 200_000, () => 150_000);
  assert.equal(m.cell('a', 'b')!.state, 'port');
  // the peer re-announces (responders changed): an older round's rows leave the cell as it was
  apply(m, 'a', [row({ peer: 'b', icmp: icmp(3, 0) })], 250_000, () => 300_000);
  assert.equal(m.cell('a', 'b')!.state, 'port');
});

test('unknown peers are returned for a warning and not stored; a departed agent row is cleared', () => {
  const m = new BindingMatrix('internal', ['a', 'b']);
  assert.deepEqual(
    apply(m, 'a', [row({ peer: 'zz' }), row({ peer: 'b', icmp: icmp(1, 1) })], 1, () => 0),
    ['zz'],
  );
  m.clearRow('a');
  assert.deepEqual(m.stateRows(), ['-?', '?-']);
});

test('a 1,000-node x 6-binding matrix costs about 100 MB (17 bytes a cell), not gigabytes', () => {
  const before = process.memoryUsage().arrayBuffers;
  const nodes = Array.from({ length: 1000 }, (_, i) => `n${i}`);
  const ms = Array.from({ length: 6 }, (_, b) => new BindingMatrix(`b${b}`, nodes));
  const used = process.memoryUsage().arrayBuffers - before;
  assert.ok(used < 6 * 1000 * 1000 * 18, `${used} bytes`);
  assert.equal(ms.length, 6);
});

test('cells toward a node are current only once measured after its column expired; clearRow un-currents a row', () => {
  const m = new BindingMatrix('internal', ['a', 'b', 'c']);
  const all = (_i: number): boolean => true;
  const waiting = (src = all, dst = all, member = all) => {
    const out = new Set<string>();
    m.notCurrent(src, dst, member, out);
    return [...out].sort();
  };
  assert.deepEqual(waiting(), ['a', 'b', 'c'], 'nothing measured yet');
  for (const from of ['a', 'b', 'c']) {
    const peers = ['a', 'b', 'c'].filter((p) => p !== from);
    apply(
      m,
      from,
      peers.map((peer) => row({ peer, icmp: icmp(3, 3) })),
      10,
      () => 0,
    );
  }
  assert.deepEqual(waiting(), []);
  m.expireColumn('b');
  assert.deepEqual(waiting(), ['b']);
  assert.deepEqual(
    waiting((i) => i !== 0 && i !== 2),
    [],
    'only sources that report are waited for',
  );
  assert.deepEqual(
    waiting(all, (i) => i !== 1),
    [],
    'nor destinations whose agent is down',
  );
  assert.deepEqual(
    waiting(all, all, (i) => i !== 1),
    [],
    'nor nodes without an address on the binding',
  );
  // A row from a round that began before b re-announced is held back: b stays not current.
  apply(m, 'a', [row({ peer: 'b', icmp: icmp(3, 3) })], 10, () => 20);
  assert.deepEqual(waiting(), ['b']);
  apply(m, 'a', [row({ peer: 'b', icmp: icmp(3, 3) })], 30, () => 20);
  apply(m, 'c', [row({ peer: 'b', icmp: icmp(3, 3) })], 30, () => 20);
  assert.deepEqual(waiting(), []);
  m.clearRow('c');
  assert.deepEqual(waiting(), ['a', 'b']);
});

test('expiring a column: a clean one is left alone (no recount), one with current cells is cleared once', () => {
  const m = new BindingMatrix('internal', ['a', 'b', 'c']);
  const v0 = m.currencyVersion;
  m.expireColumn('b');
  assert.equal(m.currencyVersion, v0, 'nothing in column b was current: coverage need not be recounted');
  apply(m, 'a', [row({ peer: 'b', icmp: icmp(3, 3) }), row({ peer: 'c', icmp: icmp(3, 3) })], 10, () => 0);
  const cur = () => [...m.currentCells()].map((x) => x & 1).join('');
  assert.equal(cur(), '011000000');
  const v1 = m.currencyVersion;
  m.expireColumn('b');
  assert.equal(cur(), '001000000', 'a -> b is no longer current; a -> c keeps its currency');
  assert.ok(m.currencyVersion > v1, 'a cleared bit moves the version');
  const v2 = m.currencyVersion;
  m.expireColumn('b');
  assert.equal(m.currencyVersion, v2, 'expiring it again changes nothing');
  apply(m, 'c', [row({ peer: 'b', icmp: icmp(3, 3) })], 20, () => 0);
  m.expireColumn('b');
  assert.equal(cur(), '001000000', 'c -> b, measured after the first expiry, is expired by the second');
});

test('stamps take 2 bytes a cell: exact within the span, and a pair not measured for longer reads as measured at the span start', () => {
  const m = new BindingMatrix('internal', ['a', 'b', 'c']);
  const s0 = 1_796_000_000;
  const at = (s: number) => (s0 + s) * 1000;
  const ok = (peer: string) => [row({ peer, icmp: icmp(3, 3) })];
  apply(m, 'a', ok('b'), at(0), () => 0);
  apply(m, 'b', ok('a'), at(30_000), () => 0);
  assert.equal(m.cell('a', 'b')!.updatedAt, at(0));
  assert.equal(m.cell('b', 'a')!.updatedAt, at(30_000));
  // 40,000 s after the first stamp is past the 2^16 s a Uint16 spans from the epoch: the epoch moves on.
  apply(m, 'c', ok('a'), at(40_000), () => 0);
  assert.equal(m.cell('c', 'a')!.updatedAt, at(40_000));
  assert.equal(m.cell('b', 'a')!.updatedAt, at(30_000), 'inside the new span: exact');
  assert.equal(m.cell('a', 'b')!.updatedAt, at(40_000 - 0x8000 + 1), 'older than the new span: its start');
  assert.equal(m.cell('a', 'c')!.updatedAt, 0, 'never measured');
  const next = new BindingMatrix('internal', ['c', 'b', 'a']);
  next.adopt(m, () => true);
  assert.deepEqual(
    [next.cell('b', 'a')!.updatedAt, next.cell('c', 'a')!.updatedAt, next.cell('a', 'c')!.updatedAt],
    [at(30_000), at(40_000), 0],
    'a reload keeps the stamps',
  );
});

test('report rows are kept per source row until a cell of it changes state, in both forms', () => {
  const m = new BindingMatrix('internal', ['a', 'b', 'c']);
  const runs = (r: string) => r.replace(/(.)\1+/g, (x, c: string) => `${c}${x.length}`);
  assert.deepEqual(m.stateRows(), ['-??', '?-?', '??-']);
  assert.deepEqual(m.encodedRows(runs), ['-?2', '?-?', '?2-']);
  apply(m, 'a', [row({ peer: 'b', icmp: icmp(3, 3) }), row({ peer: 'c', icmp: icmp(3, 3) })], 10, () => 0);
  assert.deepEqual(m.encodedRows(runs), ['-o2', '?-?', '?2-'], 'a changed row is encoded again');
  apply(m, 'a', [row({ peer: 'c', icmp: icmp(3, 0), tcp: { '22': 'filtered' } })], 20, () => 0);
  assert.deepEqual(m.stateRows(), ['-ox', '?-?', '??-']);
  assert.deepEqual(m.encodedRows(runs), ['-ox', '?-?', '?2-'], 'rebuilt by stateRows first, its encoding is not stale');
  apply(m, 'a', [row({ peer: 'b', icmp: icmp(3, 3) })], 30, () => 0);
  assert.deepEqual(m.encodedRows(runs), ['-ox', '?-?', '?2-'], 'a cell measured again in the same state');
  assert.deepEqual(
    m.encodedRows((r) => r.toUpperCase()),
    ['-OX', '?-?', '??-'],
    'another encoder starts afresh',
  );
});

test('a failing cell keeps when its state was first measured: through re-measurement and a reload, not a change', () => {
  const refused = [row({ icmp: icmp(3, 3), tcp: { '22': 'refused' } })];
  const udpLost = [row({ icmp: icmp(3, 3), udp: { '6081': 'filtered' } })];
  const m = new BindingMatrix('internal', ['a', 'b']);
  const since = (x: BindingMatrix) => x.cell('a', 'b')!.since;
  apply(m, 'a', refused, 1_000_000, () => 0);
  assert.equal(since(m), 1_000_000);
  apply(m, 'a', refused, 1_010_000, () => 0);
  assert.equal(m.cell('a', 'b')!.updatedAt, 1_010_000, 'measured again');
  assert.equal(since(m), 1_000_000, 'failing the same way since the first round');
  const reloaded = new BindingMatrix('internal', ['a', 'b', 'c']);
  reloaded.adopt(m, () => true);
  assert.equal(since(reloaded), 1_000_000, 'a live reload keeps it');
  apply(m, 'a', [row({ icmp: icmp(3, 3), tcp: { '22': 'filtered' } })], 1_015_000, () => 0);
  assert.equal(since(m), 1_000_000, 'refused then filtered: a port failure all along');
  apply(m, 'a', udpLost, 1_020_000, () => 0);
  assert.equal(since(m), 1_020_000, 'another state starts again');
  apply(m, 'a', [row({ icmp: icmp(3, 3), tcp: { '22': 'ok' } })], 1_030_000, () => 0);
  assert.equal(since(m), undefined, 'an ok cell keeps no rows and no since');
  apply(m, 'a', refused, 1_040_000, () => 0);
  assert.equal(since(m), 1_040_000, 'failing again counts from then');
  m.clearRow('a');
  assert.equal(since(m), undefined);
});

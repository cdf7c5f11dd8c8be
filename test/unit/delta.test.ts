// Delta rounds: the agent's memory of what it sent (agent/delta.ts), the messages that carry unchanged peers
// (agent/results-msg.ts), the aggregator's side (matrix.applySame, the tally) and the wire bounds on them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RowMemory } from '../../agent/delta.js';
import { resultsMessages } from '../../agent/results-msg.js';
import { decodeAgentMessage, encode, WIRE_VERSION, type ResultsMsg, type TargetRow } from '../../agent/contract/wire.js';
import { packedProblem, packRows } from '../../agent/contract/wire-packed.js';
import { emptyTally, TALLY_LENGTH, tallyAt, tallyPacked } from '../../agent/contract/tally.js';
import { BindingMatrix } from '../../aggregator/matrix.js';
import { ProbeTally } from '../../aggregator/metrics.js';

type Rtt = [number, number, number, number, number];
const row = (peer: string, addr: string, rtt = 0.2, extra: Partial<TargetRow> = {}): TargetRow => ({
  peer,
  addr,
  icmp: { sent: 3, recv: 3, rtt: [rtt, rtt, rtt, rtt, rtt] as Rtt, outcome: 'ok' },
  tcp: { '22': 'ok', '3306': 'ok' },
  ...extra,
});
const round = (over: Partial<Record<string, TargetRow>> = {}) => ({
  internal: ['b', 'c', 'd'].flatMap((p, i) => [over[`${p}4`] ?? row(p, `198.18.0.${i + 2}`), over[`${p}6`] ?? row(p, `2001:db8::${i + 2}`)]),
});

describe('RowMemory: a round sends only the peers whose rows changed', () => {
  const cases: [string, Partial<Record<string, TargetRow>>, string[]][] = [
    ['nothing changed', {}, []],
    ['RTT within 20% or 0.1 ms', { b4: row('b', '198.18.0.2', 0.28) }, []],
    ['RTT moved past both', { c6: row('c', '2001:db8::3', 0.9) }, ['c']],
    ['a port refused on one address', { d4: row('d', '198.18.0.4', 0.2, { tcp: { '22': 'ok', '3306': 'refused' } }) }, ['d']],
    ['an echo lost', { b6: { ...row('b', '2001:db8::2'), icmp: { sent: 3, recv: 2, rtt: [0.2, 0.2, 0.2, 0.2, 0.2], outcome: 'filtered' } } }, ['b']],
    ['a bandwidth sample is always news', { c4: row('c', '198.18.0.3', 0.2, { bandwidth: { mbps: 940, ms: 1000 } }) }, ['c']],
    ['an MTU outcome', { b4: row('b', '198.18.0.2', 0.2, { mtu: { size: 8972, outcome: 'too-big' } }) }, ['b']],
  ];
  for (const [what, over, changed] of cases)
    test(`${what} -> sent whole: [${changed.join(', ')}]`, () => {
      const m = new RowMemory();
      const first = m.split(round(), 1000);
      assert.equal(first.changed.internal!.length, 6, 'the first round goes whole');
      assert.deepEqual(first.same, {});
      const next = m.split(round(over), 2000);
      assert.deepEqual([...new Set(next.changed.internal!.map((r) => r.peer))], changed);
      // A changed peer goes with all its rows (the aggregator's cell is folded from all of them).
      assert.equal(next.changed.internal!.length, changed.length * 2);
      assert.deepEqual(
        next.same.internal?.peers ?? [],
        ['b', 'c', 'd'].filter((p) => !changed.includes(p)),
      );
    });

  test('"unchanged" compares with what was last sent, so a slow drift is sent once it adds up', () => {
    const m = new RowMemory();
    m.split(round(), 0);
    // 0.2 -> 0.28 -> 0.36 ms: each step within 0.1 ms of the one before, the second not of the one sent.
    assert.deepEqual(m.split(round({ b4: row('b', '198.18.0.2', 0.28) }), 1).changed.internal, []);
    assert.deepEqual(
      m.split(round({ b4: row('b', '198.18.0.2', 0.36) }), 2).changed.internal!.map((r) => r.addr),
      ['198.18.0.2', '2001:db8::2'],
    );
  });

  test('every peer goes whole again after refreshMs, after clear(), and after forget(peer)', () => {
    const m = new RowMemory({ refreshMs: 60_000, rttRelative: 0.2, rttAbsMs: 0.1 });
    m.split(round(), 0);
    assert.equal(m.split(round(), 59_000).changed.internal!.length, 0);
    assert.equal(m.split(round(), 60_000).changed.internal!.length, 6, 'refreshed');
    m.forget(['c']);
    assert.deepEqual([...new Set(m.split(round(), 61_000).changed.internal!.map((r) => r.peer))], ['c']);
    m.clear();
    assert.equal(m.split(round(), 62_000).changed.internal!.length, 6);
  });

  test('rows remembered from a catch-up count as sent', () => {
    const m = new RowMemory();
    m.remember(round(), 0);
    assert.deepEqual(m.split(round(), 1).same.internal!.peers, ['b', 'c', 'd']);
  });
});

describe('results messages of a delta round', () => {
  const memory = new RowMemory();
  memory.split(round(), 0);
  const { changed, same } = memory.split(round({ c6: row('c', '2001:db8::3', 5) }), 1);
  const msgs = resultsMessages({ node: 'a', round: 1, durationMs: 5, startedAt: 0, bindings: changed, same });

  test('the changed rows, then a table naming the unchanged peers with the tally of their rows; final on the last', () => {
    assert.deepEqual(
      msgs.map((m) => m.final),
      [false, true],
    );
    assert.deepEqual(msgs[0]!.bindings.internal!.peers, ['c']);
    const t = msgs[1]!.bindings.internal!;
    assert.deepEqual(
      t.same!.map((i) => t.peers[i]),
      ['b', 'd'],
    );
    assert.equal(t.rows.length, 0);
    const want = emptyTally();
    tallyPacked(want, packRows(same.internal!.rows));
    assert.deepEqual(t.tally, want);
    assert.equal(t.tally![tallyAt.requests], 12, '4 rows x 3 echoes');
  });

  test('each message decodes under the wire schema', () => {
    for (const m of msgs) assert.equal(decodeAgentMessage(Buffer.from(encode(m))).ok, true);
  });

  test('the metrics count the unchanged rows from the tally as if they had been sent', () => {
    const whole = new ProbeTally(['internal']);
    whole.observe(resultsMessages({ node: 'a', round: 1, durationMs: 5, startedAt: 0, bindings: round({ c6: row('c', '2001:db8::3', 5) }) })[0]!);
    const delta = new ProbeTally(['internal']);
    for (const m of msgs) delta.observe(m);
    assert.deepEqual(delta.bindings(), whole.bindings());
  });
});

describe('the wire refuses a bad same or tally', () => {
  const base = (): ResultsMsg => ({
    v: WIRE_VERSION,
    type: 'results',
    node: 'a',
    round: 0,
    durationMs: 1,
    final: true,
    bindings: { internal: { peers: ['b', 'c'], addrs: [], tcp: [], udp: [], rows: [], same: [0, 1], tally: emptyTally() } },
  });
  const cases: [string, (m: ResultsMsg) => void, RegExp][] = [
    ['an index past the peers', (m) => (m.bindings.internal!.same = [0, 2]), /same\.1: not a peer index/],
    ['a peer twice', (m) => (m.bindings.internal!.same = [1, 1]), /same\.1: peer 1 twice/],
    ['same without tally', (m) => delete m.bindings.internal!.tally, /same and tally come together/],
    ['a short tally', (m) => (m.bindings.internal!.tally = [1, 2]), /tally: 2 ints, expected/],
    ['a negative count', (m) => (m.bindings.internal!.tally = emptyTally().map((_, i) => (i === 3 ? -1 : 0))), /tally\.3/],
    ['a fraction', (m) => (m.bindings.internal!.tally = emptyTally().map((_, i) => (i === 0 ? 0.5 : 0))), /tally\.0/],
    ['a count past any bound', (m) => (m.bindings.internal!.tally = emptyTally().map((_, i) => (i === 1 ? 1e15 : 0))), /tally\.1/],
  ];
  test('the good one decodes', () => assert.equal(decodeAgentMessage(Buffer.from(encode(base()))).ok, true));
  for (const [what, spoil, why] of cases)
    test(what, () => {
      const m = base();
      spoil(m);
      const d = decodeAgentMessage(Buffer.from(encode(m)));
      assert.equal(d.ok, false);
      assert.match((d as { error: string }).error, why);
    });
  test('packedProblem alone checks same', () =>
    assert.match(packedProblem({ peers: ['b'], addrs: [], tcp: [], udp: [], rows: [], same: [-1], tally: emptyTally() }) ?? '', /same\.0/));
  test('the tally has a fixed length', () => assert.equal(TALLY_LENGTH, emptyTally().length));
});

describe('BindingMatrix.applySame: "unchanged" refers only to a result the matrix took since the peer came up', () => {
  const same = (peers: string[]) => ({ peers, addrs: [], tcp: [], udp: [], rows: [], same: peers.map((_, i) => i), tally: emptyTally() });
  const fresh = () => {
    const m = new BindingMatrix('internal', ['a', 'b', 'c']);
    m.apply('a', packRows([row('b', '198.18.0.2')]), 10_000, () => 0);
    return m;
  };

  test('a held, current cell counts as measured this round (time moves, state stays)', () => {
    const m = fresh();
    const resend = new Set<string>();
    m.applySame('a', same(['b']), 20_000, () => 0, resend);
    assert.deepEqual([...resend], []);
    assert.equal(m.cell('a', 'b')!.state, 'ok');
    assert.equal(m.cell('a', 'b')!.updatedAt, 20_000);
  });

  const refused: [string, (m: BindingMatrix) => void, (p: string) => number, string][] = [
    ['a cell never measured', () => {}, () => 0, 'c'],
    ['a row cleared (the source reconnected)', (m) => m.clearRow('a'), () => 0, 'b'],
    ['the peer came up after the round began', () => {}, () => 25_000, 'b'],
    ['the peer came up after the held result was taken', (m) => m.expireColumn('b'), () => 15_000, 'b'],
  ];
  for (const [what, before, readyAt, peer] of refused)
    test(`refused, and named for a resend: ${what}`, () => {
      const m = fresh();
      before(m);
      const was = m.cell('a', peer)!;
      const cell = ['a', 'b', 'c'].indexOf(peer); // row 'a' is row 0
      const currency = m.currentCells()[cell];
      const resend = new Set<string>();
      m.applySame('a', same([peer]), 20_000, readyAt, resend);
      assert.deepEqual([...resend], [peer]);
      assert.deepEqual(m.cell('a', peer), was, 'the cell is left as it was');
      assert.equal(m.currentCells()[cell], currency, 'and not made current');
    });

  test('a column expired by a re-announce, then re-measured whole, takes "unchanged" again', () => {
    const m = fresh();
    m.expireColumn('b');
    m.apply('a', packRows([row('b', '198.18.0.2')]), 16_000, () => 15_000);
    const resend = new Set<string>();
    m.applySame('a', same(['b']), 20_000, () => 15_000, resend);
    assert.deepEqual([...resend], []);
    assert.equal(m.currentCells()[1]! & 1, 1);
  });

  test('the currency version (what coverage is recounted on) moves only when a cell becomes current or stops being', () => {
    const m = fresh();
    const v0 = m.currencyVersion;
    m.applySame('a', same(['b']), 20_000, () => 0, new Set());
    m.apply('a', packRows([row('b', '198.18.0.2')]), 30_000, () => 0);
    assert.equal(m.currencyVersion, v0, 'an unchanged or re-measured current cell');
    m.expireColumn('b');
    const v1 = m.currencyVersion;
    assert.ok(v1 > v0, 'a re-announce');
    m.apply('a', packRows([row('b', '198.18.0.2')]), 40_000, () => 35_000);
    assert.ok(m.currencyVersion > v1, 'measured again');
  });

  test('rows set aside (probed before the peer came up) are named for a resend', () => {
    const m = new BindingMatrix('internal', ['a', 'b']);
    const aside = new Set<string>();
    m.apply('a', packRows([row('b', '198.18.0.2')]), 10_000, () => 11_000, aside);
    assert.deepEqual([...aside], ['b']);
  });
});

// Wire v2's packed results table: rows survive pack -> JSON -> decode -> unpack (absent fields included), the int
// check refuses every malformed table with a reason, and the one encoder (agent/results-msg.ts) keeps the bounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAgentMessage, encode, limits, WIRE_VERSION, type ResultsMsg, type TargetRow } from '../../agent/contract/wire.js';
import { col, FIXED, packedProblem, packRows, rowCount, strideOf, unpackRow, unpackRows, type PackedRows } from '../../agent/contract/wire-packed.js';
import { resultsMessages } from '../../agent/results-msg.js';

const rtt = [0.012, 0.2, 0.311, 0.2, 4.5] as [number, number, number, number, number];
const cases: [string, TargetRow[]][] = [
  ['no rows', []],
  ['only peer and addr (a stopping round)', [{ peer: 'node-2', addr: '198.18.1.2' }]],
  ['icmp with RTTs', [{ peer: 'n', addr: '2001:db8::2', icmp: { sent: 3, recv: 3, rtt, outcome: 'ok' } }]],
  ['icmp lost, rtt null', [{ peer: 'n', addr: '198.18.0.9', icmp: { sent: 3, recv: 0, rtt: null, outcome: 'filtered' } }]],
  ['not measured', [{ peer: 'n', addr: '198.18.0.9', icmp: { sent: 0, recv: 0, rtt: null, outcome: 'not-measured' } }]],
  [
    'every field',
    [
      {
        peer: 'juju-machine-7',
        addr: '198.18.1.2',
        icmp: { sent: 3, recv: 2, rtt, outcome: 'filtered' },
        tcp: { '22': 'ok', '65535': 'refused' },
        udp: { '6081': 'error' },
        mtu: { size: 8972, outcome: 'too-big' },
        bandwidth: { mbps: 941.5, ms: 2000 },
      },
    ],
  ],
  [
    'ports differ per row: a key a row lacks stays absent',
    [
      { peer: 'a', addr: '198.18.0.1', tcp: { '3306': 'ok' } },
      { peer: 'b', addr: '198.18.0.2', tcp: { '5000': 'unreachable' }, udp: { '4789': 'ok' } },
      { peer: 'a', addr: '2001:db8::1', mtu: { size: 1452, outcome: 'ok' } },
    ],
  ],
  [
    'a bandwidth sample on the second row only',
    [
      { peer: 'a', addr: '198.18.0.1', icmp: { sent: 1, recv: 1, rtt, outcome: 'ok' } },
      { peer: 'b', addr: '198.18.0.2', bandwidth: { mbps: 0, ms: 60_000 } },
    ],
  ],
];

for (const [what, rows] of cases) {
  test(`pack -> JSON -> decode -> unpack round trip: ${what}`, () => {
    const packed = packRows(rows);
    assert.equal(packedProblem(packed), undefined);
    assert.equal(rowCount(packed), rows.length);
    const msg: ResultsMsg = { v: WIRE_VERSION, type: 'results', node: 'n0', round: 1, durationMs: 1, final: true, bindings: { internal: packed } };
    const d = decodeAgentMessage(encode(msg));
    assert.ok(d.ok, d.ok ? '' : d.error);
    const got = (d.msg as ResultsMsg).bindings.internal!;
    assert.deepEqual(unpackRows(got), rows);
    rows.forEach((r, i) => assert.deepEqual(unpackRow(got, i), r));
  });
}

test('packing interns strings: each peer, address and port key once, the stride fixed', () => {
  const rows: TargetRow[] = Array.from({ length: 10 }, (_, i) => ({ peer: `p${i % 3}`, addr: `198.18.0.${i % 3}`, tcp: { '22': 'ok', '80': 'ok' } }));
  const p = packRows(rows);
  assert.deepEqual(p.peers, ['p0', 'p1', 'p2']);
  assert.equal(p.addrs.length, 3);
  assert.deepEqual(p.tcp, ['22', '80']);
  assert.equal(strideOf(p), FIXED + 2);
  assert.equal(p.rows.length, 10 * (FIXED + 2));
  assert.ok(p.rows.every(Number.isInteger));
});

/** Mutations of a valid one-row table, each with whether it must still be accepted. */
function* mutations(): Generator<[string, PackedRows, boolean]> {
  const base = packRows([
    { peer: 'n', addr: '198.18.0.1', icmp: { sent: 3, recv: 3, rtt, outcome: 'ok' }, tcp: { '22': 'ok' }, mtu: { size: 1472, outcome: 'ok' } },
  ]);
  const set = (i: number, v: unknown): PackedRows => ({ ...base, rows: [...base.rows].map((x, j) => (j === i ? v : x)) as number[] });
  yield ['the base', base, true];
  for (const [name, i] of Object.entries(col)) {
    for (const v of [1.5, '1', null, -2, Number.MAX_SAFE_INTEGER + 2]) yield [`${name} = ${JSON.stringify(v)}`, set(i, v), false];
  }
  yield ['peer index past the end', set(col.peer, 1), false];
  yield ['addr index past the end', set(col.addr, 1), false];
  yield ['icmp code past the vocabulary', set(col.icmp, 7), false];
  yield ['icmp absent but sent kept', set(col.icmp, -1), false];
  yield ['one RTT absent of five', set(col.rttP50, -1), false];
  yield ['mtu size 67', set(col.mtuSize, 67), false];
  yield ['mtu absent both', { ...base, rows: base.rows.map((x, j) => (j === col.mtu || j === col.mtuSize ? -1 : x)) }, true];
  yield ['tcp code absent', set(FIXED, -1), true];
  yield ['tcp code 99', set(FIXED, 99), false];
  yield ['stride short by one', { ...base, rows: base.rows.slice(1) }, false];
  yield ['stride long by one', { ...base, rows: [...base.rows, 0] }, false];
  yield ['port key 0', { ...base, tcp: ['0'] }, false];
  yield ['port key 65536', { ...base, tcp: ['65536'] }, false];
  yield ['a port key twice', { ...base, tcp: ['22', '22'], rows: [...base.rows, 0] }, false];
  yield ['an address that is not one', { ...base, addrs: ['198.18.0.300'] }, false];
  yield ['bw triple', { ...base, bw: [0, 941.5, 2000] }, true];
  yield ['bw row past the end', { ...base, bw: [1, 10, 10] }, false];
  yield ['bw not triples', { ...base, bw: [0, 10] }, false];
  yield ['bw Mb/s over the bound', { ...base, bw: [0, limits.bandwidthMbps + 1, 10] }, false];
  yield ['bw window not an int', { ...base, bw: [0, 10, 1.5] }, false];
}

test('the int check refuses every malformed table, with a reason; decode says where', () => {
  let refused = 0;
  for (const [what, p, ok] of mutations()) {
    assert.equal(packedProblem(p), ok ? undefined : (packedProblem(p) ?? 'accepted'), what);
    if (ok) continue;
    refused++;
    assert.match(packedProblem(p)!, /\S/, what);
    const d = decodeAgentMessage(
      JSON.stringify({ v: WIRE_VERSION, type: 'results', node: 'a', round: 1, durationMs: 1, final: true, bindings: { internal: p } }),
    );
    assert.equal(d.ok, false, what);
    assert.match((d as { error: string }).error, /^bindings\.internal/, what);
  }
  assert.ok(refused > 60, `${refused} refused`);
});

test('a table of 20,000 rows passes, one more row is refused; the schema bounds the arrays', () => {
  const rows = (n: number): TargetRow[] =>
    Array.from({ length: n }, () => ({ peer: 'n', addr: '198.18.0.1', icmp: { sent: 1, recv: 1, rtt: null, outcome: 'ok' } }));
  assert.equal(packedProblem(packRows(rows(limits.rowsPerBinding))), undefined);
  assert.match(packedProblem(packRows(rows(limits.rowsPerBinding + 1)))!, /more than 20000 rows/);
  const big = {
    v: WIRE_VERSION,
    type: 'results',
    node: 'a',
    round: 1,
    durationMs: 1,
    final: true,
    bindings: { internal: { ...packRows([]), peers: Array(limits.rowsPerBinding + 1).fill('n') } },
  };
  assert.match(
    (decodeAgentMessage(JSON.stringify(big)) as { error: string }).error,
    /^bindings\.internal\.peers: expected at most 20000 strings of 1-253 characters/,
  );
  const longPeer = { ...big, bindings: { internal: { ...packRows([]), peers: ['x'.repeat(254)] } } };
  assert.match((decodeAgentMessage(JSON.stringify(longPeer)) as { error: string }).error, /^bindings\.internal\.peers: expected at most/);
  const notArray = { ...big, bindings: { internal: { ...packRows([]), rows: 'x' } } };
  assert.match((decodeAgentMessage(JSON.stringify(notArray)) as { error: string }).error, /^bindings\.internal\.rows: expected an array/);
});

test('resultsMessages: batches of at most batchRows rows, never over the rows or bytes bound, rows in order, the last final', () => {
  const peerName = (i: number) => `${'p'.repeat(200)}${i}`; // long names: the byte bound splits before the row bound
  const row = (i: number): TargetRow => ({
    peer: peerName(i),
    addr: `2001:db8:ffff:ffff:ffff:ffff:ffff:${(i % 65536).toString(16)}`,
    icmp: { sent: 3, recv: 3, rtt, outcome: 'ok' },
  });
  const bindings = { a: Array.from({ length: 12_000 }, (_, i) => row(i)), b: [], c: Array.from({ length: 700 }, (_, i) => row(i)) };
  for (const batchRows of [5000, 100_000]) {
    const msgs = resultsMessages({ node: 'n0', round: 4, durationMs: 9, startedAt: 1, catchUp: { requestedAt: 5 }, bindings }, batchRows);
    assert.deepEqual(
      msgs.map((m) => m.final),
      msgs.map((_, i) => i === msgs.length - 1),
    );
    for (const m of msgs) {
      const bytes = Buffer.byteLength(encode(m));
      assert.ok(bytes <= limits.resultsBytes, `${bytes} bytes`);
      const n = Object.values(m.bindings).reduce((a, p) => a + rowCount(p), 0);
      assert.ok(n <= Math.min(batchRows, limits.rowsPerBinding), `${n} rows`);
      assert.equal(m.catchUp, true);
      assert.equal(m.requestedAt, 5);
      const d = decodeAgentMessage(encode(m));
      assert.ok(d.ok, d.ok ? '' : d.error);
    }
    for (const [b, list] of Object.entries(bindings)) {
      const got = msgs.flatMap((m) => (m.bindings[b] ? unpackRows(m.bindings[b]) : []));
      assert.deepEqual(got, list, `binding ${b}, batchRows ${batchRows}`);
    }
    assert.ok(
      msgs.some((m) => 'b' in m.bindings),
      'a binding without rows is still named',
    );
    // 12,700 rows fit one message by the row bound, but their ~2.7 MB of JSON do not.
    if (batchRows > limits.rowsPerBinding) assert.ok(msgs.length >= 2, `${msgs.length} messages: split by bytes`);
  }
});

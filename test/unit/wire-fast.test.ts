// The codec's fast row check must accept exactly what the zod schema accepts: checked on valid rows and on
// systematic mutations of them (every field removed, retyped, out of range, extra keys).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAgentMessage, rowAccepted, targetRow } from '../../agent/contract/wire.js';

const base: Record<string, unknown>[] = [
  { peer: 'node-2', addr: '198.18.1.2' },
  { peer: 'n', addr: '2001:db8::2', icmp: { sent: 3, recv: 3, rtt: [0.1, 0.2, 0.3, 0.2, 0.3], outcome: 'ok' } },
  {
    peer: 'n',
    addr: '198.18.1.2',
    icmp: { sent: 0, recv: 0, rtt: null, outcome: 'not-measured' },
    tcp: { '22': 'ok', '65535': 'refused' },
    udp: {},
    mtu: { size: 8972, outcome: 'too-big' },
  },
  { peer: 'n', addr: '198.18.1.3', bandwidth: { mbps: 941.5, ms: 2000 } },
];
const junk: unknown[] = [undefined, null, 0, -1, 1.5, 70000, '', 'x', '1', true, [], {}, [1, 2, 3, 4, 5], NaN, 'ok', 'timeout'];

function* mutations(row: Record<string, unknown>): Generator<unknown> {
  yield row;
  yield { ...row, extra: 1 };
  for (const k of ['peer', 'addr', 'icmp', 'tcp', 'udp', 'mtu', 'bandwidth']) {
    const { [k]: _drop, ...rest } = row;
    yield rest;
    for (const j of junk) yield { ...row, [k]: j };
  }
  yield { ...row, peer: 'x'.repeat(254) };
  yield { ...row, addr: '198.18.1.300' };
  const icmp = (row.icmp as Record<string, unknown>) ?? { sent: 1, recv: 1, rtt: [1, 1, 1, 1, 1], outcome: 'ok' };
  for (const k of ['sent', 'recv', 'rtt', 'outcome']) {
    const { [k]: _drop, ...rest } = icmp;
    yield { ...row, icmp: rest };
    for (const j of junk) yield { ...row, icmp: { ...icmp, [k]: j } };
  }
  yield { ...row, icmp: { ...icmp, extra: 1 } };
  yield { ...row, icmp: { ...icmp, rtt: [1, 1, 1, 1] } };
  yield { ...row, icmp: { ...icmp, rtt: [1, 1, 1, 1, -1] } };
  for (const key of ['0', '01', '65536', '123456', 'ssh', '22 ', '']) yield { ...row, tcp: { [key]: 'ok' } };
  // The bound on ports per row, at and over it.
  for (const n of [256, 257]) yield { ...row, udp: Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i + 1), 'ok'])) };
  for (const j of junk) yield { ...row, udp: { '6081': j } };
  for (const size of [67, 68, 9000.5, 65535, 65536]) yield { ...row, mtu: { size, outcome: 'ok' } };
  yield { ...row, mtu: { size: 9000, outcome: 'ok', extra: 1 } };
  yield { ...row, mtu: { size: 9000 } };
  // The bandwidth sample's bounds, at and over them.
  for (const mbps of [-1, 0, 0.5, 10_000_000, 10_000_001, NaN]) yield { ...row, bandwidth: { mbps, ms: 1000 } };
  for (const ms of [-1, 0, 1.5, 60_000, 60_001]) yield { ...row, bandwidth: { mbps: 10, ms } };
  yield { ...row, bandwidth: { mbps: 10, ms: 10, extra: 1 } };
  yield { ...row, bandwidth: { mbps: 10 } };
}

test('rowAccepted agrees with the zod schema on every mutation', () => {
  let n = 0;
  let accepted = 0;
  for (const b of base) {
    for (const m of mutations(b)) {
      // JSON round trip: the codec only ever sees what JSON can carry.
      const wire = m === undefined ? undefined : JSON.parse(JSON.stringify(m) ?? 'null');
      const want = targetRow.safeParse(wire).success;
      assert.equal(rowAccepted(wire), want, JSON.stringify(m));
      n++;
      if (want) accepted++;
    }
  }
  assert.ok(n > 300 && accepted > 10 && accepted < n - 100, `${n} cases, ${accepted} accepted`);
});

test("a bad row deep in a large round is refused with zod's message and path", () => {
  const rows = Array.from({ length: 3000 }, (_, i) => ({ peer: `n${i}`, addr: '198.18.0.1' }));
  (rows[2500] as Record<string, unknown>).addr = '198.18.0.999';
  const d = decodeAgentMessage(JSON.stringify({ v: 1, type: 'results', node: 'a', round: 1, durationMs: 1, final: true, bindings: { internal: rows } }));
  assert.equal(d.ok, false);
  assert.match((d as { error: string }).error, /^bindings\.internal\.2500\.addr: "198\.18\.0\.999" is not an IP address/);
});

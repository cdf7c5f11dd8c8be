// Wire v3's binary results frames: every message the agent's encoder makes survives frame -> decode with the same
// rows as its text form, the frame's own structure (head length, refs tiling the body) is checked with a reason,
// and the packed tables' int check still refuses bad ints that arrive as int32s.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAgentMessage, encode, limits, WIRE_VERSION, type ResultsMsg, type TargetRow } from '../../agent/contract/wire.js';
import { decodeResultsFrame, encodeResultsFrame, frameBytes } from '../../agent/contract/wire-binary.js';
import { col, packRows, unpackRows } from '../../agent/contract/wire-packed.js';
import { emptyTally } from '../../agent/contract/tally.js';
import { resultsMessages } from '../../agent/results-msg.js';

const rtt = [0.012, 0.2, 0.311, 0.2, 4.5] as [number, number, number, number, number];
const row = (i: number, extra: Partial<TargetRow> = {}): TargetRow => ({
  peer: `node-${i}`,
  addr: i % 2 ? `198.18.0.${i % 250}` : `2001:db8::${i.toString(16)}`,
  icmp: { sent: 3, recv: 3, rtt, outcome: 'ok' },
  tcp: { '3306': 'ok', '5000': i % 7 ? 'ok' : 'refused' },
  ...extra,
});
const msg = (bindings: ResultsMsg['bindings'], over: Partial<ResultsMsg> = {}): ResultsMsg => ({
  v: WIRE_VERSION,
  type: 'results',
  node: 'node-0',
  round: 3,
  durationMs: 120,
  startedAt: 1000,
  final: true,
  bindings,
  ...over,
});

const roundTrips: [string, ResultsMsg][] = [
  ['no bindings', msg({})],
  ['a binding without rows', msg({ internal: packRows([]) })],
  ['three bindings, one empty', msg({ a: packRows([row(1), row(2)]), b: packRows([]), c: packRows([row(3, { mtu: { size: 8972, outcome: 'too-big' } })]) })],
  ['a bandwidth sample and UDP', msg({ a: packRows([row(1, { bandwidth: { mbps: 941.5, ms: 2000 }, udp: { '4789': 'error' } })]) })],
  ['icmp absent, rtt null', msg({ a: packRows([{ peer: 'n', addr: '198.18.0.9' }, row(5, { icmp: { sent: 3, recv: 0, rtt: null, outcome: 'filtered' } })]) })],
  ['a catch-up', msg({ a: packRows([row(1)]) }, { catchUp: true, requestedAt: 77, final: false })],
  ['unchanged peers (same + tally)', msg({ a: { ...packRows([]), peers: ['x', 'y'], same: [0, 1], tally: emptyTally() } })],
  ['a binding named "0" (an integer key JSON reorders)', msg({ b: packRows([row(1)]), '0': packRows([row(2), row(3)]) })],
];

test('a frame decodes to the same message as the text form, rows and all', () => {
  for (const [what, m] of roundTrips) {
    const f = encodeResultsFrame(m)!;
    assert.ok(f, what);
    assert.equal(f.length, frameBytes(m), `${what}: frameBytes`);
    const d = decodeResultsFrame(f);
    assert.ok(d.ok, `${what}: ${d.ok ? '' : d.error}`);
    const t = decodeAgentMessage(encode(m));
    assert.ok(t.ok, what);
    if (!d.ok || !t.ok || d.msg.type !== 'results' || t.msg.type !== 'results') continue;
    const { bindings: fb, ...fHead } = d.msg;
    const { bindings: tb, ...tHead } = t.msg;
    assert.deepEqual(fHead, tHead, what);
    assert.deepEqual(Object.keys(fb).sort(), Object.keys(tb).sort(), what);
    for (const b of Object.keys(tb)) {
      assert.ok(fb[b]!.rows instanceof Int32Array, `${what}: ${b} read in place`);
      assert.deepEqual(unpackRows(fb[b]!), unpackRows(tb[b]!), `${what}: ${b}`);
      assert.deepEqual({ ...fb[b], rows: [...fb[b]!.rows] }, tb[b], `${what}: ${b} table`);
    }
  }
});

test('a frame at an odd offset (not aligned for a view) decodes from a copy', () => {
  const f = encodeResultsFrame(msg({ a: packRows([row(1), row(2), row(3)]) }))!;
  const odd = Buffer.alloc(f.length + 1).subarray(1);
  f.copy(odd);
  const d = decodeResultsFrame(odd);
  assert.ok(d.ok && d.msg.type === 'results');
  if (d.ok && d.msg.type === 'results') assert.deepEqual(unpackRows(d.msg.bindings.a!), [row(1), row(2), row(3)]);
});

test('a value that does not fit an int32 is not framed: the agent sends that message as text', () => {
  const m = msg({ a: packRows([row(1)]) });
  (m.bindings.a!.rows as number[])[col.rttMax] = 2 ** 31;
  assert.equal(encodeResultsFrame(m), undefined);
});

/** A frame built by hand: head object, body ints. */
function frame(head: unknown, ints: number[], headBytes?: Buffer): Buffer {
  const h = headBytes ?? Buffer.from(JSON.stringify(head));
  const at = (4 + h.length + 3) & ~3;
  const b = Buffer.alloc(at + 4 * ints.length);
  b.writeUInt32LE(h.length, 0);
  h.copy(b, 4);
  ints.forEach((v, i) => b.writeInt32LE(v, at + 4 * i));
  return b;
}
const one = packRows([row(1)]);
const oneInts = one.rows as number[];
const headWith = (rows: unknown, extra: Record<string, unknown> = {}) => ({ ...msg({}), bindings: { a: { ...one, rows }, ...extra } });
const stride = oneInts.length;

const refusals: [string, Buffer, RegExp][] = [
  ['3 bytes', Buffer.alloc(3), /too short for its head length/],
  [
    'a head longer than the frame',
    (() => {
      const b = frame(headWith({ at: 0, n: stride }), oneInts);
      b.writeUInt32LE(b.length, 0);
      return b;
    })(),
    /head of \d+ bytes in a frame of \d+/,
  ],
  ['a body that is not whole int32s', Buffer.concat([frame(headWith({ at: 0, n: stride }), oneInts), Buffer.alloc(2)]), /not whole int32s/],
  ['a head that is not JSON', frame(undefined, [], Buffer.from('{"v":3,')), /^not JSON/],
  ['a head nested too deep', frame(undefined, [], Buffer.from(`{"v":3,"x":${'['.repeat(12)}${']'.repeat(12)}}`)), /nested deeper than 10/],
  ['a hello as a binary frame', frame({ v: WIRE_VERSION, type: 'hello', node: 'n' }, []), /only results travel as binary/],
  ['another wire version', frame({ ...headWith({ at: 0, n: stride }), v: 4 }, oneInts), /agent speaks wire v4; this aggregator speaks v3/],
  ['another version whose rows are not refs', frame({ ...headWith(oneInts), v: 4 }, []), /agent speaks wire v4; this aggregator speaks v3/],
  ['rows as a JSON array', frame(headWith(oneInts), []), /bindings\.a\.rows: expected \{at, n\}/],
  ['a ref with a third key', frame(headWith({ at: 0, n: stride, x: 1 }), oneInts), /expected \{at, n\}/],
  ['a ref past the body', frame(headWith({ at: 0, n: stride + 1 }), oneInts), /do not tile the body/],
  ['a ref not at the start', frame(headWith({ at: 1, n: stride - 1 }), oneInts), /do not tile the body/],
  ['a negative count', frame(headWith({ at: 0, n: -1 }), oneInts), /do not tile the body/],
  ['ints after the last ref', frame(headWith({ at: 0, n: stride }), [...oneInts, 0]), /1 ints of the body after the last rows ref/],
  ['two refs overlapping', frame(headWith({ at: 0, n: stride }, { b: { ...one, rows: { at: 0, n: stride } } }), oneInts), /do not tile the body/],
  [
    'more bindings than the bound',
    frame(
      {
        ...msg({}),
        bindings: Object.fromEntries(Array.from({ length: limits.resultBindings + 1 }, (_, i) => [`b${i}`, { ...packRows([]), rows: { at: 0, n: 0 } }])),
      },
      [],
    ),
    /more than 256 bindings/,
  ],
  [
    'an outcome code past the vocabulary',
    frame(
      headWith({ at: 0, n: stride }),
      oneInts.map((v, j) => (j === col.icmp ? 99 : v)),
    ),
    /^bindings\.a: rows\.0: bad icmp/,
  ],
  [
    'a peer index past the end',
    frame(
      headWith({ at: 0, n: stride }),
      oneInts.map((v, j) => (j === col.peer ? 5 : v)),
    ),
    /peer or addr index out of range/,
  ],
  ['a missing node', frame({ ...headWith({ at: 0, n: stride }), node: undefined }, oneInts), /^node: /],
];

test('the frame structure and the ints are checked, each refusal with its reason', () => {
  for (const [what, f, why] of refusals) {
    const d = decodeResultsFrame(f);
    assert.equal(d.ok, false, what);
    if (!d.ok) assert.match(d.error, why, what);
  }
});

test("the agent's encoder keeps every frame of a large round under the wire's bound", () => {
  const peer = (i: number) => `${'p'.repeat(200)}${i}`;
  const bindings = { a: Array.from({ length: 12_000 }, (_, i) => row(i, { peer: peer(i) })), b: [] as TargetRow[] };
  const msgs = resultsMessages({ node: 'n0', round: 1, durationMs: 9, startedAt: 1, bindings }, 100_000);
  assert.ok(msgs.length > 1, `${msgs.length} messages`);
  const got: TargetRow[] = [];
  for (const m of msgs) {
    const f = encodeResultsFrame(m)!;
    assert.ok(f.length <= limits.resultsBytes, `${f.length} bytes`);
    const d = decodeResultsFrame(f);
    assert.ok(d.ok, d.ok ? '' : d.error);
    if (d.ok && d.msg.type === 'results' && d.msg.bindings.a) got.push(...unpackRows(d.msg.bindings.a));
  }
  assert.deepEqual(got, bindings.a);
});

test("a message's text is at most three times its frame (the agent's encoder skips writing the text out below a third of the bound)", () => {
  const slow = [1e6, 2e6, 2_147_483, 2_147_483, 2_147_483] as [number, number, number, number, number];
  const cases: ResultsMsg[] = [
    ...roundTrips.map(([, m]) => m),
    // Ints at their widest as text: RTTs of ~2^31 us, absent columns (-1), many ports and a bandwidth sample.
    msg({
      a: packRows(
        Array.from({ length: 50 }, (_, i) =>
          row(i, {
            icmp: { sent: 2_000_000_000, recv: 2_000_000_000, rtt: slow, outcome: 'ok' },
            udp: { '4789': 'error', '65535': 'ok' },
            bandwidth: { mbps: 9_999_999.5, ms: 60_000 },
          }),
        ),
      ),
    }),
    msg({ a: packRows(Array.from({ length: 50 }, (_, i) => ({ peer: `n${i}`, addr: '198.18.0.1' }))) }),
  ];
  for (const m of cases) {
    const text = Buffer.byteLength(encode(m));
    assert.ok(text <= 3 * frameBytes(m), `text ${text} bytes, frame ${frameBytes(m)}`);
  }
});

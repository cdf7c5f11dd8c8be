// Results as binary WebSocket frames (wire v3, pure). A first sweep at 1,000 nodes is 0.6M rows a round; as JSON
// the aggregator parsed every int into a JS array (~1 us a row, and ~100 MB of garbage a round). Here the ints
// travel as little-endian int32 and the aggregator reads them in place: one view over the frame, no copy.
//
// frame = u32le H | head: H bytes of UTF-8 JSON | zero padding to a multiple of 4 | body: int32le[]
//
// The head is a results message whose tables have `rows: {at, n}`, ints at..at+n of the body, instead of an
// array. The tables' refs tile the body exactly (no gaps, no overlap, nothing after), so every byte sent is read.
import { endianness } from 'node:os';
import { isPlain, limits } from './wire-limits.js';
import { resultsOk } from './agent-check.js';
import { parseBounded, resultsMsg, validateParsed, MAX_MESSAGE_BYTES, WIRE_VERSION, type Decoded, type ResultsMsg } from './wire.js';

const HEAD_AT = 4;
const LE = endianness() === 'LE';
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const pad4 = (n: number) => (n + 3) & ~3;

/**
 * The binary frame of a results message, or undefined when a value does not fit an int32 (an RTT past 35
 * minutes cannot come from a probe with a timeout, but the text encoding carries it rather than lose the round).
 */
export function encodeResultsFrame(msg: ResultsMsg): Buffer | undefined {
  const { head, bodies, at } = headOf(msg);
  const bodyAt = pad4(HEAD_AT + head.length);
  const out = Buffer.alloc(bodyAt + 4 * at);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, HEAD_AT);
  let o = bodyAt;
  for (const rows of bodies) {
    for (let i = 0; i < rows.length; i++, o += 4) {
      const v = rows[i]!;
      if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) return undefined;
      out.writeInt32LE(v, o);
    }
  }
  return out;
}

function headOf(msg: ResultsMsg): { head: Buffer; bodies: (readonly number[] | Int32Array)[]; at: number } {
  let at = 0;
  const bodies: (readonly number[] | Int32Array)[] = [];
  const bindings: Record<string, unknown> = {};
  for (const [b, t] of Object.entries(msg.bindings)) {
    const n = t.rows.length;
    bindings[b] = { ...t, rows: { at, n } };
    bodies.push(t.rows);
    at += n;
  }
  return { head: Buffer.from(JSON.stringify({ ...msg, bindings })), bodies, at };
}

/** The length of a message's binary frame, without building it (the agent splits a round below the wire's bound). */
export function frameBytes(msg: ResultsMsg): number {
  const { head, at } = headOf(msg);
  return pad4(HEAD_AT + head.length) + 4 * at;
}

type Failure = Extract<Decoded<ResultsMsg>, { ok: false }>;
const refused = (error: string): Failure => ({ ok: false, why: 'schema', error });

/** The body as int32s: a view when the frame is aligned and this host little-endian, else a copy. */
function intsOf(frame: Buffer, bodyAt: number, count: number): Int32Array {
  const start = frame.byteOffset + bodyAt;
  if (LE && start % 4 === 0) return new Int32Array(frame.buffer, start, count);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = frame.readInt32LE(bodyAt + 4 * i);
  return out;
}

/**
 * Decodes and validates a binary results frame: the same checks as a text results message (./wire.ts), plus the
 * frame's own: head length in bounds, every table's rows a ref, the refs tiling the body. Work is bounded by the
 * frame's length (itself bounded) and the bindings bound, never by a count the peer states.
 */
export function decodeResultsFrame(frame: Buffer): Decoded<ResultsMsg> {
  const len = frame.length;
  if (len > MAX_MESSAGE_BYTES) return { ok: false, why: 'size', error: `message of ${len} bytes exceeds ${MAX_MESSAGE_BYTES}` };
  if (len < HEAD_AT) return refused(`binary frame of ${len} bytes: too short for its head length`);
  const headLen = frame.readUInt32LE(0);
  if (headLen > len - HEAD_AT) return refused(`binary frame: head of ${headLen} bytes in a frame of ${len}`);
  const bodyAt = pad4(HEAD_AT + headLen);
  if (bodyAt > len || (len - bodyAt) % 4 !== 0) return refused(`binary frame: body of ${len - Math.min(len, bodyAt)} bytes is not whole int32s`);
  const parsed = parseBounded(frame.subarray(HEAD_AT, HEAD_AT + headLen));
  if ('error' in parsed) return parsed;
  const raw = parsed.value;
  if (isPlain(raw) && 'v' in raw && raw.type !== 'results')
    return refused(`binary frame: a ${String(raw.type).slice(0, 20)} message (only results travel as binary)`);
  // Another version's head may lay its refs out differently: say the version, not what its refs look like to us.
  if (isPlain(raw) && 'v' in raw && raw.v !== WIRE_VERSION) return validateParsed(resultsMsg, raw, len);
  const count = (len - bodyAt) / 4;
  const why = attachBodies(raw, frame, bodyAt, count);
  if (why) return refused(why);
  // The plain check first; zod parses only what it refuses, to word the refusal.
  return resultsOk(raw) ? { ok: true, msg: raw } : validateParsed(resultsMsg, raw, len);
}

/** Replaces each table's rows ref with its ints; why the refs are refused, or undefined. */
function attachBodies(raw: unknown, frame: Buffer, bodyAt: number, count: number): string | undefined {
  if (!isPlain(raw) || !isPlain(raw.bindings)) return undefined; // the schema says what is wrong
  const tables: [Record<string, unknown>, number, number][] = [];
  let keys = 0;
  for (const b in raw.bindings) {
    if (++keys > limits.resultBindings) return `more than ${limits.resultBindings} bindings`;
    const t = raw.bindings[b];
    if (!isPlain(t)) continue; // the schema refuses it
    const ref = t.rows;
    if (!isPlain(ref) || !Number.isSafeInteger(ref.at) || !Number.isSafeInteger(ref.n) || Object.keys(ref).length !== 2) {
      return `bindings.${b.slice(0, limits.quoteChars)}.rows: expected {at, n}, a reference into the frame's body`;
    }
    tables.push([t, ref.at as number, ref.n as number]);
  }
  const ints = intsOf(frame, bodyAt, count);
  let next = 0;
  for (const [t, at, n] of [...tables].sort((x, y) => x[1] - y[1] || x[2] - y[2])) {
    if (at !== next || n < 0 || at + n > count) return `rows refs do not tile the body of ${count} ints (a ref at ${at} of ${n}, expected at ${next})`;
    t.rows = ints.subarray(at, at + n);
    next = at + n;
  }
  if (next !== count) return `${count - next} ints of the body after the last rows ref`;
  return undefined;
}

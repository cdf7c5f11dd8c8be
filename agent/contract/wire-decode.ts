// Decoding a message (pure): the size bound, the depth scan, JSON.parse, the version, then the schema; every
// refusal says which step refused it and quotes the input only cut short.
import type { z } from 'zod';
import { WIRE_VERSION } from './version.js';
import { isPlain, limits, nestedDeeperThan, quote } from './wire-limits.js';

/** A results message above this size is refused (agents split a round into messages below it; see README). */
export const MAX_MESSAGE_BYTES = limits.resultsBytes;

/** Why a message was refused: `size` and `depth` before parsing, `version` before the schema. */
export type DecodeFailure = 'size' | 'depth' | 'json' | 'version' | 'schema';
export type Decoded<T> = { ok: true; msg: T } | { ok: false; error: string; why: DecodeFailure };

/** Cuts an error message from the input down to `max` characters. */
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 3)}...` : s);

export interface DecodeOptions {
  /** Refuse anything larger unparsed (default MAX_MESSAGE_BYTES; the aggregator passes less before a hello). */
  maxBytes?: number;
}

/** Who speaks which version, for the refusal: the side that is older is the one to upgrade. */
export function versionMismatch(theirs: unknown, them: 'agent' | 'aggregator', us: 'agent' | 'aggregator'): string {
  if (typeof theirs !== 'number' || !Number.isSafeInteger(theirs)) return `unsupported wire version ${quote(theirs)} (this ${us} speaks v${WIRE_VERSION})`;
  return `${them} speaks wire v${theirs}; this ${us} speaks v${WIRE_VERSION}: upgrade the ${theirs < WIRE_VERSION ? them : us}`;
}

export function decodeWith<T>(schema: z.ZodType<T>, data: string | Buffer, opts: DecodeOptions = {}, them: 'agent' | 'aggregator' = 'agent'): Decoded<T> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const len = bytes.length;
  const max = Math.min(opts.maxBytes ?? MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES);
  if (len > max) return { ok: false, why: 'size', error: `message of ${len} bytes exceeds ${max}` };
  const raw = parseBounded(bytes);
  return 'error' in raw ? raw : validateParsed(schema, raw.value, len, them);
}

/** JSON.parse behind the depth scan: deep input is refused before anything walks it. */
export function parseBounded(bytes: Buffer): { value: unknown } | { ok: false; why: DecodeFailure; error: string } {
  if (nestedDeeperThan(bytes, limits.depth)) return { ok: false, why: 'depth', error: `nested deeper than ${limits.depth} levels` };
  try {
    return { value: JSON.parse(bytes.toString()) };
  } catch (err) {
    return { ok: false, why: 'json', error: `not JSON: ${clip((err as Error).message, 100)}` };
  }
}

/** The checks after parsing: version, the control bound for all but results, then the schema. */
export function validateParsed<T>(schema: z.ZodType<T>, raw: unknown, len: number, them: 'agent' | 'aggregator' = 'agent'): Decoded<T> {
  if (isPlain(raw) && 'v' in raw && raw.v !== WIRE_VERSION) {
    return { ok: false, why: 'version', error: versionMismatch(raw.v, them, them === 'agent' ? 'aggregator' : 'agent') };
  }
  if (len > limits.controlBytes && isPlain(raw) && raw.type !== 'results') {
    return {
      ok: false,
      why: 'size',
      error: `${typeof raw.type === 'string' ? clip(raw.type, 20) : 'message'} of ${len} bytes exceeds ${limits.controlBytes} (only results may be larger)`,
    };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, msg: r.data };
  // Paths and messages can carry the peer's keys (an unknown key of 1 MB): each is cut short.
  const first = r.error.issues.slice(0, 3).map((i) => {
    // A bad record key carries its own reason one level down; say that rather than "Invalid key".
    const msg = i.code === 'invalid_key' && i.issues[0] ? `${quote(i.path.at(-1))} ${i.issues[0].message}` : i.message;
    return `${clip(i.path.map((p) => clip(String(p), limits.quoteChars)).join('.'), 120) || '(message)'}: ${clip(msg, 200)}`;
  });
  return { ok: false, why: 'schema', error: first.join('; ') };
}

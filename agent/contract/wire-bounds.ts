// zod schemas for bounded collections (pure): each counts or checks its input in one plain loop before any
// element is parsed, so a peer's 16 MB array or 100,000-key object costs one bounded pass, not zod's per-element work.
import { z } from 'zod';
import { isPlain } from './wire-limits.js';

/** A record with at most `max` keys, counted before any key or value is parsed. */
export function boundedRecord<K extends z.core.$ZodRecordKey, V extends z.ZodType>(key: K, value: V, max: number, what: string) {
  return z.preprocess(
    (x, ctx) => {
      if (isPlain(x)) {
        let n = 0;
        for (const _ in x) {
          if (++n > max) {
            ctx.addIssue({ code: 'custom', message: `more than ${max} ${what}`, input: x });
            return z.NEVER;
          }
        }
      }
      return x;
    },
    z.record(key, value),
  );
}
/** An array bounded in length whose elements the packed table's own check reads (not zod, one at a time). */
export const bounded = (max: number, what: string) =>
  z.custom<number[]>((x) => Array.isArray(x) && x.length <= max, { error: (i) => (Array.isArray(i.input) ? `more than ${max} ${what}` : 'expected an array') });

/** A table's ints: a JSON array, or (binary results frames, ./wire-binary.ts) a view of the frame's body. */
export const boundedInts = (max: number) =>
  z.custom<number[] | Int32Array>((x) => (Array.isArray(x) || x instanceof Int32Array) && x.length <= max, {
    error: (i) => (Array.isArray(i.input) || i.input instanceof Int32Array ? `more than ${max} ints` : 'expected an array'),
  });

// A bounded list of bounded strings in one plain loop: ~6,000 a message, zod per element cost more than the rest.
export function stringsOk(x: unknown, max: number, minLen: number, maxLen: number): x is readonly string[] {
  if (!Array.isArray(x) || x.length > max) return false;
  for (const s of x) if (typeof s !== 'string' || s.length < minLen || s.length > maxLen) return false;
  return true;
}
export const strings = (max: number, minLen: number, maxLen: number) =>
  z.custom<readonly string[]>((x) => stringsOk(x, max, minLen, maxLen), { error: `expected at most ${max} strings of ${minLen}-${maxLen} characters` });

/**
 * An array whose elements a plain loop accepts as they are (`ok` must refuse whatever `element` refuses); only
 * when one fails does zod parse the array, so the error is zod's own. A hello lists ~120 responders: zod's parse
 * of each was 60% of decoding it (~35 of ~57 us).
 */
export function checkedArray<T extends z.ZodType>(element: T, max: number, ok: (x: unknown) => boolean) {
  const full = z.array(element).max(max);
  return z.unknown().superRefine((x, ctx) => {
    if (Array.isArray(x) && x.length <= max && x.every(ok)) return;
    const r = full.safeParse(x);
    if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
  }) as unknown as z.ZodType<z.output<T>[]>;
}

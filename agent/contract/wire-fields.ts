// The wire's common fields (pure): a name (binding, node), an IP address and a port, as zod schemas and as the
// plain checks the hot decoders use in their place (never wider than the schema), and the small helpers those
// plain checks are written with (link-check.ts, agent-check.ts).
import { isIP } from 'node:net';
import { z } from 'zod';
import { quote } from './wire-limits.js';

export const name = z.string().min(1).max(253);
// The length check aborts first: the refinement (and its message, which quotes the input) never sees 16 MB.
export const ip = z
  .string()
  .max(45, { abort: true })
  .refine((s) => isIP(s) !== 0, { error: (i) => `${quote(i.input)} is not an IP address` });
export const port = z.number().int().min(1).max(65535);

export const nameOk = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 253;
export const ipOk = (v: unknown): v is string => typeof v === 'string' && v.length <= 45 && isIP(v) !== 0;
export const portOk = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

/** A schema shape's keys: what a strict object may hold. */
export const keysOf = (shape: object): Set<string> => new Set(Object.keys(shape));
/** No key outside `keys` (a strict object's rule). */
export const onlyKeys = (x: Record<string, unknown>, keys: Set<string>): boolean => {
  for (const k in x) if (!keys.has(k)) return false;
  return true;
};
export const optional = (v: unknown, ok: (v: unknown) => boolean): boolean => v === undefined || ok(v);
export const text = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max;
export const list = (v: unknown, max: number, ok: (x: unknown) => boolean): boolean => Array.isArray(v) && v.length <= max && v.every(ok);

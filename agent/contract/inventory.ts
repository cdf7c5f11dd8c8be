// The inventory: which nodes exist and each node's addresses per binding. The one contract between
// discovery (the charm writes it from network-get + peer data; people write it by hand) and the agent.
// Pure: parses text, no file system (see loadInventory for the I/O wrapper).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { PingerError } from './errors.js';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must be letters, digits, ".", "_", "/" or "-"');
const ip = z.string().refine((s) => isIP(s) !== 0, {
  error: (iss) => `${JSON.stringify(iss.input)} is not an IPv4 or IPv6 address`,
});
const addresses = z.union([ip, z.array(ip).min(1, 'needs at least one address')]);

export const inventorySchema = z.strictObject({
  version: z.literal(1),
  /** Optional space label per binding, e.g. internal: internal-api (Juju cannot tell a unit its space names). */
  bindings: z.record(name, z.strictObject({ space: z.string().optional() })).optional(),
  nodes: z.record(
    name,
    z.strictObject({
      hostname: z.string().optional(),
      addresses: z.record(name, addresses),
    }),
  ),
});

export interface InventoryNode {
  name: string;
  hostname?: string;
  /** binding -> addresses (at least one) */
  addresses: Record<string, string[]>;
}
export interface Inventory {
  /** Sorted binding names across all nodes. */
  bindings: string[];
  spaces: Record<string, string | undefined>;
  /** In file order; the order is the matrix order. */
  nodes: InventoryNode[];
}

// A JSON string followed by a colon: in valid JSON that is exactly an object key.
const JSON_KEY = /"(?:[^"\\]|\\.)*"\s*:/g;

function countKeys(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + countKeys(x), 0);
  if (v === null || typeof v !== 'object') return 0;
  let n = 0;
  for (const x of Object.values(v)) n += 1 + countKeys(x);
  return n;
}

/**
 * The fast path: an inventory in JSON form (JSON is YAML 1.2; the charm and the lab write this form). YAML
 * composition costs ~0.6 s of CPU for 1,000 nodes x 6 bindings, paid by every agent at every start; JSON.parse
 * ~2 ms. Returns undefined whenever the YAML path could answer differently (not JSON, a duplicate key, an
 * invalid field): that path then gives the same result with the line and field of each problem.
 */
export function parseJsonForm(text: string): z.infer<typeof inventorySchema> | undefined {
  const at = /^(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*\{/.exec(text);
  if (!at) return undefined;
  const body = text.slice(at[0].length - 1);
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  // JSON.parse keeps the last of duplicate keys; YAML (uniqueKeys) refuses them.
  if (countKeys(v) !== (body.match(JSON_KEY)?.length ?? 0)) return undefined;
  const parsed = inventorySchema.safeParse(v);
  return parsed.success ? parsed.data : undefined;
}

/** Parses inventory YAML text; every problem is reported as `file:line:col: path: message`. */
export function parseInventory(text: string, file = 'inventory'): Inventory {
  const fast = parseJsonForm(text);
  return build(fast ?? parseYaml(text, file));
}

function parseYaml(text: string, file: string): z.infer<typeof inventorySchema> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new PingerError('PINGER_ERR_INVENTORY_YAML', `${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`);
  }
  const parsed = inventorySchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const lines = parsed.error.issues.map((iss) => {
      const path = iss.path.map(String);
      const keys = iss.code === 'unrecognized_keys' ? iss.keys : [];
      const where = locate(doc.contents, path, keys[0], lc);
      const field = [...path, ...keys.slice(0, 1)].join('.') || '(top level)';
      const msg = humane(iss, keys);
      return `${file}:${where}: ${field}: ${msg}`;
    });
    throw new PingerError('PINGER_ERR_INVENTORY_INVALID', lines.join('\n'));
  }
  return parsed.data;
}

function build(v: z.infer<typeof inventorySchema>): Inventory {
  const nodes: InventoryNode[] = Object.entries(v.nodes).map(([n, spec]) => ({
    name: n,
    ...(spec.hostname ? { hostname: spec.hostname } : {}),
    addresses: Object.fromEntries(Object.entries(spec.addresses).map(([b, a]) => [b, Array.isArray(a) ? a : [a]])),
  }));
  const bindingSet = new Set<string>(Object.keys(v.bindings ?? {}));
  for (const n of nodes) for (const b of Object.keys(n.addresses)) bindingSet.add(b);
  const spaces: Record<string, string | undefined> = {};
  for (const b of bindingSet) spaces[b] = v.bindings?.[b]?.space;
  return { bindings: [...bindingSet].sort(), spaces, nodes };
}

/** Zod's defaults ("Invalid input") say little to a person at 2 a.m.; say what to write instead. */
function humane(iss: z.core.$ZodIssue, keys: string[]): string {
  if (iss.code === 'unrecognized_keys') return `unknown field "${keys.join('", "')}"`;
  if (iss.code === 'invalid_key') return `${JSON.stringify(iss.path.at(-1))} is not a valid name: use letters, digits, ".", "_", "/" or "-"`;
  if (iss.code === 'invalid_type' && iss.input === undefined) return `missing (expected ${iss.expected === 'record' ? 'a map' : iss.expected})`;
  if (iss.code === 'invalid_type')
    return `expected ${iss.expected === 'record' ? 'a map' : iss.expected}, got ${Array.isArray(iss.input) ? 'a list' : typeof iss.input}`;
  if (iss.code === 'invalid_value') return `must be ${iss.values.map((v) => JSON.stringify(v)).join(' or ')}`;
  return iss.message;
}

export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PingerError('PINGER_ERR_INVENTORY_READ', `${file}: ${(err as Error).message}`);
  }
  return parseInventory(text, file);
}

// inventoryToText lives in inventory-text.ts (no zod, no YAML parser: the charm's hooks load only that).
export { inventoryToText } from './inventory-text.js';

/** line:col of the YAML node at `path` (or of key `key` inside it), falling back to the nearest parent. */
function locate(root: unknown, path: string[], key: string | undefined, lc: LineCounter): string {
  let node = root as YamlNode | null | undefined;
  let best = 0;
  const segs = key === undefined ? path : [...path, key];
  for (const seg of segs) {
    if (!isMap(node) && !(node && 'items' in (node as object))) break;
    const items = (node as { items: unknown[] }).items;
    let next: YamlNode | undefined;
    for (const [i, it] of items.entries()) {
      if (isPair(it)) {
        const k = isScalar(it.key) ? String(it.key.value) : String(it.key);
        if (k === seg) {
          best = (it.key as YamlNode).range?.[0] ?? best;
          next = (seg === key ? undefined : (it.value as YamlNode)) ?? undefined;
          if (seg === key) return pos(lc, best);
          break;
        }
      } else if (String(i) === seg) {
        next = it as YamlNode;
        best = next.range?.[0] ?? best;
        break;
      }
    }
    if (!next) break;
    node = next;
    best = node.range?.[0] ?? best;
  }
  return pos(lc, best);
}

function pos(lc: LineCounter, offset: number): string {
  const p = lc.linePos(offset);
  return `${p.line}:${p.col}`;
}

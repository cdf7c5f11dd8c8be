// Peer discovery: what a unit publishes in its peer databag, and the inventory every unit writes from all
// the databags. Pure.
import type { Inventory } from '../../agent/contract/inventory.js';
import type { Databag } from './hook-tools.js';

export interface InterfaceRow {
  binding: string;
  address: string;
  iface: string | null;
  mtu: number | null;
}

export interface PeerRecord {
  unit: string;
  hostname?: string;
  /** binding -> addresses; bindings with none are in `missing`. */
  addresses: Record<string, string[]>;
  interfaces: InterfaceRow[];
  missing: string[];
}

/** Databags hold strings only: structured values go in as JSON. */
export function toDatabag(r: PeerRecord): Databag {
  return {
    node: r.unit,
    hostname: r.hostname ?? '',
    addresses: JSON.stringify(r.addresses),
    interfaces: JSON.stringify(r.interfaces),
    missing: r.missing.join(' '),
  };
}

/** A peer's databag; undefined while the peer has not published yet (Juju's own keys only). */
export function fromDatabag(unit: string, bag: Databag): PeerRecord | undefined {
  if (!bag.addresses) return undefined;
  let addresses: unknown;
  let interfaces: unknown;
  try {
    addresses = JSON.parse(bag.addresses);
    interfaces = bag.interfaces ? JSON.parse(bag.interfaces) : [];
  } catch (err) {
    throw new Error(`peer ${unit}: databag field "addresses" is not JSON: ${(err as Error).message}`);
  }
  if (typeof addresses !== 'object' || addresses === null || Array.isArray(addresses)) {
    throw new Error(`peer ${unit}: databag field "addresses" must be a map of binding to addresses`);
  }
  const clean: Record<string, string[]> = {};
  for (const [b, list] of Object.entries(addresses as Record<string, unknown>)) {
    if (Array.isArray(list) && list.length > 0 && list.every((x) => typeof x === 'string')) clean[b] = list as string[];
  }
  return {
    unit,
    ...(bag.hostname ? { hostname: bag.hostname } : {}),
    addresses: clean,
    interfaces: Array.isArray(interfaces) ? (interfaces as InterfaceRow[]) : [],
    missing: (bag.missing ?? '').split(/\s+/).filter(Boolean),
  };
}

/** pinger/10 after pinger/9: the matrix order follows unit numbers. */
export function unitOrder(a: string, b: string): number {
  const na = Number(a.split('/')[1]);
  const nb = Number(b.split('/')[1]);
  return Number.isFinite(na) && Number.isFinite(nb) && na !== nb ? na - nb : a.localeCompare(b);
}

/** Every unit that published at least one address becomes a node; node name = unit name. */
export function buildInventory(records: PeerRecord[]): Inventory {
  const nodes = records
    .filter((r) => Object.keys(r.addresses).length > 0)
    .sort((a, b) => unitOrder(a.unit, b.unit))
    .map((r) => ({ name: r.unit, ...(r.hostname ? { hostname: r.hostname } : {}), addresses: r.addresses }));
  const bindings = [...new Set(nodes.flatMap((n) => Object.keys(n.addresses)))].sort();
  return { bindings, spaces: {}, nodes };
}

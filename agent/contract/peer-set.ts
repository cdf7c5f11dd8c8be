// The peer set both ends hold (pure): the inventory's nodes in order and, per binding, their addresses in order.
// A results message may name its peers and addresses by index into it (`peerSet` on the message) instead of
// carrying them: at 1,000 x 6 that was ~17 KB of a 58 KB frame and ~1,200 strings the aggregator parsed, checked
// (an isIP each) and looked up by name, on every frame. Names stay the fallback: an agent uses indices only after
// the aggregator's welcome or plan named the same set (same id) on this connection.
import { createHash } from 'node:crypto';
import { limits } from './wire-limits.js';
import { col, strideOf, type PackedRows } from './wire-packed.js';

export interface PeerSetNode {
  name: string;
  addresses: Readonly<Record<string, readonly string[]>>;
}

/** A set's id: 32 hex digits of a SHA-256 of its names and addresses, in order (bindings sorted). */
export const peerSetIdPattern = /^[0-9a-f]{32}$/;

export class PeerSet {
  readonly id: string;
  /** The nodes' names in order: a table resolved against this set carries this very array (see resolvePeerSet). */
  readonly names: readonly string[];
  /** Whether its indices fit the wire's bounds (a table's rows may not index past rowsPerBinding). */
  readonly fits: boolean;
  private readonly addrLists = new Map<string, string[]>();
  private nameAt: Map<string, number> | undefined;
  private addrAt: Map<string, Map<string, number>> | undefined;

  /** `names` (optional) is the array to share: it must hold `nodes`' names in order. */
  constructor(nodes: readonly PeerSetNode[], names?: readonly string[]) {
    this.names = names ?? nodes.map((n) => n.name);
    const canon: unknown[] = [];
    for (const n of nodes) {
      const bindings = Object.keys(n.addresses).sort();
      canon.push([n.name, bindings.map((b) => [b, n.addresses[b]])]);
      for (const b of bindings) {
        let list = this.addrLists.get(b);
        if (!list) this.addrLists.set(b, (list = []));
        list.push(...n.addresses[b]!);
      }
    }
    this.id = createHash('sha256').update(JSON.stringify(canon)).digest('hex').slice(0, 32);
    this.fits = this.names.length <= limits.rowsPerBinding && [...this.addrLists.values()].every((l) => l.length <= limits.rowsPerBinding);
  }

  /** A binding's addresses, every node's in node order (empty for a binding no node has). */
  addrs(binding: string): readonly string[] {
    return this.addrLists.get(binding) ?? [];
  }

  /** The index of a node, or -1. */
  indexOf(name: string): number {
    this.nameAt ??= new Map(this.names.map((n, i) => [n, i]));
    return this.nameAt.get(name) ?? -1;
  }

  /** The index of an address within a binding's list, or -1. */
  addrIndexOf(binding: string, addr: string): number {
    this.addrAt ??= new Map([...this.addrLists].map(([b, l]) => [b, new Map(l.map((a, i) => [a, i]))]));
    return this.addrAt.get(binding)?.get(addr) ?? -1;
  }
}

/**
 * Gives each table of a results message that names its peers by index (`peerSet`) the set's names and the
 * binding's addresses, after checking every index against them; why it cannot, or undefined. The schema has
 * checked the rest (ints, codes, tables without peers or addrs of their own). O(rows + same) of the message.
 */
export function resolvePeerSet(msg: { peerSet?: string | undefined; bindings: Record<string, PackedRows> }, set: PeerSet | undefined): string | undefined {
  if (msg.peerSet === undefined) return undefined;
  if (!set || set.id !== msg.peerSet) return `peerSet ${msg.peerSet}: not a peer set this aggregator offered (name the peers instead)`;
  const peers = set.names.length;
  for (const b in msg.bindings) {
    const t = msg.bindings[b]!;
    const addrs = set.addrs(b);
    const v = t.rows;
    const stride = strideOf(t);
    for (let o = 0; o < v.length; o += stride) {
      if (v[o + col.peer]! >= peers)
        return `bindings.${b.slice(0, limits.quoteChars)}.rows.${o / stride}: peer ${v[o + col.peer]} is not in the peer set of ${peers}`;
      if (v[o + col.addr]! >= addrs.length)
        return `bindings.${b.slice(0, limits.quoteChars)}.rows.${o / stride}: addr ${v[o + col.addr]} is not among the set's ${addrs.length} addresses on this binding`;
    }
    for (const i of t.same ?? []) if (i >= peers) return `bindings.${b.slice(0, limits.quoteChars)}.same: peer ${i} is not in the peer set of ${peers}`;
    t.peers = set.names;
    t.addrs = addrs;
  }
  return undefined;
}

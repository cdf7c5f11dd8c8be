// The bandwidth sample on the aggregator (README "Bandwidth sample"): the last sample of each pair (kept until
// the pair is measured again), the per-node median as sender for the metrics and the report, and the
// `bandwidth-low` finding: the pairs under the profile's `bandwidth >= RATE`, and the likely side: a node
// slow with several of its peers is the one to look at ("node-3 is slow with 3 of 4 peers"). Pure.
import type { Finding } from './findings.js';
import { MAX_EVIDENCE } from './findings.js';
import { formatRate } from './link-conditions.js';
import type { Profile } from './profile.js';
import { requirementFor } from './profile.js';
import { byNodeName } from './diagnosis-util.js';

export interface PairSample {
  from: string;
  to: string;
  mbps: number;
  at: number;
}

/** binding -> "from\0to" -> the last sample. Bounded by the inventory: one entry per ordered pair at most. */
export class BandwidthTable {
  readonly byBinding = new Map<string, Map<string, PairSample>>();

  record(binding: string, from: string, to: string, mbps: number, at: number): void {
    if (from === to) return;
    (this.byBinding.get(binding) ?? this.byBinding.set(binding, new Map()).get(binding)!).set(`${from}\0${to}`, { from, to, mbps, at });
  }

  pairs(binding: string): PairSample[] {
    return [...(this.byBinding.get(binding)?.values() ?? [])];
  }

  /** Forgets a node's samples both ways (it left the inventory, or its agent restarted on other hardware). */
  forget(node: string): void {
    for (const m of this.byBinding.values()) for (const [k, s] of m) if (s.from === node || s.to === node) m.delete(k);
  }
}

/** Each node's median as sender on a binding, Mb/s (the metric and the report's node list). */
export function senderMedians(pairs: readonly PairSample[]): Map<string, number> {
  const by = new Map<string, number[]>();
  for (const p of pairs) (by.get(p.from) ?? by.set(p.from, []).get(p.from)!).push(p.mbps);
  const out = new Map<string, number>();
  for (const [n, xs] of by) {
    const s = xs.sort((a, b) => a - b);
    const mid = s.length >> 1;
    out.set(n, s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2);
  }
  return out;
}

/**
 * Who is likely slow: repeatedly the node in slow pairs with the most distinct peers (at least 2, and more than
 * half of the peers it was measured with), its pairs then explained. What is left names both ends of each pair.
 */
export function blameSlow(pairs: readonly PairSample[], minMbps: number, present?: ReadonlySet<string>): { node: string; slow: number; of: number }[] {
  const use = pairs.filter((p) => !present || (present.has(p.from) && present.has(p.to)));
  const measured = new Map<string, Set<string>>();
  for (const p of use) {
    (measured.get(p.from) ?? measured.set(p.from, new Set()).get(p.from)!).add(p.to);
    (measured.get(p.to) ?? measured.set(p.to, new Set()).get(p.to)!).add(p.from);
  }
  let slow = use.filter((p) => p.mbps < minMbps);
  const out: { node: string; slow: number; of: number }[] = [];
  for (;;) {
    const peers = new Map<string, Set<string>>();
    for (const p of slow) {
      (peers.get(p.from) ?? peers.set(p.from, new Set()).get(p.from)!).add(p.to);
      (peers.get(p.to) ?? peers.set(p.to, new Set()).get(p.to)!).add(p.from);
    }
    const best = [...peers]
      .map(([node, s]) => ({ node, slow: s.size, of: measured.get(node)!.size }))
      .filter((x) => x.slow >= 2 && x.slow * 2 > x.of)
      .sort((a, b) => b.slow - a.slow || b.slow / b.of - a.slow / a.of || byNodeName(a.node, b.node))[0];
    if (!best) break;
    out.push(best);
    slow = slow.filter((p) => p.from !== best.node && p.to !== best.node);
  }
  return out;
}

/** The bandwidth-low finding of each binding with a `bandwidth >= RATE` condition and slow pairs. */
export function bandwidthFindings(profile: Profile, bindings: readonly string[], table: BandwidthTable | undefined, present: ReadonlySet<string>): Finding[] {
  const out: Finding[] = [];
  if (!table) return out;
  for (const b of bindings) {
    const req = requirementFor(profile, b);
    const cond = req.conditions.find((c) => c.type === 'link' && c.check === 'bandwidth');
    const min = req.bandwidthMbps;
    if (!cond || min === undefined) continue;
    const pairs = table.pairs(b).filter((p) => present.has(p.from) && present.has(p.to));
    const slow = pairs.filter((p) => p.mbps < min).sort((x, y) => x.mbps - y.mbps || byNodeName(x.from, y.from) || byNodeName(x.to, y.to));
    if (!slow.length) continue;
    const blamed = blameSlow(pairs, min, present);
    const named = new Set(blamed.map((x) => x.node));
    const loose = slow.filter((p) => !named.has(p.from) && !named.has(p.to));
    const nodes = [...new Set([...named, ...loose.flatMap((p) => [p.from, p.to])])].sort(byNodeName);
    const need = formatRate(min);
    const parts = [
      ...blamed.map((x) => `${x.node} is slow with ${x.slow} of ${x.of} peers`),
      ...loose.slice(0, 3).map((p) => `${p.from} -> ${p.to} at ${formatRate(p.mbps)}`),
    ];
    const worst = slow[0]!;
    out.push({
      severity: cond.severity,
      kind: 'bandwidth-low',
      binding: b,
      nodes,
      summary: `${b}: ${parts.join('; ')}${loose.length > 3 ? ` and ${loose.length - 3} more pair(s)` : ''} (under ${need})`,
      hint: blamed.length
        ? `${blamed[0]!.node} is the common end: check its NIC, cable and switch port (speed, errors, a shaper or policer) before its peers`
        : `${worst.from} -> ${worst.to} reached ${formatRate(worst.mbps)}, the profile needs ${need}: check the path between them (links, switch ports, a congested uplink)`,
      evidence: slow.slice(0, MAX_EVIDENCE).map((p) => ({ from: p.from, to: p.to, detail: `${formatRate(p.mbps)} measured; the profile needs ${need}` })),
    });
  }
  return out;
}

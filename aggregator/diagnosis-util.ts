// Small pure helpers shared by the diagnosis steps: naming the nodes at fault, listing names, describing a cell.
import type { TargetRow } from '../agent/contract/wire.js';
import type { Evidence, Severity } from './findings.js';
import { MAX_EVIDENCE } from './findings.js';

export interface Fail {
  from: string;
  to: string;
  detail: string;
  severity: Severity;
  ports?: number[];
}

export const worst = (fs: { severity: Severity }[]): Severity => (fs.some((f) => f.severity === 'error') ? 'error' : 'warning');
/** Node names in natural order (node-2 before node-10). One collator: localeCompare with options builds one a call (~30x slower). */
export const byNodeName = new Intl.Collator('en', { numeric: true }).compare;
export const sortNodes = (a: Iterable<string>) => [...new Set(a)].sort(byNodeName);
export const evidenceOf = (fs: Fail[]): Evidence[] => fs.slice(0, MAX_EVIDENCE).map(({ from, to, detail }) => ({ from, to, detail }));

/**
 * The few nodes that explain most failing pairs: greedily the node in the most uncovered pairs. A pair whose
 * nodes fail nowhere else names its destination only when it failed one way (the source merely observed it:
 * on first detection only one peer's round has seen the fault), both ends when it failed both ways. When
 * that names (nearly) every involved node, the binding itself is at fault and every involved node is named.
 */
export function blame(pairs: readonly { from: string; to: string }[]): string[] {
  const involved = sortNodes(pairs.flatMap((p) => [p.from, p.to]));
  const directed = new Set(pairs.map((p) => `${p.from}\u0000${p.to}`));
  // A failure both ways between two nodes is one fault between them, not evidence against either.
  const undirected = new Map(pairs.map((p) => [[p.from, p.to].sort().join('\u0000'), p]));
  let left = [...undirected.values()];
  const out: string[] = [];
  while (left.length) {
    const count = new Map<string, number>();
    for (const p of left) for (const n of [p.from, p.to]) count.set(n, (count.get(n) ?? 0) + 1);
    let best = '';
    let max = 0;
    for (const n of involved) if ((count.get(n) ?? 0) > max) [best, max] = [n, count.get(n)!];
    if (max <= 1) {
      for (const p of left) out.push(...(directed.has(`${p.to}\u0000${p.from}`) ? [p.from, p.to] : [p.to]));
      break;
    }
    out.push(best);
    left = left.filter((p) => p.from !== best && p.to !== best);
  }
  const named = sortNodes(out);
  return involved.length > 2 && named.length >= involved.length - 1 ? involved : named;
}

/** Names for a summary line: the first few, then how many more. */
export function list(names: string[], max = 6): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/** One pair's failing rows in a line: "198.18.1.3: icmp 0/3 filtered; tcp 3306 filtered". */
export function describeRows(rows: readonly TargetRow[], fallback: string): string {
  const parts: string[] = [];
  for (const r of rows) {
    const bits: string[] = [];
    if (r.icmp && r.icmp.outcome !== 'ok') bits.push(`icmp ${r.icmp.recv}/${r.icmp.sent} ${r.icmp.outcome}`);
    const badTcp = Object.entries(r.tcp ?? {}).filter(([, o]) => o !== 'ok');
    if (badTcp.length) bits.push(`tcp ${badTcp.map(([p, o]) => `${p} ${o}`).join(', ')}`);
    const badUdp = Object.entries(r.udp ?? {}).filter(([, o]) => o !== 'ok');
    if (badUdp.length) bits.push(`udp ${badUdp.map(([p, o]) => `${p} ${o}`).join(', ')}`);
    if (r.mtu && r.mtu.outcome !== 'ok') bits.push(`mtu ${r.mtu.size} ${r.mtu.outcome}`);
    if (bits.length) parts.push(`${r.addr}: ${bits.join('; ')}`);
  }
  return parts.join(' | ') || fallback;
}

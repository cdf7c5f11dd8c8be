// One binding seen in one address family: the cells of that family only, with the rows that another finding
// already explains taken out, classified again. Each family of a dual-stack binding is diagnosed on its own,
// so an IPv6-only break reads as an IPv6 reachability fault, not as "ports filtered" on a pair whose IPv4
// still works. Pure.
import type { TargetRow } from '../agent/contract/wire.js';
import { familyOf, familyText, type Family } from './findings.js';
import { classify, type BindingMatrix, type CellState } from './matrix.js';

export const pairKey = (a: string, b: string) => `${a}\u0000${b}`;

export interface PairCell {
  from: string;
  to: string;
  state: CellState;
  /** This family's rows, minus what is explained elsewhere. */
  rows: TargetRow[];
  /** When the round that measured it began (ms, to the second). */
  updatedAt: number;
}

export interface FamilyView {
  m: BindingMatrix;
  binding: string;
  family: Family;
  /** How summaries name it: "internal", or "internal IPv6" on a dual-stack binding. */
  label: string;
  /** Nodes whose agents report (or are stale): the only ones whose pairs mean anything. */
  present: string[];
  /** Pairs with rows kept by the matrix (not ok, or failing a condition), in this family. */
  cells: Map<string, PairCell>;
  /** The pair's state in this family ('ok' for a pair the matrix holds as healthy). */
  state(from: string, to: string): CellState;
}

/** Returns the row as far as it is not explained by another cause (undefined: nothing of it is left). */
export type RowFilter = (binding: string, from: string, to: string, row: TargetRow, since: number) => TargetRow | undefined;

export function familyViews(m: BindingMatrix, present: string[], families: Family[], filter: RowFilter): FamilyView[] {
  const presentSet = new Set(present);
  const detailed = new Set<string>();
  const per = new Map<Family, Map<string, PairCell>>(families.map((f) => [f, new Map()]));
  for (const c of m.detailed()) {
    if (!presentSet.has(c.from) || !presentSet.has(c.to)) continue;
    const k = pairKey(c.from, c.to);
    detailed.add(k);
    for (const r of c.rows ?? []) {
      const cells = per.get(familyOf(r.addr));
      if (!cells) continue;
      let pc = cells.get(k);
      if (!pc) cells.set(k, (pc = { from: c.from, to: c.to, state: 'none', rows: [], updatedAt: c.updatedAt }));
      const kept = filter(m.binding, c.from, c.to, r, c.since ?? c.updatedAt);
      if (kept) pc.rows.push(kept);
    }
  }
  const dual = families.length > 1;
  return families.map((family) => {
    const cells = per.get(family)!;
    for (const pc of cells.values()) pc.state = pc.rows.length ? classify(pc.rows) : 'none';
    return {
      m,
      binding: m.binding,
      family,
      label: dual ? `${m.binding}${familyText(family)}` : m.binding,
      present,
      cells,
      state: (a: string, b: string): CellState => {
        const k = pairKey(a, b);
        return cells.get(k)?.state ?? (detailed.has(k) ? 'none' : (m.cell(a, b)?.state ?? 'none'));
      },
    };
  });
}

/** ICMP loss of a pair in this family, 0..1 (0 for a pair the matrix holds as healthy). */
export function lossOf(v: FamilyView, from: string, to: string): number {
  const c = v.cells.get(pairKey(from, to));
  if (!c) return v.state(from, to) === 'ok' ? 0 : Number.NaN;
  let sent = 0;
  let recv = 0;
  for (const r of c.rows) if (r.icmp && r.icmp.outcome !== 'not-measured') [sent, recv] = [sent + r.icmp.sent, recv + r.icmp.recv];
  return sent ? 1 - recv / sent : Number.NaN;
}

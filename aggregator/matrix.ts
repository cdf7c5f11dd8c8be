// The connectivity matrix of one binding: N x N cells, one per ordered pair (from -> to).
// Sized for 1,000 nodes x 6 bindings: healthy cells live in typed arrays (17 bytes each); only cells
// that are not ok keep their full per-address rows (sparse map). Pure: no I/O, no clocks (times are passed in).
import type { TargetRow } from '../agent/wire.js';

/** Cell states, worst first after 'none'. One character each in the report's compact rows. */
export const cellStates = {
  none: '?', // no result yet (or only from a round older than the peer's responders)
  self: '-',
  unreachable: 'x', // nothing got through: ICMP lost (or not measured) and no TCP port answered
  mtu: 'm', // small packets pass, the DF probe at the required MTU does not
  port: 'p', // ICMP fine, some TCP port refused / filtered
  udp: 'u', // a UDP port did not echo
  loss: 'l', // some echoes lost
  ok: 'o',
} as const;
export type CellState = keyof typeof cellStates;
const stateList = Object.keys(cellStates) as CellState[];
const stateCode = new Map(stateList.map((s, i) => [s, i] as const));

/** Classifies the rows one source sent for one peer (one row per peer address) in one round. */
export function classify(rows: readonly TargetRow[]): CellState {
  let anyThrough = false;
  let lost = false;
  let port = false;
  let udp = false;
  let mtu = false;
  let measured = false;
  for (const r of rows) {
    if (r.icmp && r.icmp.outcome !== 'not-measured') {
      measured = true;
      if (r.icmp.recv > 0) anyThrough = true;
      if (r.icmp.recv < r.icmp.sent) lost = true;
    }
    for (const o of Object.values(r.tcp ?? {})) {
      if (o === 'ok' || o === 'refused') anyThrough = true; // a RST proves the path works
      if (o !== 'ok') port = true;
    }
    for (const o of Object.values(r.udp ?? {})) if (o !== 'ok' && o !== 'not-measured') udp = true;
    if (r.mtu && r.mtu.outcome !== 'ok' && r.mtu.outcome !== 'not-measured') mtu = true;
  }
  if (!anyThrough && (measured || port)) return 'unreachable';
  if (mtu) return 'mtu';
  if (port) return 'port';
  if (udp) return 'udp';
  if (lost) return 'loss';
  return 'ok';
}

export interface CellView {
  from: string;
  to: string;
  state: CellState;
  /** ms; NaN when unknown */
  rttAvg: number;
  rttP99: number;
  /** 0..1 */
  loss: number;
  updatedAt: number;
  /** Full rows, kept only for cells that are not ok. */
  rows?: readonly TargetRow[];
}

export class BindingMatrix {
  readonly n: number;
  private readonly index: Map<string, number>;
  private readonly state: Uint8Array;
  private readonly rttAvg: Float32Array;
  private readonly rttP99: Float32Array;
  private readonly loss: Float32Array;
  /** Seconds since the epoch (Uint32 is enough until 2106 and saves 4 bytes a cell). */
  private readonly updated: Uint32Array;
  private readonly detail = new Map<number, readonly TargetRow[]>();

  constructor(
    readonly binding: string,
    readonly nodes: readonly string[],
    /** Keep the full rows of an 'ok' cell too when this says so (it fails a profile condition, e.g. RTT). */
    private readonly keepDetail?: (rows: readonly TargetRow[]) => boolean,
  ) {
    this.n = nodes.length;
    this.index = new Map(nodes.map((n, i) => [n, i]));
    const cells = this.n * this.n;
    this.state = new Uint8Array(cells);
    this.rttAvg = new Float32Array(cells).fill(NaN);
    this.rttP99 = new Float32Array(cells).fill(NaN);
    this.loss = new Float32Array(cells).fill(NaN);
    this.updated = new Uint32Array(cells);
    for (let i = 0; i < this.n; i++) this.state[i * this.n + i] = stateCode.get('self')!;
  }

  indexOf(node: string): number | undefined {
    return this.index.get(node);
  }

  /**
   * Applies one source's rows from one round. Rows for a peer whose responders came up after the round
   * started (`peerReadyAt(peer) > roundStart`) are held back as 'none': they would blame a port that simply
   * was not open yet. Returns the peers named in rows that are not in this matrix (for a warning).
   */
  apply(from: string, rows: readonly TargetRow[], roundStart: number, peerReadyAt: (peer: string) => number): string[] {
    const src = this.index.get(from);
    if (src === undefined) return [];
    const unknown: string[] = [];
    const byPeer = new Map<string, TargetRow[]>();
    for (const r of rows) {
      const list = byPeer.get(r.peer);
      if (list) list.push(r);
      else byPeer.set(r.peer, [r]);
    }
    for (const [peer, prow] of byPeer) {
      const dst = this.index.get(peer);
      if (dst === undefined) {
        unknown.push(peer);
        continue;
      }
      if (dst === src) continue;
      const cell = src * this.n + dst;
      if (peerReadyAt(peer) > roundStart) {
        this.state[cell] = stateCode.get('none')!;
        this.detail.delete(cell);
        continue;
      }
      const st = classify(prow);
      this.state[cell] = stateCode.get(st)!;
      this.updated[cell] = Math.floor(roundStart / 1000);
      let sent = 0;
      let recv = 0;
      let avgSum = 0;
      let p99 = NaN;
      for (const r of prow) {
        if (!r.icmp || r.icmp.outcome === 'not-measured') continue;
        sent += r.icmp.sent;
        recv += r.icmp.recv;
        if (r.icmp.rtt) {
          avgSum += r.icmp.rtt[1] * r.icmp.recv;
          p99 = Number.isNaN(p99) ? r.icmp.rtt[4] : Math.max(p99, r.icmp.rtt[4]);
        }
      }
      this.loss[cell] = sent > 0 ? 1 - recv / sent : NaN;
      this.rttAvg[cell] = recv > 0 ? avgSum / recv : NaN;
      this.rttP99[cell] = p99;
      if (st === 'ok' && !this.keepDetail?.(prow)) this.detail.delete(cell);
      else this.detail.set(cell, prow);
    }
    return unknown;
  }

  /** Forgets everything a node measured (its agent went away): its row falls back to 'none'. */
  clearRow(from: string): void {
    const src = this.index.get(from);
    if (src === undefined) return;
    for (let dst = 0; dst < this.n; dst++) {
      if (dst === src) continue;
      const cell = src * this.n + dst;
      this.state[cell] = 0;
      this.detail.delete(cell);
    }
  }

  cell(from: string, to: string): CellView | undefined {
    const s = this.index.get(from);
    const d = this.index.get(to);
    if (s === undefined || d === undefined) return undefined;
    return this.view(s, d);
  }

  private view(s: number, d: number): CellView {
    const c = s * this.n + d;
    const rows = this.detail.get(c);
    return {
      from: this.nodes[s]!,
      to: this.nodes[d]!,
      state: stateList[this.state[c]!]!,
      rttAvg: this.rttAvg[c]!,
      rttP99: this.rttP99[c]!,
      loss: this.loss[c]!,
      updatedAt: this.updated[c]! * 1000,
      ...(rows ? { rows } : {}),
    };
  }

  /** Every cell that is neither ok nor self nor none, in row-major order. */
  *problems(): Generator<CellView> {
    const none = stateCode.get('none')!;
    const self = stateCode.get('self')!;
    const ok = stateCode.get('ok')!;
    for (let c = 0; c < this.state.length; c++) {
      const st = this.state[c]!;
      if (st !== none && st !== self && st !== ok) yield this.view(Math.floor(c / this.n), c % this.n);
    }
  }

  /** Every cell that keeps its full rows (every problem, plus ok cells that fail a condition). */
  *detailed(): Generator<CellView> {
    for (const c of [...this.detail.keys()].sort((a, b) => a - b)) yield this.view(Math.floor(c / this.n), c % this.n);
  }

  /** Counts per state (self excluded). */
  counts(): Record<CellState, number> {
    const out = Object.fromEntries(stateList.map((s) => [s, 0])) as Record<CellState, number>;
    for (let c = 0; c < this.state.length; c++) out[stateList[this.state[c]!]!]++;
    out.self = 0;
    return out;
  }

  /** Compact rows for the report: one string per source node, one character per destination. */
  stateRows(): string[] {
    const chars = stateList.map((s) => cellStates[s]);
    const out: string[] = [];
    for (let s = 0; s < this.n; s++) {
      let row = '';
      for (let d = 0; d < this.n; d++) row += chars[this.state[s * this.n + d]!];
      out.push(row);
    }
    return out;
  }

  /** RTT p99 rows in ms (2 decimals; null where unknown). */
  rttRows(): (number | null)[][] {
    const out: (number | null)[][] = [];
    for (let s = 0; s < this.n; s++) {
      const row: (number | null)[] = [];
      for (let d = 0; d < this.n; d++) {
        const v = this.rttP99[s * this.n + d]!;
        row.push(Number.isNaN(v) ? null : Math.round(v * 100) / 100);
      }
      out.push(row);
    }
    return out;
  }

  /** All RTT averages of healthy-enough cells (for per-binding distributions, not per pair). */
  rttSamples(): number[] {
    const out: number[] = [];
    for (const v of this.rttAvg) if (!Number.isNaN(v)) out.push(v);
    return out;
  }

  /** Number of cells from `from` that have a result. */
  measuredFrom(from: string): number {
    const s = this.index.get(from);
    if (s === undefined) return 0;
    let k = 0;
    for (let d = 0; d < this.n; d++) if (d !== s && this.state[s * this.n + d] !== 0) k++;
    return k;
  }
}

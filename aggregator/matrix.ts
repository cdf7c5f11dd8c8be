// The connectivity matrix of one binding: N x N cells, one per ordered pair (from -> to).
// Sized for 1,000 nodes x 6 bindings: healthy cells live in typed arrays (17 bytes each); only cells
// that are not ok keep their full per-address rows (sparse map). Pure: no I/O, no clocks (times are passed in).
import type { TargetRow } from '../agent/contract/wire.js';
import { cellStateDefs, cellStateNames, type CellState } from './cell-states.js';

export type { CellState };
/** Each state's one-character code in the report's compact rows (defined in cell-states.ts). */
export const cellStates = Object.fromEntries(cellStateNames.map((s) => [s, cellStateDefs[s].code])) as { [K in CellState]: (typeof cellStateDefs)[K]['code'] };
const stateList = cellStateNames;
const stateCode = new Map(stateList.map((s, i) => [s, i] as const));

// Per-row facts as bits, so a round is classified without allocating (6M rows a round at 1,000 nodes).
const THROUGH = 1; // something came back: an echo, a connect, or a RST (a RST proves the path works)
const LOST = 2;
const PORT = 4;
const UDP = 8;
const MTU = 16;
const MEASURED = 32; // ICMP was measured (not 'not-measured')

function rowFlags(r: TargetRow): number {
  let f = 0;
  const ic = r.icmp;
  if (ic && ic.outcome !== 'not-measured') {
    f |= MEASURED;
    if (ic.recv > 0) f |= THROUGH;
    if (ic.recv < ic.sent) f |= LOST;
  }
  const tcp = r.tcp;
  if (tcp) {
    for (const k in tcp) {
      const o = tcp[k];
      if (o === 'ok' || o === 'refused') f |= THROUGH;
      if (o !== 'ok') f |= PORT;
    }
  }
  const udp = r.udp;
  if (udp) for (const k in udp) if (udp[k] !== 'ok' && udp[k] !== 'not-measured') f |= UDP;
  if (r.mtu && r.mtu.outcome !== 'ok' && r.mtu.outcome !== 'not-measured') f |= MTU;
  return f;
}

function stateOfFlags(f: number): CellState {
  if (!(f & THROUGH) && f & (MEASURED | PORT)) return 'unreachable';
  if (f & MTU) return 'mtu';
  if (f & PORT) return 'port';
  if (f & UDP) return 'udp';
  if (f & LOST) return 'loss';
  return 'ok';
}

/** Classifies the rows one source sent for one peer (one row per peer address) in one round. */
export function classify(rows: readonly TargetRow[]): CellState {
  let f = 0;
  for (const r of rows) f |= rowFlags(r);
  return stateOfFlags(f);
}

interface Scratch {
  first: (TargetRow | undefined)[];
  more: (TargetRow[] | undefined)[];
  flags: Uint8Array;
  sent: Uint32Array;
  recv: Uint32Array;
  avgSum: Float64Array;
  p99: Float64Array;
  touched: Int32Array;
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
  /** 1 once the cell was measured after its destination's agent (re)announced its responders. */
  private readonly current: Uint8Array;
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
    this.current = new Uint8Array(cells);
    for (let i = 0; i < this.n; i++) this.state[i * this.n + i] = stateCode.get('self')!;
  }

  indexOf(node: string): number | undefined {
    return this.index.get(node);
  }

  /**
   * Applies one source's rows from one round. Rows for a peer whose responders came up after the round
   * started (`peerReadyAt(peer) > roundStart`) are ignored: they would blame a port that simply was not
   * open yet; the cell keeps what it knew. Returns the peers named in rows that are not in this matrix (for a warning).
   */
  // size: one pass over a results message's rows; each rule of a row kept beside the others
  apply(from: string, rows: readonly TargetRow[], roundStart: number, peerReadyAt: (peer: string) => number): string[] {
    const src = this.index.get(from);
    if (src === undefined) return [];
    const unknown: string[] = [];
    const sc = this.scratch();
    let touched = 0;
    // Pass 1: fold every row into its destination's accumulators (rows of one peer need not be adjacent).
    let lastPeer = '';
    let dst: number | undefined = -1;
    for (const r of rows) {
      if (r.peer !== lastPeer) {
        lastPeer = r.peer;
        dst = this.index.get(r.peer);
        if (dst === undefined) unknown.push(r.peer);
      }
      if (dst === undefined || dst === src) continue;
      if (sc.first[dst] === undefined) {
        sc.first[dst] = r;
        sc.touched[touched++] = dst;
      } else (sc.more[dst] ??= []).push(r);
      sc.flags[dst]! |= rowFlags(r);
      const ic = r.icmp;
      if (ic && ic.outcome !== 'not-measured') {
        sc.sent[dst]! += ic.sent;
        sc.recv[dst]! += ic.recv;
        if (ic.rtt) {
          sc.avgSum[dst]! += ic.rtt[1] * ic.recv;
          if (!(sc.p99[dst]! >= ic.rtt[4])) sc.p99[dst] = ic.rtt[4];
        }
      }
    }
    // Pass 2: one cell per destination; reset the accumulators as we go.
    const stamp = Math.floor(roundStart / 1000);
    for (let i = 0; i < touched; i++) {
      const d = sc.touched[i]!;
      const cell = src * this.n + d;
      const first = sc.first[d]!;
      const more = sc.more[d];
      const flags = sc.flags[d]!;
      const sent = sc.sent[d]!;
      const recv = sc.recv[d]!;
      const avgSum = sc.avgSum[d]!;
      const p99 = sc.p99[d]!;
      sc.first[d] = undefined;
      sc.more[d] = undefined;
      sc.flags[d] = 0;
      sc.sent[d] = 0;
      sc.recv[d] = 0;
      sc.avgSum[d] = 0;
      sc.p99[d] = NaN;
      // Probed before the peer's responders were (re)announced: not held against it, and not allowed to
      // overwrite what the cell already knew either (a re-announcing peer must not flicker to 'no result').
      if (peerReadyAt(this.nodes[d]!) > roundStart) continue;
      const st = stateOfFlags(flags);
      this.state[cell] = stateCode.get(st)!;
      this.updated[cell] = stamp;
      this.current[cell] = 1;
      this.loss[cell] = sent > 0 ? 1 - recv / sent : NaN;
      this.rttAvg[cell] = recv > 0 ? avgSum / recv : NaN;
      this.rttP99[cell] = p99;
      if (st === 'ok' && !this.keepDetail) {
        if (this.detail.size) this.detail.delete(cell);
        continue;
      }
      if (st === 'ok') {
        // The hook runs on every healthy pair: hand it a reused one-row array, allocate only to keep.
        this.one[0] = first;
        if (!this.keepDetail!(more ? [first, ...more] : this.one)) {
          if (this.detail.size) this.detail.delete(cell);
          continue;
        }
      }
      this.detail.set(cell, more ? [first, ...more] : [first]);
    }
    return unknown;
  }

  private readonly one: TargetRow[] = [];
  private sc: Scratch | undefined;
  /** Per-destination accumulators, allocated once per matrix and reset after each apply. */
  private scratch(): Scratch {
    return (this.sc ??= {
      first: new Array<TargetRow | undefined>(this.n),
      more: new Array<TargetRow[] | undefined>(this.n),
      flags: new Uint8Array(this.n),
      sent: new Uint32Array(this.n),
      recv: new Uint32Array(this.n),
      avgSum: new Float64Array(this.n),
      p99: new Float64Array(this.n).fill(NaN),
      touched: new Int32Array(this.n),
    });
  }

  /**
   * Live inventory: takes over what `old` (the matrix before a reload) knew of every pair `keep` accepts
   * (both nodes still here, their addresses on this binding unchanged). Those cells keep their state, RTTs,
   * rows and currency, so the verdict does not wait for them again. Returns how many cells were kept.
   */
  adopt(old: BindingMatrix, keep: (from: string, to: string) => boolean, current = true): number {
    let kept = 0;
    for (let s = 0; s < this.n; s++) {
      const os = old.index.get(this.nodes[s]!);
      if (os === undefined) continue;
      for (let d = 0; d < this.n; d++) {
        if (d === s) continue;
        const od = old.index.get(this.nodes[d]!);
        if (od === undefined || !keep(this.nodes[s]!, this.nodes[d]!)) continue;
        const c = s * this.n + d;
        const oc = os * old.n + od;
        this.state[c] = old.state[oc]!;
        this.rttAvg[c] = old.rttAvg[oc]!;
        this.rttP99[c] = old.rttP99[oc]!;
        this.loss[c] = old.loss[oc]!;
        this.updated[c] = old.updated[oc]!;
        this.current[c] = current ? old.current[oc]! : 0;
        const rows = old.detail.get(oc);
        if (rows) this.detail.set(c, rows);
        kept++;
      }
    }
    return kept;
  }

  /** Forgets everything a node measured (its agent went away): its row falls back to 'none'. */
  clearRow(from: string): void {
    const src = this.index.get(from);
    if (src === undefined) return;
    for (let dst = 0; dst < this.n; dst++) {
      if (dst === src) continue;
      const cell = src * this.n + dst;
      this.state[cell] = 0;
      this.current[cell] = 0;
      this.detail.delete(cell);
    }
  }

  /**
   * A node's agent came up or its responders changed: what the others measured toward it is from before
   * (e.g. its ports refused while nothing listened). The cells keep showing it, but are no longer current.
   */
  expireColumn(to: string): void {
    const dst = this.index.get(to);
    if (dst === undefined) return;
    for (let src = 0; src < this.n; src++) if (src !== dst) this.current[src * this.n + dst] = 0;
  }

  /**
   * Destinations with a cell not measured since their (re)announce, among pairs whose source reports (`src`)
   * and whose destination's agent is up (`dst`), both holding an address on this binding (`member`). Adds them
   * to `out`: the verdict waits for them.
   */
  notCurrent(src: (i: number) => boolean, dst: (i: number) => boolean, member: (i: number) => boolean, out: Set<string>): void {
    const n = this.n;
    for (let d = 0; d < n; d++) {
      if (out.has(this.nodes[d]!) || !dst(d) || !member(d)) continue;
      for (let s = 0; s < n; s++) {
        if (s !== d && this.current[s * n + d] === 0 && src(s) && member(s)) {
          out.add(this.nodes[d]!);
          break;
        }
      }
    }
  }

  /** The currency of every cell (n x n, row-major; 1 = measured since its destination came up): coverage.ts reads it. */
  currentCells(): Readonly<Uint8Array> {
    return this.current;
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

  /** How many cells keep their full rows (0: every measured cell is ok and passes its conditions). */
  get detailCount(): number {
    return this.detail.size;
  }

  /** Every cell that keeps its full rows (every problem, plus ok cells that fail a condition). */
  *detailed(): Generator<CellView> {
    for (const c of [...this.detail.keys()].sort((a, b) => a - b)) yield this.view(Math.floor(c / this.n), c % this.n);
  }

  /** Counts per state (self excluded). */
  counts(): Record<CellState, number> {
    const byCode = new Uint32Array(stateList.length);
    for (let c = 0; c < this.state.length; c++) byCode[this.state[c]!]!++;
    const out = Object.fromEntries(stateList.map((s, i) => [s, byCode[i]!])) as Record<CellState, number>;
    out.self = 0;
    return out;
  }

  /** Compact rows for the report: one string per source node, one character per destination. */
  stateRows(): string[] {
    const chars = Buffer.from(stateList.map((s) => cellStates[s]).join(''), 'latin1');
    const row = Buffer.allocUnsafe(this.n);
    const out: string[] = [];
    for (let s = 0; s < this.n; s++) {
      const base = s * this.n;
      for (let d = 0; d < this.n; d++) row[d] = chars[this.state[base + d]!]!;
      out.push(row.toString('latin1'));
    }
    return out;
  }

  /** RTT p99 rows in ms (3 decimals, as agents send them: kernel-timed LAN RTTs are tens of us; null where unknown). */
  rttRows(): (number | null)[][] {
    const out: (number | null)[][] = [];
    for (let s = 0; s < this.n; s++) {
      const row: (number | null)[] = [];
      for (let d = 0; d < this.n; d++) {
        const v = this.rttP99[s * this.n + d]!;
        row.push(Number.isNaN(v) ? null : Math.round(v * 1000) / 1000);
      }
      out.push(row);
    }
    return out;
  }
}

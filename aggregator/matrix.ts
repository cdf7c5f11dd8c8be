// The connectivity matrix of one binding: N x N cells, one per ordered pair (from -> to).
// Sized for 1,000 nodes x 6 bindings: healthy cells live in typed arrays (8 bytes each); only cells
// that are not ok keep their full per-address rows (sparse map). Pure: no I/O, no clocks (times are passed in).
import type { TargetRow } from '../agent/contract/wire.js';
import { unpackRow, type PackedRows } from '../agent/contract/wire-packed.js';
import { decodeLoss, decodeRtt, encodeLoss, encodeRtt } from './cell-codec.js';
import { CellStamps } from './cell-stamps.js';
import { cellStateDefs, cellStateNames, type CellState } from './cell-states.js';
import { foldRows, lossOf, newScratch, resetScratch, stateOfFlags, type PairIcmp, type Scratch } from './row-flags.js';
import { RowTexts } from './row-text.js';
import type { CellView } from './cell-view.js';

export { classify, type PairIcmp } from './row-flags.js';
export type { CellState };
export type { CellView } from './cell-view.js';
/** Each state's one-character code in the report's compact rows (defined in cell-states.ts). */
export const cellStates = Object.fromEntries(cellStateNames.map((s) => [s, cellStateDefs[s].code])) as { [K in CellState]: (typeof cellStateDefs)[K]['code'] };
const stateList = cellStateNames;
const stateCode = new Map(stateList.map((s, i) => [s, i] as const));
/** Each state code's character, as bytes (one a cell of a report row). */
const stateChars = Buffer.from(stateList.map((s) => cellStates[s]).join(''), 'latin1');

const CURRENT = 1;
const HELD = 2;
const FLAGS = CURRENT | HELD;

/** Since when a destination's responders count, by its name or its index here (readiness.ts keeps it by index). */
export type ReadyAt = (peer: string, d: number) => number;

export class BindingMatrix {
  readonly n: number;
  private readonly index: Map<string, number>;
  /**
   * Per cell: its state code << 2, bit HELD (2): it holds a result taken from rows (what a delta round's
   * "unchanged" may refer to), bit CURRENT (1): it was measured after its destination's agent (re)announced its
   * responders. One byte, not two: 6 MiB less at 1,000 x 6.
   */
  private readonly state: Uint8Array;
  /** RTTs and loss encoded by cell-codec.ts (0: none). */
  private readonly rttAvg: Uint16Array;
  private readonly rttP99: Uint16Array;
  private readonly loss: Uint8Array;
  /** When each cell was last measured (2 bytes a cell). */
  private readonly updated: CellStamps;
  /** Bumped whenever a cell's CURRENT bit changes: coverage is recounted only then (6M cells at 1,000 x 6). */
  currencyVersion = 0;
  /** Per source row: the currencyVersion of its last CURRENT change, so coverage recounts only those rows. Read only. */
  readonly rowCurrency: Float64Array;
  /**
   * Per destination: 1 once a cell of its column may have its CURRENT bit set. A hello expires its node's column,
   * a strided walk of n cells a binding; a fleet starting says ~2 hellos a node before any cell is current, so
   * skipping clean columns saves ~0.1 s of round 0 at 1,000 x 6.
   */
  private readonly colCurrent: Uint8Array;
  private readonly detail = new Map<number, readonly TargetRow[]>();
  /** Per cell with detail: when its current state was first measured (seconds since 1970; sparse, like detail). */
  private readonly since = new Map<number, number>();

  /** The report's rows as text, kept per source row until one of its cells changes state (row-text.ts). */
  private readonly texts: RowTexts;

  /** Cells per state code, kept by setState: verdict, metrics and report read counts without a scan. */
  private readonly byState = new Uint32Array(stateList.length);

  constructor(
    readonly binding: string,
    readonly nodes: readonly string[],
    /**
     * Keep the full rows of an 'ok' cell too when this says so (it fails a profile condition, e.g. RTT). It judges
     * the pair's ICMP figures; `rows()` builds the pair's row objects, for a hook that needs more.
     */
    private readonly keepDetail?: (icmp: PairIcmp, rows: () => readonly TargetRow[]) => boolean,
  ) {
    this.n = nodes.length;
    this.index = new Map(nodes.map((n, i) => [n, i]));
    const cells = this.n * this.n;
    this.state = new Uint8Array(cells);
    this.byState[0] = cells;
    this.rttAvg = new Uint16Array(cells);
    this.rttP99 = new Uint16Array(cells);
    this.loss = new Uint8Array(cells);
    this.updated = new CellStamps(cells);
    this.colCurrent = new Uint8Array(this.n);
    this.rowCurrency = new Float64Array(this.n);
    const row = Buffer.allocUnsafe(this.n);
    this.texts = new RowTexts(this.n, (s) => {
      for (let d = 0; d < this.n; d++) row[d] = stateChars[this.state[s * this.n + d]! >> 2]!;
      return row.toString('latin1');
    });
    // Fault the pages in now (~0.2 s for 6 x 1,000 x 1,000 cells), at start or reload, not on the first round's writes.
    for (const a of [this.state, this.rttAvg, this.rttP99, this.loss]) a.fill(0);
    for (let i = 0; i < this.n; i++) this.setState(i * this.n + i, stateCode.get('self')!);
  }

  /** Cell `cell` (toward `d`) holds a result taken now: HELD and CURRENT (coverage is recounted if that bit was not set). */
  private markHeld(cell: number, d: number): void {
    const v = this.state[cell]!;
    if (!(v & CURRENT)) this.rowCurrency[(cell - d) / this.n] = ++this.currencyVersion;
    this.state[cell] = v | FLAGS;
    this.colCurrent[d] = 1;
  }

  /** The one way a cell's state changes: the per-state counts follow. */
  private setState(cell: number, st: number): void {
    const v = this.state[cell]!;
    if (v >> 2 !== st) this.texts.invalidate((cell / this.n) | 0);
    this.byState[v >> 2]!--;
    this.byState[st]!++;
    this.state[cell] = (st << 2) | (v & FLAGS);
  }

  indexOf(node: string): number | undefined {
    return this.index.get(node);
  }

  /**
   * Applies one source's rows from one round (one binding's packed table of a results message). Rows for a peer
   * whose responders came up after the round started (`peerReadyAt(peer) > roundStart`) are ignored: they would
   * blame a port that simply was not open yet; the cell keeps what it knew. Returns the peers named in rows that
   * are not in this matrix (for a warning); adds the peers whose rows were set aside to `setAside`.
   */
  apply(from: string, p: PackedRows, roundStart: number, peerReadyAt: ReadyAt, setAside?: Set<string>): string[] {
    const src = this.index.get(from);
    if (src === undefined) return [];
    const unknown: string[] = [];
    // A resolved peer set's tables index this very node list: no lookup. Named peers: one lookup a message, not a row.
    const dstOf =
      p.peers === this.nodes
        ? (this.identity ??= Array.from({ length: this.n }, (_, i) => i))
        : p.peers.map((name) => {
            const d = this.index.get(name);
            if (d === undefined) unknown.push(name);
            return d ?? -1;
          });
    const touched = foldRows(this.scratch(), p, src, dstOf);
    const sc = this.sc!;
    const stamp = this.updated.offsetOf(Math.floor(roundStart / 1000));
    for (let i = 0; i < touched; i++) {
      const d = sc.touched[i]!;
      // Probed before the peer's responders were (re)announced: not held against it, and not allowed to
      // overwrite what the cell already knew either (a re-announcing peer must not flicker to 'no result').
      if (!(peerReadyAt(this.nodes[d]!, d) > roundStart)) this.store(src * this.n + d, d, p, stamp);
      else setAside?.add(this.nodes[d]!);
      resetScratch(sc, d);
    }
    return unknown;
  }

  /**
   * A delta round's unchanged peers (`p.same`): each cell keeps what it holds and counts as measured this round,
   * if what it holds came from rows taken since the peer (re)announced. Otherwise (the aggregator restarted,
   * cleared the row, or set those rows aside) it cannot: the peer goes into `resend`, and its agent sends it whole.
   */
  applySame(from: string, p: PackedRows, roundStart: number, peerReadyAt: ReadyAt, resend: Set<string>): void {
    const src = this.index.get(from);
    if (src === undefined || !p.same) return;
    const stamp = this.updated.offsetOf(Math.floor(roundStart / 1000));
    const own = p.peers === this.nodes;
    for (const i of p.same) {
      const name = p.peers[i]!;
      const d = own ? i : this.index.get(name);
      if (d === undefined || d === src) continue;
      const cell = src * this.n + d;
      const ready = peerReadyAt(name, d);
      if (ready > roundStart || (this.state[cell]! & HELD) === 0 || this.updated.at(cell) * 1000 < ready) {
        resend.add(name);
        continue;
      }
      this.updated.set(cell, stamp);
      this.markHeld(cell, d);
    }
  }

  /** Pass 2, one destination: its cell from the accumulators; nothing allocated for a healthy pair. */
  private store(cell: number, d: number, p: PackedRows, stamp: number): void {
    const sc = this.sc!;
    const st = stateOfFlags(sc.flags[d]!);
    const code = stateCode.get(st)!;
    const changed = this.state[cell]! >> 2 !== code;
    this.setState(cell, code);
    this.updated.set(cell, stamp);
    this.markHeld(cell, d);
    const sent = sc.sent[d]!;
    const recv = sc.recv[d]!;
    this.loss[cell] = encodeLoss(sent > 0 ? 1 - recv / sent : NaN);
    this.rttAvg[cell] = encodeRtt(recv > 0 ? sc.avgSum[d]! / recv : NaN);
    this.rttP99[cell] = encodeRtt(sc.p99[d]!);
    // Row objects only for cells that keep detail (not ok, or ok but failing a condition).
    if (st === 'ok') {
      const keep = this.keepDetail;
      if (keep) {
        const ic = this.icmp;
        ic.sent = sent;
        ic.recv = recv;
        ic.min = sc.min[d]!;
        ic.avg = sc.avg[d]!;
        ic.max = sc.max[d]!;
        ic.p50 = sc.p50[d]!;
        ic.p99 = sc.p99[d]!;
        this.curP = p;
        this.curD = d;
      }
      const kept = keep?.(this.icmp, this.curRows);
      this.curP = undefined; // it may be a view of a whole results frame
      if (!kept) {
        if (this.detail.size) {
          this.detail.delete(cell);
          this.since.delete(cell);
        }
        return;
      }
    }
    this.detail.set(cell, this.rowsOf(p, d));
    if (changed || !this.since.has(cell)) this.since.set(cell, this.updated.at(cell));
  }

  /** The row objects toward destination `d` of the table being applied (before its accumulators reset). */
  private rowsOf(p: PackedRows, d: number): TargetRow[] {
    const sc = this.sc!;
    const rows = [unpackRow(p, sc.first[d]!)];
    for (const i of sc.more[d] ?? []) rows.push(unpackRow(p, i));
    return rows;
  }

  /** Reused for every healthy pair the keep-detail hook judges: no object a pair. */
  private readonly icmp: PairIcmp = { sent: 0, recv: 0, min: NaN, avg: NaN, max: NaN, p50: NaN, p99: NaN };
  private curP: PackedRows | undefined;
  private curD = -1;
  private readonly curRows = () => this.rowsOf(this.curP!, this.curD);

  private identity: number[] | undefined;
  private sc: Scratch | undefined;
  private scratch(): Scratch {
    return (this.sc ??= newScratch(this.n));
  }

  /**
   * Live inventory: takes over what `old` (the matrix before a reload) knew of every pair `keep` accepts
   * (both nodes still here, their addresses on this binding unchanged). Those cells keep their state, RTTs,
   * rows and currency, so the verdict does not wait for them again. Returns how many cells were kept.
   */
  adopt(old: BindingMatrix, keep: (from: string, to: string) => boolean, current = true): number {
    let kept = 0;
    this.rowCurrency.fill(++this.currencyVersion);
    for (let s = 0; s < this.n; s++) {
      const os = old.index.get(this.nodes[s]!);
      if (os === undefined) continue;
      for (let d = 0; d < this.n; d++) {
        if (d === s) continue;
        const od = old.index.get(this.nodes[d]!);
        if (od === undefined || !keep(this.nodes[s]!, this.nodes[d]!)) continue;
        const c = s * this.n + d;
        const oc = os * old.n + od;
        this.setState(c, old.state[oc]! >> 2);
        this.rttAvg[c] = old.rttAvg[oc]!;
        this.rttP99[c] = old.rttP99[oc]!;
        this.loss[c] = old.loss[oc]!;
        this.updated.copy(old.updated, oc, c);
        const flags = current ? old.state[oc]! & FLAGS : 0;
        this.state[c] = (this.state[c]! & ~FLAGS) | flags;
        if (flags & CURRENT) this.colCurrent[d] = 1;
        const rows = old.detail.get(oc);
        if (rows) this.detail.set(c, rows);
        const since = old.since.get(oc);
        if (since !== undefined) this.since.set(c, since);
        kept++;
      }
    }
    return kept;
  }

  /** Forgets everything a node measured (its agent went away): its row falls back to 'none'. */
  clearRow(from: string): void {
    const src = this.index.get(from);
    if (src === undefined) return;
    this.rowCurrency[src] = ++this.currencyVersion;
    for (let dst = 0; dst < this.n; dst++) {
      if (dst === src) continue;
      const cell = src * this.n + dst;
      this.setState(cell, 0);
      this.state[cell] = 0;
      this.detail.delete(cell);
      this.since.delete(cell);
    }
  }

  /**
   * A node's agent came up or its responders changed: what the others measured toward it is from before
   * (e.g. its ports refused while nothing listened). The cells keep showing it, but are no longer current.
   */
  expireColumn(to: string): void {
    const dst = this.index.get(to);
    if (dst === undefined || !this.colCurrent[dst]) return;
    const version = ++this.currencyVersion;
    for (let src = 0; src < this.n; src++) {
      const c = src * this.n + dst;
      if (src === dst || !(this.state[c]! & CURRENT)) continue;
      this.state[c] = this.state[c]! & ~CURRENT;
      this.rowCurrency[src] = version;
    }
    this.colCurrent[dst] = 0;
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
        if (s !== d && (this.state[s * n + d]! & CURRENT) === 0 && src(s) && member(s)) {
          out.add(this.nodes[d]!);
          break;
        }
      }
    }
  }

  /** The currency of every cell (n x n, row-major; bit 0 = measured since its destination came up): coverage.ts reads it. */
  currentCells(): Readonly<Uint8Array> {
    return this.state;
  }

  cell(from: string, to: string): CellView | undefined {
    const s = this.index.get(from);
    const d = this.index.get(to);
    return s === undefined || d === undefined ? undefined : this.view(s, d);
  }

  private view(s: number, d: number): CellView {
    const c = s * this.n + d;
    const rows = this.detail.get(c);
    return {
      from: this.nodes[s]!,
      to: this.nodes[d]!,
      state: stateList[this.state[c]! >> 2]!,
      rttAvg: decodeRtt(this.rttAvg[c]!),
      rttP99: decodeRtt(this.rttP99[c]!),
      // A cell with loss always keeps its rows (it is not ok): loss from them is exact; the byte is for the rest.
      loss: rows ? lossOf(rows) : decodeLoss(this.loss[c]!),
      updatedAt: this.updated.at(c) * 1000,
      ...(rows ? { rows, since: (this.since.get(c) ?? this.updated.at(c)) * 1000 } : {}),
    };
  }

  /**
   * Every cell that is neither ok nor self nor none, in row-major order. Such a cell always keeps its rows, so
   * this reads only the sparse detail map, never the N x N states.
   */
  *problems(): Generator<CellView> {
    const none = stateCode.get('none')!;
    const self = stateCode.get('self')!;
    const ok = stateCode.get('ok')!;
    for (const c of [...this.detail.keys()].sort((a, b) => a - b)) {
      const st = this.state[c]! >> 2;
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

  /** Counts per state (self excluded), kept incrementally. */
  counts(): Record<CellState, number> {
    const out = Object.fromEntries(stateList.map((s, i) => [s, this.byState[i]!])) as Record<CellState, number>;
    out.self = 0;
    return out;
  }

  /** Compact rows for the report: one string per source node, one character per destination. */
  stateRows(): string[] {
    return this.texts.rows();
  }

  /** `stateRows` through `encode` (the report's run-length form), each kept like its row. */
  encodedRows(encode: (row: string) => string): string[] {
    return this.texts.encodedRows(encode);
  }

  /** RTT p99 rows in ms (3 decimals, as agents send them: kernel-timed LAN RTTs are tens of us; null where unknown). */
  rttRows(): (number | null)[][] {
    return Array.from({ length: this.n }, (_, s) =>
      Array.from({ length: this.n }, (_, d) => {
        const v = decodeRtt(this.rttP99[s * this.n + d]!);
        return Number.isNaN(v) ? null : Math.round(v * 1000) / 1000;
      }),
    );
  }
}

// A pair's state from one round's rows (pure): the facts of each row as bits, from row objects (classify) or
// straight from a packed wire v2 row (packedFlags), so a round is classified without allocating.
import type { TargetRow } from '../agent/contract/wire.js';
import { ABSENT, code, col, FIXED, strideOf, type PackedRows } from '../agent/contract/wire-packed.js';
import type { CellState } from './matrix.js';

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

export function stateOfFlags(f: number): CellState {
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

/** Row flags straight from a packed row at offset `o` (wire v2): no row object. */
export function packedFlags(v: ArrayLike<number>, o: number, tcpEnd: number, stride: number): number {
  let f = 0;
  const ic = v[o + col.icmp]!;
  if (ic !== ABSENT && ic !== code.notMeasured) {
    f |= MEASURED;
    const recv = v[o + col.recv]!;
    if (recv > 0) f |= THROUGH;
    if (recv < v[o + col.sent]!) f |= LOST;
  }
  for (let j = FIXED; j < tcpEnd; j++) {
    const c = v[o + j]!;
    if (c === ABSENT) continue;
    if (c === code.ok || c === code.refused) f |= THROUGH;
    if (c !== code.ok) f |= PORT;
  }
  for (let j = tcpEnd; j < stride; j++) {
    const c = v[o + j]!;
    if (c !== ABSENT && c !== code.ok && c !== code.notMeasured) f |= UDP;
  }
  const m = v[o + col.mtu]!;
  if (m !== ABSENT && m !== code.ok && m !== code.notMeasured) f |= MTU;
  return f;
}

/** The matrix's per-destination accumulators for one results table (aggregator/matrix.ts). */
export interface Scratch {
  /** Row index of the first row toward each destination (-1: none yet), and of any further rows. */
  first: Int32Array;
  more: (number[] | undefined)[];
  flags: Uint8Array;
  sent: Uint32Array;
  recv: Uint32Array;
  avgSum: Float64Array;
  /** Per destination over its addresses, ms: the least min and the worst avg, max, p50, p99 (NaN: none). */
  min: Float64Array;
  avg: Float64Array;
  max: Float64Array;
  p50: Float64Array;
  p99: Float64Array;
  touched: Int32Array;
}

/** One pair's ICMP over all the peer's addresses in one round: what a keep-detail hook judges (ms; NaN: no RTT). */
export interface PairIcmp {
  sent: number;
  recv: number;
  min: number;
  avg: number;
  max: number;
  p50: number;
  p99: number;
}

/** Per-destination accumulators for a matrix of `n` nodes, allocated once and reset after each apply. */
export function newScratch(n: number): Scratch {
  const nan = () => new Float64Array(n).fill(NaN);
  return {
    first: new Int32Array(n).fill(-1),
    more: new Array<number[] | undefined>(n),
    flags: new Uint8Array(n),
    sent: new Uint32Array(n),
    recv: new Uint32Array(n),
    avgSum: new Float64Array(n),
    min: nan(),
    avg: nan(),
    max: nan(),
    p50: nan(),
    p99: nan(),
    touched: new Int32Array(n),
  };
}

export function resetScratch(sc: Scratch, d: number): void {
  sc.first[d] = -1;
  sc.more[d] = undefined;
  sc.flags[d] = 0;
  sc.sent[d] = 0;
  sc.recv[d] = 0;
  sc.avgSum[d] = 0;
  sc.min[d] = NaN;
  sc.avg[d] = NaN;
  sc.max[d] = NaN;
  sc.p50[d] = NaN;
  sc.p99[d] = NaN;
}

/**
 * Pass 1 of a matrix apply: folds every row of table `p` (from source `src`; `dstOf` maps its peer indices to
 * matrix indices, -1 unknown) into its destination's accumulators. Rows of one peer need not be adjacent.
 * Returns how many destinations it touched (their indices in `sc.touched`).
 */
export function foldRows(sc: Scratch, p: PackedRows, src: number, dstOf: readonly number[]): number {
  const v = p.rows;
  const stride = strideOf(p);
  const tcpEnd = FIXED + p.tcp.length;
  let touched = 0;
  for (let o = 0, i = 0; o < v.length; o += stride, i++) {
    const dst = dstOf[v[o + col.peer]!]!;
    if (dst < 0 || dst === src) continue;
    if (sc.first[dst] === -1) {
      sc.first[dst] = i;
      sc.touched[touched++] = dst;
    } else (sc.more[dst] ??= []).push(i);
    sc.flags[dst]! |= packedFlags(v, o, tcpEnd, stride);
    const ic = v[o + col.icmp]!;
    if (ic === ABSENT || ic === code.notMeasured) continue;
    const recv = v[o + col.recv]!;
    sc.sent[dst]! += v[o + col.sent]!;
    sc.recv[dst]! += recv;
    if (v[o + col.rttMin] === ABSENT) continue;
    sc.avgSum[dst]! += (v[o + col.rttAvg]! / 1000) * recv;
    // NaN compares false: the first RTT always lands.
    const min = v[o + col.rttMin]! / 1000;
    if (!(sc.min[dst]! <= min)) sc.min[dst] = min;
    const avg = v[o + col.rttAvg]! / 1000;
    if (!(sc.avg[dst]! >= avg)) sc.avg[dst] = avg;
    const max = v[o + col.rttMax]! / 1000;
    if (!(sc.max[dst]! >= max)) sc.max[dst] = max;
    const p50 = v[o + col.rttP50]! / 1000;
    if (!(sc.p50[dst]! >= p50)) sc.p50[dst] = p50;
    const p99 = v[o + col.rttP99]! / 1000;
    if (!(sc.p99[dst]! >= p99)) sc.p99[dst] = p99;
  }
  return touched;
}

/** ICMP loss over a pair's rows, as store() counts it: rows whose ICMP was measured (NaN: none was). */
export function lossOf(rows: readonly TargetRow[]): number {
  let sent = 0;
  let recv = 0;
  for (const r of rows) {
    if (!r.icmp || r.icmp.outcome === 'not-measured') continue;
    sent += r.icmp.sent;
    recv += r.icmp.recv;
  }
  return sent > 0 ? 1 - recv / sent : NaN;
}

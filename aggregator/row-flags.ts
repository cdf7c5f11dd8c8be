// A pair's state from one round's rows (pure): the facts of each row as bits, from row objects (classify) or
// straight from a packed wire v2 row (packedFlags), so a round is classified without allocating.
import type { TargetRow } from '../agent/contract/wire.js';
import { ABSENT, code, col, FIXED } from '../agent/contract/wire-packed.js';
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
export function packedFlags(v: readonly number[], o: number, tcpEnd: number, stride: number): number {
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

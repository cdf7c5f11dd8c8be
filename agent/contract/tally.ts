// The probe tally of packed rows (pure): echo counts, the RTT histogram and outcome counts per probe kind.
// Shared because both sides compute it: the aggregator over the rows a results message carries, the agent over
// the rows it leaves out as unchanged (wire v2 delta rounds) and sends as one fixed-size summary instead, so the
// metrics count every row of every round either way.
import { outcomes, probeKinds } from './probe.js';
import { ABSENT, code, col, FIXED, strideOf, type PackedRows } from './wire-packed.js';

/** RTT histogram bounds in seconds (Prometheus `le`); the last slot of a tally's buckets is +Inf. */
export const rttBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] as const;

/** Index of the first bucket whose upper bound holds `s` (binary search; rttBuckets.length = +Inf). */
export function bucketIndex(s: number): number {
  let lo = 0;
  let hi: number = rttBuckets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s <= rttBuckets[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * A tally as a flat int array: [echo requests, echo replies, RTT count, RTT sum in us, buckets (non-cumulative,
 * +Inf last), probe counts (kind x outcome)]. Ints only, so it travels as JSON exactly.
 */
export const tallyAt = { requests: 0, replies: 1, count: 2, sumUs: 3, buckets: 4, probes: 4 + rttBuckets.length + 1 } as const;
export const TALLY_LENGTH = tallyAt.probes + probeKinds.length * outcomes.length;

const K_ICMP = probeKinds.indexOf('icmp') * outcomes.length;
const K_TCP = probeKinds.indexOf('tcp') * outcomes.length;
const K_UDP = probeKinds.indexOf('udp') * outcomes.length;
const K_MTU = probeKinds.indexOf('mtu') * outcomes.length;

export const emptyTally = (): number[] => new Array<number>(TALLY_LENGTH).fill(0);

/**
 * Adds one packed table's rows to `t` (a flat tally). `up[i]` 0 leaves out the rows toward peers[i] (the
 * aggregator's filter for peers whose agent is gone). Fixed work a row: outcome codes index the counts directly.
 */
export function tallyPacked(t: number[], table: PackedRows, up?: Uint8Array): void {
  const v = table.rows;
  const stride = strideOf(table);
  const tcpEnd = FIXED + table.tcp.length;
  const P = tallyAt.probes;
  for (let o = 0; o < v.length; o += stride) {
    if (up && up[v[o + col.peer]!] === 0) continue;
    const ic = v[o + col.icmp]!;
    if (ic !== ABSENT) {
      t[P + K_ICMP + ic]!++;
      if (ic !== code.notMeasured) {
        t[tallyAt.requests] = t[tallyAt.requests]! + v[o + col.sent]!;
        t[tallyAt.replies] = t[tallyAt.replies]! + v[o + col.recv]!;
        const avg = v[o + col.rttAvg]!;
        if (avg !== ABSENT) {
          t[tallyAt.buckets + bucketIndex(avg / 1e6)]!++;
          t[tallyAt.sumUs] = t[tallyAt.sumUs]! + avg;
          t[tallyAt.count]!++;
        }
      }
    }
    for (let j = FIXED; j < tcpEnd; j++) if (v[o + j] !== ABSENT) t[P + K_TCP + v[o + j]!]!++;
    for (let j = tcpEnd; j < stride; j++) if (v[o + j] !== ABSENT) t[P + K_UDP + v[o + j]!]!++;
    const m = v[o + col.mtu]!;
    if (m !== ABSENT) t[P + K_MTU + m]!++;
  }
}

/** The most one row can add to any one entry of a tally (us of RTT sum: an RTT is at most a minute). */
const PER_ROW_MAX = 60_000_000;

/** Why a tally from the wire is refused (`rows`: the most rows it may stand for), or undefined. */
export function tallyProblem(t: readonly unknown[], rows: number): string | undefined {
  if (t.length !== TALLY_LENGTH) return `tally: ${t.length} ints, expected ${TALLY_LENGTH}`;
  const max = Math.max(1, rows) * PER_ROW_MAX;
  for (let i = 0; i < t.length; i++) {
    const x = t[i];
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0 || x > max) return `tally.${i}: not an int in 0..${max}`;
  }
  return undefined;
}

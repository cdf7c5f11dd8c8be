// Per-target round summaries. Pure.
import type { Outcome, ProbeResult } from './contract/probe.js';
import type { IcmpSummary } from './contract/wire.js';

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * Echoes per address that the p50/p99 of a row are taken over: this round's and the previous ones', newest
 * kept (10 rounds at the profiles' icmp_count of 3). Percentiles need samples: one round's 3 echoes have no
 * 99th percentile, only a maximum, and a single late echo would then raise high-latency.
 */
export const RTT_WINDOW = 30;

/**
 * The p99 the high-latency condition compares: the slowest echo of the window once its slowest ceil(n/100)
 * are set aside (at least one when n >= 2; for 100 echoes that is the nearest-rank p99). One late echo in a window (a scheduling hiccup on a busy
 * host) cannot raise the warning; two can, so a real slowdown shows within the round it starts in.
 */
export function robustP99(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return sorted[0]!;
  // The slowest of what is left: for n = 100, 200, ... exactly the nearest-rank p99.
  return sorted[n - 1 - Math.ceil(n / 100)]!;
}

/**
 * The last RTT_WINDOW good (not lagged) echo RTTs per target, across rounds. Bounded: a target not probed for
 * `maxAgeRounds` rounds (it left the inventory) is forgotten. Pure: no clock, the caller counts rounds.
 */
export class RttHistory {
  private readonly byKey = new Map<string, { ring: Float64Array; n: number; next: number; seenRound: number }>();
  private round = 0;
  constructor(
    readonly window = RTT_WINDOW,
    private readonly maxAgeRounds = 30,
  ) {}

  /** Adds this round's samples for `key` and returns the window (including them), ascending. */
  add(key: string, samples: readonly number[]): number[] {
    let e = this.byKey.get(key);
    if (!e) {
      e = { ring: new Float64Array(this.window), n: 0, next: 0, seenRound: this.round };
      this.byKey.set(key, e);
    }
    e.seenRound = this.round;
    for (const v of samples) {
      e.ring[e.next] = v;
      e.next = (e.next + 1) % this.window;
      if (e.n < this.window) e.n++;
    }
    return Array.from(e.ring.subarray(0, e.n)).sort((a, b) => a - b);
  }

  /** Call once per full round: forgets targets not seen for maxAgeRounds rounds. */
  endRound(): void {
    this.round++;
    for (const [k, e] of this.byKey) if (this.round - e.seenRound > this.maxAgeRounds) this.byKey.delete(k);
  }

  get size(): number {
    return this.byKey.size;
  }
}

/**
 * One target's echoes of one round as the wire's summary: [min, avg, max] of this round's RTTs, [p50, p99]
 * over the window (`windowed`: this round's RTTs plus earlier ones, ascending; default this round's only),
 * p99 as robustP99. Samples flagged `lagged` (they may hold the agent's event-loop delay) count as received
 * but leave every RTT figure; when all are, rtt is null (not measured), never a number that blames the network.
 */
export function summariseIcmp(results: readonly ProbeResult[], windowed?: (rtts: readonly number[]) => readonly number[]): IcmpSummary {
  const recv = results.filter((r) => r.outcome === 'ok').length;
  const rtts = results.filter((r) => r.outcome === 'ok' && r.rttMs !== undefined && r.lagged !== true).map((r) => r.rttMs!);
  rtts.sort((a, b) => a - b);
  const win = windowed ? windowed(rtts) : rtts;
  const sent = results.filter((r) => r.outcome !== 'not-measured').length;
  const outcome: Outcome = results.length === 0 ? 'not-measured' : sent === 0 ? 'not-measured' : recv === sent ? 'ok' : worst(results);
  return {
    sent,
    recv,
    rtt:
      rtts.length === 0
        ? null
        : [
            round3(rtts[0]!),
            round3(rtts.reduce((a, b) => a + b, 0) / rtts.length),
            round3(rtts[rtts.length - 1]!),
            round3(percentile(win, 50)),
            round3(robustP99(win)),
          ],
    outcome,
  };
}

/** The most frequent non-ok outcome (ties: the first seen). */
function worst(results: readonly ProbeResult[]): Outcome {
  const counts = new Map<Outcome, number>();
  for (const r of results) if (r.outcome !== 'ok') counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  let best: Outcome = 'filtered';
  let n = 0;
  for (const [o, c] of counts) if (c > n) [best, n] = [o, c];
  return best;
}

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

export function summariseIcmp(results: readonly ProbeResult[]): IcmpSummary {
  const rtts = results.filter((r) => r.outcome === 'ok' && r.rttMs !== undefined).map((r) => r.rttMs!);
  rtts.sort((a, b) => a - b);
  const sent = results.filter((r) => r.outcome !== 'not-measured').length;
  const outcome: Outcome = results.length === 0 ? 'not-measured' : sent === 0 ? 'not-measured' : rtts.length === sent ? 'ok' : worst(results);
  return {
    sent,
    recv: rtts.length,
    rtt:
      rtts.length === 0
        ? null
        : [
            round3(rtts[0]!),
            round3(rtts.reduce((a, b) => a + b, 0) / rtts.length),
            round3(rtts[rtts.length - 1]!),
            round3(percentile(rtts, 50)),
            round3(percentile(rtts, 99)),
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

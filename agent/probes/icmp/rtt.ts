// The round-trip time of a reply from its stamps, and whether it may hold event-loop delay (pure).
import type { PingResult } from './types.js';

/**
 * rd: [bytes, kernel receive stamp (NaN without one), read time] of the read; readMono: nowMs() just before it;
 * sentAt / txAt: the request's monotonic and socket send stamps; loopLaggedAt: when the loop was last seen lagging.
 */
export function rttOf(rd: Float64Array, readMono: number, sentAt: number, txAt: number, loopLaggedAt: number, kernel: boolean): PingResult {
  const rx = rd[1]!;
  const loopRtt = readMono - sentAt; // monotonic: an upper bound of the true RTT
  if (kernel && rx === rx) {
    const rtt = rx - txAt;
    // The stamps are wall-clock time: a step (NTP, an operator) between send and receive shows as a figure
    // below zero or above the monotonic bound. Keep the bound then, flagged.
    if (rtt >= 0 && rtt <= loopRtt + 1) return { outcome: 'ok', rttMs: rtt, readDelayMs: Math.max(0, rd[2]! - rx) };
    return { outcome: 'ok', rttMs: loopRtt, lagged: true };
  }
  const rtt = kernel ? loopRtt : rd[2]! - txAt;
  return loopLaggedAt >= sentAt || kernel ? { outcome: 'ok', rttMs: rtt, lagged: true } : { outcome: 'ok', rttMs: rtt };
}

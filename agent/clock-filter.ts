// The agent's NTP-style clock estimate (pure: the caller passes the time): the lowest-RTT exchange among the recent
// ones, and which heartbeats ask for another. Asking with every heartbeat (5 s) made a 1,000-node fleet 2,000 clock
// exchanges a 10 s round at the aggregator (~0.14 s of its CPU: BENCHMARKS.md AFTER 16); clocks on NTP drift by
// milliseconds a day, so once a few samples are in, every sixth heartbeat (30 s) asks.

export interface ClockEstimate {
  offsetMs: number;
  rttMs: number;
}

export const clockPolicy = {
  /** Samples taken at connect and with each heartbeat before the sparser pace. */
  settleSamples: 4,
  /** Then a clock exchange with every this-many-th heartbeat. */
  everyBeats: 6,
  /** A sample older than this is not picked while a newer one exists: a stepped clock shows within this. */
  maxAgeMs: 45_000,
  /** Samples kept. */
  keep: 8,
} as const;

export class ClockFilter {
  private samples: (ClockEstimate & { at: number })[] = [];
  private beats = 0;

  /** Adds an exchange's result taken at `at` (agent clock); true for the first one this filter has seen. */
  add(s: ClockEstimate, at: number): boolean {
    const first = this.samples.length === 0;
    this.samples = [...this.samples.slice(1 - clockPolicy.keep), { offsetMs: s.offsetMs, rttMs: Math.max(0, s.rttMs), at }];
    return first;
  }

  /** The lowest-RTT sample of the last `maxAgeMs` (its round trip holds the least asymmetric delay), else the newest. */
  best(now: number): ClockEstimate | undefined {
    let best: ClockEstimate | undefined;
    for (const s of this.samples) if (now - s.at <= clockPolicy.maxAgeMs && (!best || s.rttMs < best.rttMs)) best = s;
    const last = this.samples.at(-1);
    const pick = best ?? last;
    return pick && { offsetMs: pick.offsetMs, rttMs: pick.rttMs };
  }

  /** Called once per heartbeat: whether this one asks for a clock exchange too. */
  beat(): boolean {
    this.beats++;
    return this.samples.length < clockPolicy.settleSamples || this.beats % clockPolicy.everyBeats === 0;
  }
}

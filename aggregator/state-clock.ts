// The aggregator state's time: a clock and timers on it, injectable so tests move time by hand.

/** Time for the state's debounces: a clock and timers on it. Tests pass a manual one instead of waiting. */
export interface StateClock {
  now(): number;
  setTimeout(cb: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's clock; its timers do not keep the process alive. */
export const realClock: StateClock = {
  now: Date.now,
  setTimeout: (cb, ms) => setTimeout(cb, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

// The engine's clock and the event-loop lag watch (the raw-socket fallback flags samples taken while the loop
// lagged).

/**
 * Monotonic milliseconds as a double (libuv's hrtime, sub-microsecond resolution). Not performance.now(): the
 * global `performance` loads perf_hooks on first use, ~2 ms of a sweep's start-up (measured).
 */
export const nowMs = (): number => process.uptime() * 1000;

// Event-loop lag, for the fallback only (with kernel stamps lag does not enter the RTT). A 10 ms timer
// (unref'd) notes when it last ran; a read, or a tick, that finds it more than LAG_FLAG_MS late means the loop
// is lagging, and samples in flight then are flagged. The read-side check matters: after a block libuv may
// poll the socket before it runs the overdue timer, so a tick alone sees the lag one sample too late
// (measured with perf_hooks.monitorEventLoopDelay first: it missed the first one or two blocked samples).
export const LAG_FLAG_MS = 2;
const LAG_TICK_MS = 10;
let lagTimer: NodeJS.Timeout | undefined;
let lastTick = 0;
let laggedAt = -Infinity;
export function watchLoopLag(): void {
  if (lagTimer) return;
  lastTick = nowMs();
  lagTimer = setInterval(() => {
    noteLoopLag();
    lastTick = nowMs();
  }, LAG_TICK_MS);
  lagTimer.unref();
}
/** Returns the time the loop was last seen lagging (-Infinity: never). */
export function noteLoopLag(): number {
  if (lagTimer) {
    const now = nowMs();
    if (now - lastTick > LAG_TICK_MS + LAG_FLAG_MS) laggedAt = now;
  }
  return laggedAt;
}

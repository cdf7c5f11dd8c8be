// Per-peer log rate limiting: the first `perWindow` lines from a peer in each window are written, the rest
// counted, and one summary line says how many were left out. A flood of bad messages then writes bounded
// bytes (a peer's lines per window, plus one summary), and the first lines of each new window still show
// what the peer is doing. Pure: the caller writes the lines and brings the clock.

export interface LogLimitOptions {
  /** Lines written per peer and window. */
  perWindow: number;
  windowMs: number;
  /** Peers tracked at once; further peers share one slot (addresses are many, memory is not). */
  maxPeers: number;
  /** Lines written per window over all peers: many peers flooding together are bounded too. */
  totalPerWindow: number;
  now: () => number;
}

export const defaultLogLimit: Omit<LogLimitOptions, 'now'> = { perWindow: 20, windowMs: 60_000, maxPeers: 1000, totalPerWindow: 1000 };

/** The slot peers share once `maxPeers` are tracked. */
export const OTHER_PEERS = 'other peers';

export interface Suppressed {
  peer: string;
  count: number;
  /** Length of the window the count covers. */
  windowMs: number;
}

interface Slot {
  start: number;
  logged: number;
  suppressed: number;
}

export class LogLimiter {
  private readonly slots = new Map<string, Slot>();
  private readonly opts: LogLimitOptions;
  private total = { start: -Infinity, logged: 0 };

  constructor(opts: Partial<LogLimitOptions> = {}) {
    this.opts = { ...defaultLogLimit, now: Date.now, ...opts };
  }

  /**
   * Whether to write this peer's line now. `summary`: the count left out in the peer's previous window, to
   * write before it (when no sweep said so yet).
   */
  admit(peer: string): { log: boolean; summary?: Suppressed } {
    const now = this.opts.now();
    const key = this.slots.has(peer) || this.slots.size < this.opts.maxPeers ? peer : OTHER_PEERS;
    let slot = this.slots.get(key);
    let summary: Suppressed | undefined;
    if (!slot || now - slot.start >= this.opts.windowMs) {
      if (slot && slot.suppressed > 0) summary = { peer: key, count: slot.suppressed, windowMs: this.opts.windowMs };
      slot = { start: now, logged: 0, suppressed: 0 };
      this.slots.set(key, slot);
    }
    if (now - this.total.start >= this.opts.windowMs) this.total = { start: now, logged: 0 };
    const log = slot.logged < this.opts.perWindow && this.total.logged < this.opts.totalPerWindow;
    if (log) {
      slot.logged++;
      this.total.logged++;
    } else slot.suppressed++;
    return summary ? { log, summary } : { log };
  }

  /** Summaries of the windows that have ended; their peers are forgotten. Call about once a window. */
  sweep(): Suppressed[] {
    const now = this.opts.now();
    const out: Suppressed[] = [];
    for (const [peer, slot] of this.slots) {
      if (now - slot.start < this.opts.windowMs) continue;
      if (slot.suppressed > 0) out.push({ peer, count: slot.suppressed, windowMs: this.opts.windowMs });
      this.slots.delete(peer);
    }
    return out;
  }

  /** Peers tracked now (bounded by maxPeers + 1). */
  get size(): number {
    return this.slots.size;
  }
}

export function summaryLine(s: Suppressed): string {
  return `suppressed ${s.count} similar message${s.count === 1 ? '' : 's'} from ${s.peer} in ${Math.round(s.windowMs / 1000)} s`;
}

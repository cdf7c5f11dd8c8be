// The bandwidth sample's pure parts (README "Bandwidth sample"): which time slot is whose, which peers a
// node measures in its turn, the sender's token bucket, the sink's reply and the median. The schedule is
// the safety: a node starts a sample only in its own slot, so at most `concurrent` nodes of a binding send
// at a time, each at most `rateMbps`, each to `peers` peers one after the other. Pure: no I/O, no clocks.

export interface BandwidthPlan {
  /** The sink's TCP port on every binding address with a bandwidth condition. */
  port: number;
  /** The sender's rate cap (token bucket), Mb/s. */
  rateMbps: number;
  /** Length of one sample, seconds. */
  seconds: number;
  /** Peers measured per turn, one after the other. */
  peers: number;
  /** At most this many nodes of a binding sample at the same time. */
  concurrent: number;
}

/** A slot holds one node's whole turn (its peers one after the other) twice over: clock offsets between agents stay inside it. */
export const slotMs = (p: BandwidthPlan): number => 2 * p.peers * p.seconds * 1000;

/** Slots in one cycle: nodes sharing a slot number are at most `concurrent`. */
export const cycleSlots = (nodes: number, concurrent: number): number => Math.max(1, Math.ceil(nodes / Math.max(1, concurrent)));

export interface Turn {
  /** The slot's number since the epoch (the slot starts at slot x slotMs). */
  slot: number;
  /** This node's turn count: it picks the next peers each time. */
  turn: number;
}

/** Whether node `index` (0-based, in the binding's sorted node list of `nodes`) may sample in the slot holding `now`. */
export function turnAt(now: number, index: number, nodes: number, p: BandwidthPlan): Turn | undefined {
  const slot = Math.floor(now / slotMs(p));
  const m = cycleSlots(nodes, p.concurrent);
  if (slot % m !== index % m) return undefined;
  return { slot, turn: Math.floor(slot / m) };
}

/** When the next slot of node `index` starts, after `now`. */
export function nextTurnStart(now: number, index: number, nodes: number, p: BandwidthPlan): number {
  const len = slotMs(p);
  const m = cycleSlots(nodes, p.concurrent);
  let slot = Math.floor(now / len) + 1;
  slot += ((((index % m) - (slot % m)) % m) + m) % m;
  return slot * len;
}

/**
 * The peers node `index` measures in its `turn`: the others in order after it, rotating by `peers` a turn, so
 * every peer is measured once in ceil((nodes-1) / peers) turns.
 */
export function peersFor(index: number, nodes: number, turn: number, peers: number): number[] {
  const others = nodes - 1;
  if (others < 1) return [];
  const out: number[] = [];
  for (let j = 0; j < Math.min(peers, others); j++) {
    const k = (turn * peers + j) % others;
    out.push((index + 1 + k) % nodes);
  }
  return out;
}

/** The sender's token bucket: `rate` bytes a ms, at most `burst` bytes at once. */
export class TokenBucket {
  private tokens: number;
  constructor(
    private readonly ratePerMs: number,
    private readonly burst: number,
    private last: number,
  ) {
    this.tokens = burst;
  }
  /** Bytes that may be sent now (the bucket is not taken from). */
  available(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + Math.max(0, now - this.last) * this.ratePerMs);
    this.last = now;
    return this.tokens;
  }
  take(bytes: number): void {
    this.tokens -= bytes;
  }
  /** ms until `bytes` are available. */
  waitFor(bytes: number): number {
    return Math.max(0, (bytes - this.tokens) / this.ratePerMs);
  }
}

/** The sender's request: magic, then how long the sink measures (ms). */
export const MAGIC = Buffer.from('PNGRBW01');
export const REQUEST_BYTES = MAGIC.length + 4;
export const REPLY_BYTES = 12;

export function encodeRequest(ms: number): Buffer {
  const b = Buffer.alloc(REQUEST_BYTES);
  MAGIC.copy(b);
  b.writeUInt32BE(ms, MAGIC.length);
  return b;
}

/** The requested window (ms), or undefined when the bytes are not a request or ask for more than `maxMs`. */
export function decodeRequest(b: Buffer, maxMs: number): number | undefined {
  if (b.length < REQUEST_BYTES || !b.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const ms = b.readUInt32BE(MAGIC.length);
  return ms >= 100 && ms <= maxMs ? ms : undefined;
}

/** The sink's reply: bytes received in the window, and the window's real length in microseconds. */
export function encodeReply(bytes: number, us: number): Buffer {
  const b = Buffer.alloc(REPLY_BYTES);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(bytes))));
  b.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.round(us))), 8);
  return b;
}

/**
 * Mb/s from a reply, or undefined when it cannot be true: more bytes than were sent, or a window under
 * 50 ms (a sink that replied at once measured nothing).
 */
export function rateOfReply(b: Buffer, sentBytes: number): { mbps: number; ms: number } | undefined {
  if (b.length !== REPLY_BYTES) return undefined;
  const bytes = Number(b.readBigUInt64BE(0));
  const us = b.readUInt32BE(8);
  if (bytes > sentBytes || us < 50_000) return undefined;
  return { mbps: Math.round(((bytes * 8) / us) * 1000) / 1000, ms: Math.round(us / 1000) };
}

export function median(xs: readonly number[]): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

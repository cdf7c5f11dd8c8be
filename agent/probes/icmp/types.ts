// The engine's public request, result and option types, and its limits.
import type { Outcome } from '../../contract/probe.js';

export interface PingRequest {
  /** IPv4 or IPv6 literal; the family (and so the socket) is chosen from it as node:net's isIP would. */
  target: string;
  /** Total ICMP message bytes (8-byte header + payload). Default 64, like ping(8). */
  size?: number;
  /** Don't fragment (IPv4 DF bit / IPv6 no local fragmentation). */
  df?: boolean;
  /**
   * Local address to send from (same family as the target; must be an address of this host). Without it the
   * kernel picks the source by route, which on a node with several addresses may test another path.
   */
  source?: string;
  /** How long to wait for an answer once the request is on the wire (queue time is not counted). */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface PingResult {
  outcome: Outcome;
  /**
   * Only for 'ok', ms with sub-ms precision: with the addon, from the send stamp (read in C right before
   * sendto()) to the kernel's receive stamp of the reply; with the raw-socket fallback, to just before the
   * read in JavaScript.
   */
  rttMs?: number;
  /**
   * Only for 'ok': the figure may hold event-loop delay (fallback stamps taken while the loop lagged, or a
   * wall-clock step between the kernel stamps). Summaries leave such samples out of RTT statistics.
   */
  lagged?: boolean;
  /** Only for 'ok' with kernel stamps: how long the reply waited in the socket before we read it (ms). */
  readDelayMs?: number;
  detail?: string;
  /** ICMP bytes of the reply (for 'ok'): lets callers check a large echo came back whole. */
  bytes?: number;
}

export interface IcmpEngineOptions {
  /** Requests on the wire at once; the rest wait in a FIFO queue (queue time never counts as RTT). */
  window?: number;
  /** Close the sockets after this long with nothing to do, so the process can exit. <0: never. */
  idleCloseMs?: number;
}

export const DEFAULT_WINDOW = 32; // measured: same sweep throughput as 64 on loopback, half the queueing in RTT
export const DEFAULT_SIZE = 64;
export const MAX_SIZE = { 4: 65535 - 20, 6: 65535 } as const;
export const RECV_BUFFER = 65535; // no truncation of large replies (net-ping used 4096)

// The one probe signature every probe kind implements (blackbox_exporter style):
// a probe never throws for a network outcome; a failed probe is data.

/** What happened to one probe. The set is closed so the matrix can store it as a small code. */
export const outcomes = [
  'ok', // reply received / connection accepted
  'refused', // TCP RST (ECONNREFUSED)
  'filtered', // no answer within the timeout (dropped)
  'unreachable', // ICMP destination unreachable, EHOSTUNREACH, ENETUNREACH
  'too-big', // DF packet too big (EMSGSIZE locally, frag-needed / packet-too-big from the path)
  'not-measured', // the probe could not run here (e.g. no CAP_NET_RAW for ICMP)
  'error', // anything else; `detail` says what
] as const;
export type Outcome = (typeof outcomes)[number];

export interface ProbeRequest {
  /** Peer address, IPv4 or IPv6 literal. */
  target: string;
  /** Local address to send from (the binding's own address), when the kind can honour it. */
  source?: string;
  /** TCP/UDP port. */
  port?: number;
  /** ICMP: total ICMP message size in bytes (header + payload); for MTU checks. */
  size?: number;
  /** ICMP: set Don't Fragment (IPv4) / disable fragmentation (IPv6). */
  df?: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ProbeResult {
  outcome: Outcome;
  /** Round-trip (or connect) time in milliseconds, sub-millisecond precision; only when outcome is 'ok'. */
  rttMs?: number;
  /** Machine-readable reason for a non-ok outcome (errno code, ICMP type/code). */
  detail?: string;
  /** ICMP: the RTT may hold the agent's own event-loop delay; summaries leave it out of RTT figures. */
  lagged?: boolean;
}

export type ProbeFn = (req: ProbeRequest) => Promise<ProbeResult>;

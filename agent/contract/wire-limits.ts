// The bounds on what a peer may send over the wire, shared by the schemas (wire.ts) and the fast row check
// (wire-fast.ts). Pure.

// Bounds on what a peer may send (README "Bounds"). Every byte from the network is hostile until these
// accepted it; each bound is well above what a real agent sends, and far below what would hurt.
export const limits = {
  /** Any message but results (hello, heartbeat, clock): a hello of 4,096 responders is ~0.5 MB. */
  controlBytes: 1024 * 1024,
  /** Nesting of arrays and objects; real messages reach 6 (results > bindings > rows > row > icmp > rtt). */
  depth: 10,
  /** Responder states in a hello: every planned port on every binding address (~20 bindings x 2 x 60 ports). */
  responders: 4096,
  interfaces: 256,
  dnsChecks: 256,
  /** Free text an agent reports (errno codes, CAP_NET_RAW hints, resolver errors). */
  detailChars: 500,
  responderDetailChars: 200,
  /** A results message (agents split a round into messages below it: agent/results-msg.ts). */
  resultsBytes: 2 * 1024 * 1024,
  /** Bindings in one results message, target rows per binding (an agent sends 5,000 rows a message), ports per row. */
  resultBindings: 256,
  rowsPerBinding: 20_000,
  portsPerRow: 256,
  /** A bandwidth sample: 10 Tb/s at most, over a window of a minute at most. */
  bandwidthMbps: 10_000_000,
  bandwidthMs: 60_000,
  /** The longest text an error message quotes from the input. */
  quoteChars: 40,
} as const;

/** A JSON object (not null, not an array). */
export const isPlain = (o: unknown): o is Record<string, unknown> => typeof o === 'object' && o !== null && !Array.isArray(o);

/**
 * True when arrays and objects nest deeper than `max`. A scan of the raw bytes (strings skipped), so deep
 * input is refused before JSON.parse, zod or any error message walks it; ~1.5 ms a megabyte.
 */
export function nestedDeeperThan(b: Uint8Array, max: number): boolean {
  let depth = 0;
  const n = b.length;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 0x22) {
      // To the closing quote: the next one not escaped by an odd run of backslashes.
      for (;;) {
        const j = b.indexOf(0x22, i + 1);
        if (j < 0) return false; // unterminated: JSON.parse refuses it
        let k = j - 1;
        while (b[k] === 0x5c) k--;
        i = j;
        if ((j - 1 - k) % 2 === 0) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** A value from the input, quoted for an error message: short, whatever the peer sent. */
export function quote(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > limits.quoteChars ? `${v.slice(0, limits.quoteChars)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v;
}

// The results messages of one round (pure): what the agent sends, and what the fleet benchmark's simulated
// agents send, so the benchmark measures the protocol the agent speaks.
import { limits, WIRE_VERSION, type ResultsMsg, type TargetRow } from './contract/wire.js';
import { packRows, packRowsIn, type PackedRows } from './contract/wire-packed.js';
import type { PeerSet } from './contract/peer-set.js';
import { emptyTally, tallyPacked } from './contract/tally.js';
import { frameBytes } from './contract/wire-binary.js';

export interface RoundOut {
  node: string;
  round: number;
  durationMs: number;
  /** Agent clock (ms since the epoch) when the round began. */
  startedAt: number;
  /** A catch-up (rows for the peers a run-now named), with the run-now's `at` when it had one. */
  catchUp?: { requestedAt?: number };
  bindings: Record<string, TargetRow[]>;
  /** Delta rounds (agent/delta.ts): per binding, the peers left out as unchanged and their rows. */
  same?: Record<string, { peers: string[]; rows: readonly TargetRow[] }>;
}

/** Peers named in one `same` table: 2,000 names of at most 253 characters stay far below the message bound. */
const SAME_PER_TABLE = 2000;

/**
 * With `set` (the peer set the aggregator offered on this connection), peers and addresses go as indices into
 * it (./contract/peer-set.ts); a message with a row outside the set names them instead.
 *
 * Splits a round into wire v2 messages (packed tables) of at most `batchRows` rows (never more than the wire's
 * rows per binding) and below the wire's results bytes (a message over it is split in two); the last says final.
 */
export function resultsMessages(out: RoundOut, batchRows = 5000, set?: PeerSet): ResultsMsg[] {
  const max = Math.max(1, Math.min(batchRows, limits.rowsPerBinding));
  const parts: Record<string, TargetRow[]>[] = [];
  let cur: Record<string, TargetRow[]> = {};
  let n = 0;
  for (const [b, list] of Object.entries(out.bindings)) {
    for (let i = 0; i < list.length; i += max) {
      const part = list.slice(i, i + max);
      if (n + part.length > max) {
        parts.push(cur);
        cur = {};
        n = 0;
      }
      (cur[b] ??= []).push(...part);
      n += part.length;
    }
    if (!cur[b] && list.length === 0) cur[b] = [];
  }
  parts.push(cur);
  const msgs = [...parts.flatMap((p) => underBytes(out, p, set)), ...sameMessages(out, set)];
  msgs.forEach((m, i) => (m.final = i === msgs.length - 1));
  return msgs;
}

function message(out: RoundOut, rows: Record<string, TargetRow[]>, set?: PeerSet): ResultsMsg {
  const indexed = set && packedIn(rows, set);
  return indexed
    ? { ...head(out), peerSet: set.id, bindings: indexed }
    : { ...head(out), bindings: Object.fromEntries(Object.entries(rows).map(([b, list]) => [b, packRows(list)])) };
}

/** Every binding's rows packed as indices into `set`, or undefined when a row is outside it. */
function packedIn(rows: Record<string, TargetRow[]>, set: PeerSet): Record<string, PackedRows> | undefined {
  const out: Record<string, PackedRows> = {};
  for (const [b, list] of Object.entries(rows)) {
    const p = packRowsIn(list, set, b);
    if (!p) return undefined;
    out[b] = p;
  }
  return out;
}

function head(out: RoundOut): Omit<ResultsMsg, 'bindings'> {
  const { catchUp } = out;
  const asked = catchUp?.requestedAt !== undefined ? { requestedAt: catchUp.requestedAt } : {};
  return {
    v: WIRE_VERSION,
    type: 'results',
    node: out.node,
    round: out.round,
    durationMs: out.durationMs,
    startedAt: out.startedAt,
    final: false,
    ...(catchUp ? { catchUp: true, ...asked } : {}),
  };
}

/** One message, or (when it would exceed the wire's bound) its rows split in halves until each fits. */
function underBytes(out: RoundOut, rows: Record<string, TargetRow[]>, set: PeerSet | undefined): ResultsMsg[] {
  const m = message(out, rows, set);
  // Below the bound both as the binary frame the agent sends and as the text it falls back to (./contract/wire-binary.ts).
  // The text is at most 3x the frame (an int32 is at most 11 characters and a comma as text, 4 bytes in a frame;
  // the rest is the same JSON), so it is written out only near the bound, not for every round's message.
  const frame = frameBytes(m);
  const fits = frame <= limits.resultsBytes && (3 * frame <= limits.resultsBytes || Buffer.byteLength(JSON.stringify(m)) <= limits.resultsBytes);
  if (fits) return [m];
  const flat = Object.entries(rows).flatMap(([b, list]) => list.map((r) => [b, r] as const));
  if (flat.length < 2) return [m];
  const half = (from: number, to: number) => {
    const part: Record<string, TargetRow[]> = {};
    // A binding without rows stays named (in the first half): the aggregator learns it was probed and had none.
    if (from === 0) for (const [b, list] of Object.entries(rows)) if (list.length === 0) part[b] = [];
    for (const [b, r] of flat.slice(from, to)) (part[b] ??= []).push(r);
    return part;
  };
  const mid = flat.length >> 1;
  return [...underBytes(out, half(0, mid), set), ...underBytes(out, half(mid, flat.length), set)];
}

/**
 * The unchanged peers of a delta round: tables with no rows, `same` naming the peers and (on a binding's first
 * table) the tally of their rows. Messages of their own, so the row messages' byte split never has to count them.
 */
function sameMessages(out: RoundOut, set: PeerSet | undefined): ResultsMsg[] {
  const tables: [string, PackedRows][] = [];
  // Indices into the set when every unchanged peer is in it (it is, unless the set changed under the round).
  const indexed = set && Object.values(out.same ?? {}).every((s) => s.peers.every((p) => set.indexOf(p) >= 0)) ? set : undefined;
  for (const [b, s] of Object.entries(out.same ?? {})) {
    if (!s.peers.length) continue;
    const tally = emptyTally();
    tallyPacked(tally, packRows(s.rows));
    for (let i = 0; i < s.peers.length; i += SAME_PER_TABLE) {
      const peers = s.peers.slice(i, i + SAME_PER_TABLE);
      const same = indexed ? peers.map((p) => indexed.indexOf(p)) : peers.map((_, j) => j);
      tables.push([b, { peers: indexed ? [] : peers, addrs: [], tcp: [], udp: [], rows: [], same, tally: i === 0 ? tally : emptyTally() }]);
    }
  }
  // One table per binding a message; a binding's further tables go in further messages.
  const msgs: ResultsMsg[] = [];
  for (const [b, t] of tables) {
    let m = msgs.find((x) => !(b in x.bindings));
    if (!m) msgs.push((m = { ...head(out), ...(indexed ? { peerSet: indexed.id } : {}), bindings: {} }));
    m.bindings[b] = t;
  }
  return msgs;
}

// Wire v2's packed results table (pure): one binding's rows of one results message as a flat int array with a
// fixed stride, plus the strings they index. A 1,000-node round is 6M rows a round at the aggregator; as JSON
// objects each row cost ~3.5 us to parse and check, as ints about a third of that, and the aggregator classifies
// straight from the ints (aggregator/matrix.ts) without building a row object for a healthy pair.
import { isIP } from 'node:net';
import { outcomes, type Outcome } from './probe.js';
import type { TargetRow } from './wire.js';
import { limits } from './wire-limits.js';
import type { PeerSet } from './peer-set.js';

/**
 * One binding's rows. `rows` holds `rows.length / stride` rows of `stride = FIXED + tcp.length + udp.length`
 * ints: the columns of `col`, then one outcome code per `tcp` port key, then one per `udp` key. -1 = absent.
 * `bw` (optional): bandwidth samples as triples [row index, Mb/s, window ms] (Mb/s is not an int).
 */
export interface PackedRows {
  /** Empty in a message that names peers by index into a peer set (./peer-set.ts) until the aggregator resolves it. */
  peers: readonly string[];
  addrs: readonly string[];
  tcp: readonly string[];
  udp: readonly string[];
  /** A JSON array, or a view of a binary frame's body (./wire-binary.ts). */
  rows: number[] | Int32Array;
  bw?: number[];
  /**
   * Delta rounds: peers (indices into `peers`) probed this round whose every row is as last sent, so their rows
   * are left out; the aggregator keeps what it holds for them. `tally` then counts the rows left out
   * (./tally.ts), so the metrics still count every probe.
   */
  same?: number[];
  tally?: number[];
}

/** Column offsets within a row. RTTs are in microseconds (agents send ms with 3 decimals: exact). */
export const col = { peer: 0, addr: 1, sent: 2, recv: 3, icmp: 4, rttMin: 5, rttAvg: 6, rttMax: 7, rttP50: 8, rttP99: 9, mtuSize: 10, mtu: 11 } as const;
export const FIXED = 12;
export const ABSENT = -1;
export const strideOf = (p: Pick<PackedRows, 'tcp' | 'udp'>) => FIXED + p.tcp.length + p.udp.length;
export const rowCount = (p: PackedRows) => p.rows.length / strideOf(p);

/** Outcome codes are indices into the one outcome vocabulary (probe.ts). */
export const outcomeCode: ReadonlyMap<Outcome, number> = new Map(outcomes.map((o, i) => [o, i]));
export const code = {
  ok: outcomes.indexOf('ok'),
  refused: outcomes.indexOf('refused'),
  notMeasured: outcomes.indexOf('not-measured'),
} as const;

const toUs = (ms: number) => Math.round(ms * 1000);

/** Interns a string: its index in `list`, appended when new. */
function interner(list: string[]): (s: string) => number {
  const at = new Map<string, number>();
  return (s) => {
    let i = at.get(s);
    if (i === undefined) {
      i = list.push(s) - 1;
      at.set(s, i);
    }
    return i;
  };
}

/** Packs rows (one binding's, one message's). A `tcp: {}` or `udp: {}` of a row comes back absent. */
export function packRows(rows: readonly TargetRow[]): PackedRows {
  const peers: string[] = [];
  const addrs: string[] = [];
  return packWith(rows, peers, addrs, interner(peers), interner(addrs))!; // interning never gives -1
}

/**
 * Packs rows naming peers and addresses by index into `set` (binding `binding`'s addresses): the table has no
 * peers or addrs of its own. Undefined when a row's peer or address is not in the set (then name them).
 */
export function packRowsIn(rows: readonly TargetRow[], set: PeerSet, binding: string): PackedRows | undefined {
  return packWith(
    rows,
    [],
    [],
    (s) => set.indexOf(s),
    (a) => set.addrIndexOf(binding, a),
  );
}

/** Undefined when `peer` or `addr` gives a row -1 (not in the peer set): the caller names the peers instead. */
function packWith(
  rows: readonly TargetRow[],
  peers: string[],
  addrs: string[],
  peer: (s: string) => number,
  addr: (s: string) => number,
): PackedRows | undefined {
  const tcp: string[] = [];
  const udp: string[] = [];
  const p: PackedRows = { peers, addrs, tcp, udp, rows: [] };
  const tcpKey = interner(tcp);
  const udpKey = interner(udp);
  for (const r of rows) {
    for (const k in r.tcp) tcpKey(k);
    for (const k in r.udp) udpKey(k);
  }
  const stride = strideOf(p);
  const out = new Array<number>(rows.length * stride).fill(ABSENT);
  const bw: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const o = i * stride;
    const pi = peer(r.peer);
    const ai = addr(r.addr);
    if (pi < 0 || ai < 0) return undefined;
    out[o + col.peer] = pi;
    out[o + col.addr] = ai;
    const ic = r.icmp;
    if (ic) {
      out[o + col.sent] = ic.sent;
      out[o + col.recv] = ic.recv;
      out[o + col.icmp] = outcomeCode.get(ic.outcome)!;
      if (ic.rtt) for (let j = 0; j < 5; j++) out[o + col.rttMin + j] = toUs(ic.rtt[j]!);
    }
    if (r.mtu) {
      out[o + col.mtuSize] = r.mtu.size;
      out[o + col.mtu] = outcomeCode.get(r.mtu.outcome)!;
    }
    // By the interned keys, not for-in again: port keys are integer-like, so for-in makes a string of each
    // and the interner hashes it (a third of the packing cost); a keyed load by a known key is cheap.
    const rt = r.tcp;
    if (rt)
      for (let j = 0; j < tcp.length; j++) {
        const v = rt[tcp[j]!];
        if (v !== undefined) out[o + FIXED + j] = outcomeCode.get(v)!;
      }
    const ru = r.udp;
    if (ru)
      for (let j = 0; j < udp.length; j++) {
        const v = ru[udp[j]!];
        if (v !== undefined) out[o + FIXED + tcp.length + j] = outcomeCode.get(v)!;
      }
    if (r.bandwidth) bw.push(i, r.bandwidth.mbps, r.bandwidth.ms);
  }
  p.rows = out;
  if (bw.length) p.bw = bw;
  return p;
}

/** Row `i` of a packed table as a row object (the aggregator builds one only for a cell that keeps detail). */
export function unpackRow(p: PackedRows, i: number): TargetRow {
  const stride = strideOf(p);
  const v = p.rows;
  const o = i * stride;
  const r: TargetRow = { peer: p.peers[v[o + col.peer]!]!, addr: p.addrs[v[o + col.addr]!]! };
  if (v[o + col.icmp] !== ABSENT) {
    const rtt = v[o + col.rttMin] === ABSENT ? null : ([0, 1, 2, 3, 4].map((j) => v[o + col.rttMin + j]! / 1000) as [number, number, number, number, number]);
    r.icmp = { sent: v[o + col.sent]!, recv: v[o + col.recv]!, rtt, outcome: outcomes[v[o + col.icmp]!]! };
  }
  const ports = (keys: readonly string[], at: number): Record<string, Outcome> | undefined => {
    let m: Record<string, Outcome> | undefined;
    keys.forEach((k, j) => {
      const c = v[o + at + j]!;
      if (c !== ABSENT) (m ??= {})[k] = outcomes[c]!;
    });
    return m;
  };
  const tcp = ports(p.tcp, FIXED);
  if (tcp) r.tcp = tcp;
  const udp = ports(p.udp, FIXED + p.tcp.length);
  if (udp) r.udp = udp;
  if (v[o + col.mtu] !== ABSENT) r.mtu = { size: v[o + col.mtuSize]!, outcome: outcomes[v[o + col.mtu]!]! };
  const bw = p.bw;
  if (bw) for (let k = 0; k < bw.length; k += 3) if (bw[k] === i) r.bandwidth = { mbps: bw[k + 1]!, ms: bw[k + 2]! };
  return r;
}

export function unpackRows(p: PackedRows): TargetRow[] {
  const n = rowCount(p);
  return Array.from({ length: n }, (_, i) => unpackRow(p, i));
}

const portKey = /^[1-9][0-9]{0,4}$/;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isCode = (v: unknown) => isInt(v) && v >= 0 && v < outcomes.length;
const isCodeOrAbsent = (v: unknown) => v === ABSENT || isCode(v);

function keysProblem(keys: readonly string[], what: string): string | undefined {
  if (new Set(keys).size !== keys.length) return `${what}: a port key twice`;
  for (const k of keys) if (!portKey.test(k) || Number(k) > 65535) return `${what}: ${JSON.stringify(k.slice(0, 10))} is not a port number`;
  return undefined;
}

/** One row's fixed columns (peer and addr indices checked by the caller). */
function fixedProblem(v: ArrayLike<unknown>, o: number): string | undefined {
  const sent = v[o + col.sent];
  if (sent === ABSENT) {
    if (v[o + col.recv] !== ABSENT || v[o + col.icmp] !== ABSENT) return 'icmp columns partly absent';
    for (let j = 0; j < 5; j++) if (v[o + col.rttMin + j] !== ABSENT) return 'an RTT without icmp';
  } else {
    const recv = v[o + col.recv];
    if (!isInt(sent) || sent < 0 || !isInt(recv) || recv < 0 || !isCode(v[o + col.icmp])) return 'bad icmp sent/recv/outcome';
    const none = v[o + col.rttMin] === ABSENT;
    for (let j = 0; j < 5; j++) {
      const t = v[o + col.rttMin + j];
      if (none ? t !== ABSENT : !isInt(t) || t < 0) return 'bad RTT';
    }
  }
  const size = v[o + col.mtuSize];
  if (size === ABSENT) return v[o + col.mtu] === ABSENT ? undefined : 'mtu outcome without a size';
  if (!isInt(size) || size < 68 || size > 65535 || !isCode(v[o + col.mtu])) return 'bad mtu size/outcome';
  return undefined;
}

function bwProblem(bw: readonly unknown[], n: number): string | undefined {
  if (bw.length % 3 !== 0 || bw.length > 3 * n) return 'bw is not triples of rows';
  for (let k = 0; k < bw.length; k += 3) {
    const [i, mbps, ms] = [bw[k], bw[k + 1], bw[k + 2]];
    if (!isInt(i) || i < 0 || i >= n) return `bw.${k}: not a row index`;
    if (typeof mbps !== 'number' || !Number.isFinite(mbps) || mbps < 0 || mbps > limits.bandwidthMbps) return `bw.${k + 1}: bad Mb/s`;
    if (!isInt(ms) || ms < 0 || ms > limits.bandwidthMs) return `bw.${k + 2}: bad window`;
  }
  return undefined;
}

/**
 * Why a packed table (its arrays' shapes and lengths already bounded by the schema) is refused, or undefined.
 * O(rows), fixed work a row: every index in bounds, ints only, codes in the vocabulary, stride exact.
 */
export function packedProblem(p: PackedRows, indexed = false): string | undefined {
  const bad = keysProblem(p.tcp, 'tcp') ?? keysProblem(p.udp, 'udp');
  if (bad) return bad;
  // Indices into a peer set (./peer-set.ts): bounded here by the wire, checked against the set when resolved.
  if (indexed && (p.peers.length || p.addrs.length)) return 'a message with a peerSet names no peers or addrs in its tables';
  for (let i = 0; i < p.addrs.length; i++) if (isIP(p.addrs[i]!) === 0) return `addrs.${i}: ${JSON.stringify(p.addrs[i]!.slice(0, 45))} is not an IP address`;
  const v: ArrayLike<unknown> = p.rows;
  const stride = strideOf(p);
  if (v.length % stride !== 0) return `rows: ${v.length} ints is not a whole number of rows of ${stride}`;
  const n = v.length / stride;
  if (n > limits.rowsPerBinding) return `rows: more than ${limits.rowsPerBinding} rows`;
  const peers = indexed ? limits.rowsPerBinding : p.peers.length;
  const addrs = indexed ? limits.rowsPerBinding : p.addrs.length;
  for (let i = 0, o = 0; i < n; i++, o += stride) {
    const peer = v[o + col.peer];
    const addr = v[o + col.addr];
    if (!isInt(peer) || peer < 0 || peer >= peers || !isInt(addr) || addr < 0 || addr >= addrs) return `rows.${i}: peer or addr index out of range`;
    const why = fixedProblem(v, o);
    if (why) return `rows.${i}: ${why}`;
    for (let j = FIXED; j < stride; j++) if (!isCodeOrAbsent(v[o + j])) return `rows.${i}: bad port outcome code`;
  }
  if (p.same) {
    const seen = new Set<unknown>();
    for (let i = 0; i < p.same.length; i++) {
      const x: unknown = p.same[i];
      if (!isInt(x) || x < 0 || x >= peers) return `same.${i}: not a peer index`;
      if (seen.has(x)) return `same.${i}: peer ${x} twice`;
      seen.add(x);
    }
  }
  if ((p.tally === undefined) !== (p.same === undefined)) return 'same and tally come together';
  return p.bw ? bwProblem(p.bw, n) : undefined;
}

// ICMP echo engine directly on raw-socket (not net-ping, whose defects are listed in
// /work/shared/docs/probing-facts.md). One engine owns up to six raw sockets, opened lazily:
// IPv4 and IPv6, each with and without DF (DF is a per-socket option), plus one header-including socket per
// family for requests that name a source address (raw-socket has no bind(): we write the IP header).
// Matching: engine id (random, unique in the process) + sequence + source address, and a 32-bit tag in the
// payload so a late reply can never be taken for a newer request after the 16-bit sequence wraps.
// Start-up matters (the sweep is compared with fping as a whole process): measured on Node 20, importing
// node:crypto costs ~4-5 ms, node:net ~2-5 ms and node:worker_threads ~5 ms, so none is loaded here;
// node:os is loaded when a source address is first checked.
import { createRequire } from 'node:module';
import type { Outcome } from '../contract/probe.js';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------------------
// Errors

export type IcmpUnavailableCode =
  | 'PINGER_ERR_ICMP_NO_CAP_NET_RAW' // socket() said EPERM: no CAP_NET_RAW
  | 'PINGER_ERR_ICMP_WORKER_THREAD' // raw-socket polls on the main loop: crashes the process in a worker
  | 'PINGER_ERR_ICMP_SOCKET' // any other failure to open the socket
  | 'PINGER_ERR_ICMP_CLOSED'; // ping() after close()

/** ICMP cannot be measured by this engine here; the icmp probe turns this into 'not-measured'. */
export class IcmpUnavailableError extends Error {
  constructor(
    readonly code: IcmpUnavailableCode,
    message: string,
  ) {
    super(message);
    this.name = 'IcmpUnavailableError';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Sockets. Two native back ends behind one small interface:
//  - Pinger's own addon (agent/probes/native/icmp_ts.c, built by `npm ci` into native/build/Release/pinger_icmp.node): recvmsg()
//    with SO_TIMESTAMPNS gives the kernel's receive time of each reply, and the send time is read in C right
//    before sendto(), both CLOCK_REALTIME: the RTT is the kernel's, whatever the event loop was doing.
//  - raw-socket 1.8.1's SocketWrap (fallback when the addon is missing): a plain recvfrom(), so the receive
//    time is taken in JavaScript just before the read and includes any event-loop delay. Samples taken while
//    the loop lagged are flagged (`lagged`) so summaries can leave them out.

/** What the engine needs from a raw socket. Stamps are ms in the socket's own clock (see kernelStamps). */
interface EngineSocket {
  /** true: recv() gives kernel receive stamps, comparable with send()'s stamps. */
  readonly kernelStamps: boolean;
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  /** One sendto(); returns the send time. Throws the errno as an Error. */
  send(buf: Buffer, offset: number, length: number, address: string): number;
  /**
   * One read into buf; returns the source address text, or undefined when nothing is queued.
   * Fills rd: [bytes, kernel receive stamp (NaN without one), read time].
   */
  recv(buf: Buffer, rd: Float64Array): string | undefined;
  close(): void;
  onRecv: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;
}

interface NativeIcmp {
  open(family: 4 | 6, protocol: number): object;
  setOption(h: object, level: number, option: number, value: number | Buffer): void;
  send(h: object, buf: Buffer, offset: number, length: number, address: string): number;
  recv(h: object, buf: Buffer, out: Float64Array): string | null;
  start(h: object, cb: (err?: Error) => void): void;
  close(h: object): void;
  now(): number;
}

let native: NativeIcmp | null | undefined;
/**
 * Pinger's addon, or null when it is not built (or PINGER_ICMP_NATIVE=off asks for the fallback). Looked up
 * relative to this module: ../../build from agent/probes/ (tsx) and from dist/bundle/ (the bundle's
 * chunks), ../../../build from dist/agent/probes/ (tsc output).
 */
export function loadNative(): NativeIcmp | null {
  if (native !== undefined) return native;
  native = null;
  if (process.env.PINGER_ICMP_NATIVE === 'off') return native;
  for (const rel of ['./native/build/Release/pinger_icmp.node', '../../../agent/probes/native/build/Release/pinger_icmp.node', '../../agent/probes/native/build/Release/pinger_icmp.node']) {
    try {
      native = require(rel) as NativeIcmp;
      break;
    } catch {
      // not there: try the next place, else fall back to raw-socket
    }
  }
  return native;
}

/** Which receive stamps this process's engines use: 'kernel' (the addon) or 'loop' (raw-socket fallback). */
export function stampSource(): 'kernel' | 'loop' {
  return loadNative() ? 'kernel' : 'loop';
}

class NativeSocket implements EngineSocket {
  readonly kernelStamps = true;
  onRecv: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;
  private readonly h: object;
  constructor(
    private readonly n: NativeIcmp,
    family: 4 | 6,
  ) {
    this.h = n.open(family, family === 6 ? 58 : 1);
    try {
      n.start(this.h, (err) => {
        if (err) {
          // As raw-socket does: a poll error closes the socket.
          this.close();
          this.onError?.(err);
        } else this.onRecv?.();
      });
    } catch (e) {
      n.close(this.h);
      throw e;
    }
  }
  setOption(level: number, option: number, value: number | Buffer): void {
    this.n.setOption(this.h, level, option, value);
  }
  send(buf: Buffer, offset: number, length: number, address: string): number {
    return this.n.send(this.h, buf, offset, length, address);
  }
  recv(buf: Buffer, rd: Float64Array): string | undefined {
    return this.n.recv(this.h, buf, rd) ?? undefined;
  }
  close(): void {
    this.n.close(this.h);
  }
}

class RawSocketAdapter implements EngineSocket {
  readonly kernelStamps = false;
  onRecv: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;
  private readonly s: RawSocket;
  private rd: Float64Array | undefined;
  private src: string | undefined;
  constructor(family: 4 | 6) {
    this.s = new (loadRaw())(family === 6 ? 58 : 1, family === 6 ? 2 : 1);
    this.s.onRecv = () => this.onRecv?.();
    this.s.onError = (err) => this.onError?.(err);
    watchLoopLag();
  }
  setOption(level: number, option: number, value: number | Buffer, length?: number): void {
    if (length === undefined) this.s.setOption(level, option, value);
    else this.s.setOption(level, option, value, length);
  }
  send(buf: Buffer, offset: number, length: number, address: string): number {
    const at = nowMs();
    this.s.send(buf, offset, length, address, noop);
    return at;
  }
  recv(buf: Buffer, rd: Float64Array): string | undefined {
    this.rd = rd;
    this.src = undefined;
    // Stamp before the read, not in its callback: keeps raw-socket's callback path (and its first-call
    // compilation) out of the RTT. Every send happened before this line, so the send stamp <= this one.
    rd[2] = nowMs();
    try {
      this.s.recv(buf, this.onRead);
    } catch {
      return undefined; // EAGAIN: drained
    }
    return this.src;
  }
  private readonly onRead = (_buf: Buffer, bytes: number, source: string): void => {
    this.rd![0] = bytes;
    this.rd![1] = NaN;
    this.src = source;
  };
  close(): void {
    this.s.close();
  }
}

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
function watchLoopLag(): void {
  if (lagTimer) return;
  lastTick = nowMs();
  lagTimer = setInterval(() => {
    noteLoopLag();
    lastTick = nowMs();
  }, LAG_TICK_MS);
  lagTimer.unref();
}
/** Returns the time the loop was last seen lagging (-Infinity: never). */
function noteLoopLag(): number {
  if (lagTimer) {
    const now = nowMs();
    if (now - lastTick > LAG_TICK_MS + LAG_FLAG_MS) laggedAt = now;
  }
  return laggedAt;
}

// raw-socket 1.8.1's native SocketWrap, used without the package's index.js (which loads node:net and
// node:util for what we do not use). Its send() is a synchronous sendto(), recv() one recvfrom() that throws
// on EAGAIN; the addon reports readiness and errors by calling this.emit('recvReady' | 'error' | 'close').

interface RawSocket {
  send(buf: Buffer, offset: number, length: number, address: string, cb: (bytes: number) => void): void;
  recv(buf: Buffer, cb: (buf: Buffer, bytes: number, source: string) => void): void;
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  close(): void;
  emit(event: string, arg?: unknown): void;
  onRecv: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;
}
type SocketWrapClass = new (protocol: number, family: 1 | 2) => RawSocket;

let SocketWrap: SocketWrapClass | undefined;
function loadRaw(): SocketWrapClass {
  // Loaded lazily so that merely importing this file from a worker_thread does not load the addon.
  if (!SocketWrap) {
    const cls = (require('raw-socket/build/Release/raw.node') as { SocketWrap: SocketWrapClass }).SocketWrap;
    cls.prototype.emit = function (this: RawSocket, event: string, arg?: unknown): void {
      if (event === 'recvReady') this.onRecv?.();
      else if (event === 'error') {
        // As raw-socket's own wrapper does: a poll error closes the socket.
        this.close();
        this.onError?.(arg instanceof Error ? arg : new Error(String(arg)));
      }
    };
    SocketWrap = cls;
  }
  return SocketWrap;
}

// node:net's isIP, without loading node:net: the same expressions as Node 20's lib/internal/net.js
// (test/unit/probes/icmp-address.test.ts checks they agree).
const v4Seg = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const v4Str = `(?:${v4Seg}\\.){3}${v4Seg}`;
const IPv4Reg = new RegExp(`^${v4Str}$`);
const v6Seg = '(?:[0-9a-fA-F]{1,4})';
const IPv6Reg = new RegExp(
  '^(?:' +
    `(?:${v6Seg}:){7}(?:${v6Seg}|:)|` +
    `(?:${v6Seg}:){6}(?:${v4Str}|:${v6Seg}|:)|` +
    `(?:${v6Seg}:){5}(?::${v4Str}|(?::${v6Seg}){1,2}|:)|` +
    `(?:${v6Seg}:){4}(?:(?::${v6Seg}){0,1}:${v4Str}|(?::${v6Seg}){1,3}|:)|` +
    `(?:${v6Seg}:){3}(?:(?::${v6Seg}){0,2}:${v4Str}|(?::${v6Seg}){1,4}|:)|` +
    `(?:${v6Seg}:){2}(?:(?::${v6Seg}){0,3}:${v4Str}|(?::${v6Seg}){1,5}|:)|` +
    `(?:${v6Seg}:){1}(?:(?::${v6Seg}){0,4}:${v4Str}|(?::${v6Seg}){1,6}|:)|` +
    `(?::(?:(?::${v6Seg}){0,5}:${v4Str}|(?::${v6Seg}){1,7}|:))` +
    ')(?:%[0-9a-zA-Z-.:]{1,})?$',
);

/** 4, 6 or 0, exactly as node:net's isIP. */
export function isIP(addr: string): 0 | 4 | 6 {
  if (IPv4Reg.test(addr)) return 4;
  if (IPv6Reg.test(addr)) return 6;
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Public types

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
const MAX_SIZE = { 4: 65535 - 20, 6: 65535 } as const;
const RECV_BUFFER = 65535; // no truncation of large replies (net-ping used 4096)

// ---------------------------------------------------------------------------------------------------------
// Packet parsing (pure; exported for unit tests)

export type ParsedKind = 'none' | 'reply' | 'error';

/** Reusable result of parseIcmp(): the receive path fills one of these instead of allocating. */
export interface ParsedIcmp {
  kind: ParsedKind;
  id: number;
  seq: number;
  /** Payload tag (bytes 8..12 of our echo), or -1 when the packet does not carry it. */
  tag: number;
  /** ICMP message bytes (reply) */
  bytes: number;
  /** For errors: the original request's destination, as text. For replies: unused. */
  origDst: string;
  type: number;
  code: number;
  /** Next-hop MTU for too-big errors, else 0. */
  mtu: number;
}

export function newParsed(): ParsedIcmp {
  return { kind: 'none', id: 0, seq: 0, tag: -1, bytes: 0, origDst: '', type: 0, code: 0, mtu: 0 };
}

function readTag(buf: Buffer, off: number, end: number): number {
  // Byte loads, not readUInt32BE: the first thousands of packets of a sweep run unoptimised, where Buffer's
  // JS helpers (bounds checks, argument validation) cost several times a plain load.
  return off + 4 <= end ? ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0 : -1;
}

/**
 * Parses one packet read from a raw socket. IPv4 reads include the IP header, IPv6 ones start at ICMPv6.
 * Echo replies and the errors that embed one of our echo requests are recognised; everything else is 'none'.
 */
export function parseIcmp(family: 4 | 6, buf: Buffer, len: number, out: ParsedIcmp): ParsedIcmp {
  out.kind = 'none';
  out.tag = -1;
  out.mtu = 0;
  let off = 0;
  if (family === 4) {
    if (len < 20) return out;
    off = (buf[0]! & 0x0f) << 2; // IHL
  }
  if (len < off + 8) return out;
  const type = buf[off]!;
  const code = buf[off + 1]!;
  out.type = type;
  out.code = code;
  if (type === (family === 4 ? 0 : 129)) {
    out.kind = 'reply';
    out.id = (buf[off + 4]! << 8) | buf[off + 5]!;
    out.seq = (buf[off + 6]! << 8) | buf[off + 7]!;
    out.tag = readTag(buf, off + 8, len);
    out.bytes = len - off;
    return out;
  }
  // Errors quote the offending datagram after the 8-byte ICMP header.
  const inner = off + 8;
  if (family === 4) {
    if (type !== 3 && type !== 11 && type !== 12) return out;
    if (len < inner + 20) return out;
    const ihl = (buf[inner]! & 0x0f) << 2;
    if (buf[inner + 9] !== 1) return out; // quoted protocol must be ICMP
    const icmp = inner + ihl;
    if (len < icmp + 8 || buf[icmp] !== 8) return out; // quoted message must be an echo request
    out.origDst = `${buf[inner + 16]}.${buf[inner + 17]}.${buf[inner + 18]}.${buf[inner + 19]}`;
    out.id = (buf[icmp + 4]! << 8) | buf[icmp + 5]!;
    out.seq = (buf[icmp + 6]! << 8) | buf[icmp + 7]!;
    out.tag = readTag(buf, icmp + 8, len);
    if (type === 3 && code === 4) out.mtu = buf.readUInt16BE(off + 6);
    out.kind = 'error';
    return out;
  }
  if (type < 1 || type > 4) return out;
  if (len < inner + 40) return out;
  let next = buf[inner + 6]!;
  let icmp = inner + 40;
  if (next === 44) {
    // Fragment header: only the first fragment carries the ICMPv6 header.
    if (len < icmp + 8 || (buf.readUInt16BE(icmp + 2) & 0xfff8) !== 0) return out;
    next = buf[icmp]!;
    icmp += 8;
  }
  if (next !== 58 || len < icmp + 8 || buf[icmp] !== 128) return out;
  out.origDst = ipv6Text(buf, inner + 24);
  out.id = (buf[icmp + 4]! << 8) | buf[icmp + 5]!;
  out.seq = (buf[icmp + 6]! << 8) | buf[icmp + 7]!;
  out.tag = readTag(buf, icmp + 8, len);
  if (type === 2) out.mtu = buf.readUInt32BE(off + 4);
  out.kind = 'error';
  return out;
}

/**
 * IPv6 address bytes as libuv's inet_ntop writes them (the text raw-socket gives for a reply's source):
 * lower-case hex, the longest run of two or more zero words as '::' (the first if tied), and the last 32 bits
 * dotted for IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses.
 */
export function ipv6Text(buf: Buffer, off: number): string {
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((buf[off + i]! << 8) | buf[off + i + 1]!);
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += `${buf[off + 12]}.${buf[off + 13]}.${buf[off + 14]}.${buf[off + 15]}`;
      break;
    }
    out += w[i]!.toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

/** The text raw-socket (libuv's inet_ntop) gives for a source address; scope ids are dropped. */
function canonical6(addr: string): string {
  return ipv6Text(ipBytes(addr)!, 0);
}

/** Maps a recognised ICMP error to a probe outcome and a machine-readable detail. */
export function classifyIcmpError(family: 4 | 6, p: ParsedIcmp, from: string): { outcome: Outcome; detail: string } {
  const { type, code } = p;
  const tc = `icmp${family} ${type}/${code}`;
  const mtu = p.mtu ? ` mtu ${p.mtu}` : '';
  if (family === 4) {
    if (type === 3 && code === 4) return { outcome: 'too-big', detail: `${tc} frag-needed${mtu} from ${from}` };
    if (type === 3) return { outcome: 'unreachable', detail: `${tc} ${unreach4[code] ?? 'dest-unreachable'} from ${from}` };
    if (type === 11) return { outcome: 'unreachable', detail: `${tc} time-exceeded from ${from}` };
    return { outcome: 'error', detail: `${tc} parameter-problem from ${from}` };
  }
  if (type === 2) return { outcome: 'too-big', detail: `${tc} packet-too-big${mtu} from ${from}` };
  if (type === 1) return { outcome: 'unreachable', detail: `${tc} ${unreach6[code] ?? 'dest-unreachable'} from ${from}` };
  if (type === 3) return { outcome: 'unreachable', detail: `${tc} time-exceeded from ${from}` };
  return { outcome: 'error', detail: `${tc} parameter-problem from ${from}` };
}

const unreach4: Record<number, string> = {
  0: 'net-unreachable',
  1: 'host-unreachable',
  2: 'protocol-unreachable',
  3: 'port-unreachable',
  9: 'net-prohibited',
  10: 'host-prohibited',
  13: 'admin-prohibited',
};
const unreach6: Record<number, string> = {
  0: 'no-route',
  1: 'admin-prohibited',
  2: 'beyond-scope',
  3: 'address-unreachable',
  4: 'port-unreachable',
  5: 'source-policy',
  6: 'reject-route',
};

// raw-socket throws `new Error(strerror(errno))` without a code; map the texts we act on back to codes.
const errnoByText: Record<string, string> = {
  'Message too long': 'EMSGSIZE',
  'Network is unreachable': 'ENETUNREACH',
  'No route to host': 'EHOSTUNREACH',
  'Operation not permitted': 'EPERM',
  'Permission denied': 'EACCES',
  'Resource temporarily unavailable': 'EAGAIN',
  'No buffer space available': 'ENOBUFS',
  'Invalid argument': 'EINVAL',
  'Cannot assign requested address': 'EADDRNOTAVAIL',
  'Address family not supported by protocol': 'EAFNOSUPPORT',
};
export function errnoOf(err: unknown): string {
  // Pinger's addon sets the errno name as the code; raw-socket gives only strerror's text.
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  const msg = err instanceof Error ? err.message : String(err);
  return errnoByText[msg] ?? msg;
}

/** What a failed sendto() means for the probe. */
export function classifySendError(errno: string): { outcome: Outcome; detail: string } {
  switch (errno) {
    case 'EMSGSIZE':
      return { outcome: 'too-big', detail: 'EMSGSIZE' };
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'EADDRNOTAVAIL':
      return { outcome: 'unreachable', detail: errno };
    case 'EPERM': // a local firewall (OUTPUT drop) refuses the packet
      return { outcome: 'filtered', detail: 'EPERM (local firewall)' };
    default:
      return { outcome: 'error', detail: errno };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Source addresses: header-included packets (pure helpers exported for unit tests)

/** Network-order bytes of an IPv4 or IPv6 literal (no scope id), or undefined if it is neither. */
export function ipBytes(addr: string): Buffer | undefined {
  const family = isIP(addr);
  if (family === 4) return Buffer.from(addr.split('.').map(Number));
  if (family !== 6) return undefined;
  const out = Buffer.alloc(16);
  let text = addr.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  hs.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), i * 2));
  ts.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), 16 - (ts.length - i) * 2));
  return out;
}

export const IP4_HEADER = 20;
export const IP6_HEADER = 40;

/**
 * The IPv4 header of an echo sent with IP_HDRINCL. Linux fills in the total length, the id (when 0) and the
 * header checksum, and sends the source we write as it is: callers must have checked it is ours.
 */
export function writeIp4Header(buf: Buffer, src: Buffer, dst: Buffer, df: boolean): void {
  buf[0] = 0x45; // version 4, 5 words
  buf[1] = 0; // TOS
  buf.writeUInt16BE(0, 2); // total length: filled by the kernel
  buf.writeUInt16BE(0, 4); // id: chosen by the kernel
  buf.writeUInt16BE(df ? 0x4000 : 0, 6); // flags (DF) + fragment offset
  buf[8] = 64; // TTL
  buf[9] = 1; // ICMP
  buf.writeUInt16BE(0, 10); // checksum: always computed by the kernel
  src.copy(buf, 12);
  dst.copy(buf, 16);
}

/** The IPv6 header of an echo sent with IPV6_HDRINCL; the kernel fills in nothing here. */
export function writeIp6Header(buf: Buffer, src: Buffer, dst: Buffer, icmpBytes: number): void {
  buf.writeUInt32BE(0x60000000, 0); // version 6, traffic class 0, flow label 0
  buf.writeUInt16BE(icmpBytes, 4); // payload length
  buf[6] = 58; // next header: ICMPv6
  buf[7] = 64; // hop limit
  src.copy(buf, 8);
  dst.copy(buf, 24);
}

/** Ones'-complement sum of the 16-bit words of the ICMPv6 pseudo-header (unfolded). */
export function pseudoHeaderSum6(src: Buffer, dst: Buffer, icmpBytes: number): number {
  let s = 58 + (icmpBytes >>> 16) + (icmpBytes & 0xffff);
  for (let i = 0; i < 16; i += 2) s += ((src[i]! << 8) | src[i + 1]!) + ((dst[i]! << 8) | dst[i + 1]!);
  return s;
}

// Which addresses are this host's. With a header-included packet the kernel sends whatever source we write, so
// an address that is not ours would be spoofed; we refuse it instead. os.networkInterfaces() costs ~1-5 ms:
// cached, and re-read at most once a second when a source is not found.
let localCache: { at: number; v4: { net: number; mask: number }[]; exact: Set<string> } | undefined;

function readLocal(): NonNullable<typeof localCache> {
  const v4: { net: number; mask: number }[] = [];
  const exact = new Set<string>();
  const os = require('node:os') as typeof import('node:os'); // only when a source is used
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv6') {
        exact.add(canonical6(a.address));
        continue;
      }
      exact.add(a.address);
      // Linux routes a loopback address's whole prefix as local (127.0.0.1/8: every 127.x is ours).
      if (a.internal && a.cidr) {
        const bits = Number(a.cidr.split('/')[1]);
        const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
        v4.push({ net: (ipBytes(a.address)!.readUInt32BE(0) & mask) >>> 0, mask });
      }
    }
  }
  return { at: nowMs(), v4, exact };
}

function isLocalIn(c: NonNullable<typeof localCache>, addr: string, family: 4 | 6): boolean {
  if (c.exact.has(addr)) return true;
  if (family === 6) return false;
  const n = ipBytes(addr)!.readUInt32BE(0);
  return c.v4.some((r) => ((n & r.mask) >>> 0) === r.net);
}

/** Whether `addr` (canonical text) is an address of this host. */
export function isLocalAddress(addr: string, family: 4 | 6): boolean {
  if (localCache && isLocalIn(localCache, addr, family)) return true;
  if (localCache && nowMs() - localCache.at < 1000) return false;
  localCache = readLocal();
  return isLocalIn(localCache, addr, family);
}

// ---------------------------------------------------------------------------------------------------------
// Engine

interface Pending {
  target: string; // canonical text, compared with the reply's source
  sendTo: string; // as given (keeps an IPv6 scope id)
  family: 4 | 6;
  df: boolean;
  /** With a source: its bytes and the target's, for the header we write; the socket is the family's HDRINCL one. */
  src: Buffer | undefined;
  dst: Buffer | undefined;
  size: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  cb: (r: PingResult) => void;
  seq: number; // -1 while queued
  tag: number;
  sentAt: number; // nowMs(): a double with sub-microsecond resolution, no BigInt per ping
  txAt: number; // the socket's send stamp (its own clock: see EngineSocket)
  deadline: number; // nowMs()
  done: boolean;
}

// No source: (family 6 ? 2 : 0) + (df ? 1 : 0). With a source: 4 (IPv4) or 5 (IPv6), header-included: one
// socket per family whatever the sources and DF (both are in the header we write), so at most six sockets.
type Slot = 0 | 1 | 2 | 3 | 4 | 5;
const slotOf = (family: 4 | 6, df: boolean, sourced: boolean): Slot =>
  (sourced ? (family === 6 ? 5 : 4) : (family === 6 ? 2 : 0) + (df ? 1 : 0)) as Slot;
const SLOTS = 6;
const familyOfSlot = (slot: Slot): 4 | 6 => (slot === 2 || slot === 3 || slot === 5 ? 6 : 4);

// Engines with an open socket. The native socket wrap is weakly held by V8, so without this a pending ping
// whose engine the caller dropped could be collected: callbacks would never fire (net-ping defect 5).
const liveEngines = new Set<IcmpEngine>();

/**
 * Monotonic milliseconds as a double (libuv's hrtime, sub-microsecond resolution). Not performance.now(): the
 * global `performance` loads perf_hooks on first use, ~2 ms of a sweep's start-up (measured).
 */
const nowMs = (): number => process.uptime() * 1000;

/**
 * Whether we run on the main thread. Node marks the process-wide methods a worker may not call
 * (process.chdir, process.abort) with `disabled: true`; reading that costs nothing, while loading
 * node:worker_threads for its isMainThread costs ~5 ms of start-up (measured). test/integration/probes/
 * icmp-loopback.test.ts checks both sides (a worker gets not-measured; the main thread pings).
 */
function isMainThread(): boolean {
  return (process.chdir as { disabled?: boolean }).disabled !== true;
}
const usedIds = new Set<number>();

const noop = (): void => {};
const SOL_RAW = 255;
const ICMP_FILTER = 1;
const IPPROTO_ICMPV6 = 58;
const ICMP6_FILTER = 1;

export class IcmpEngine {
  /** ICMP identifier of this engine's echoes (random, unique in this process). */
  readonly id: number;
  readonly window: number;
  private readonly idleCloseMs: number;
  /** true once a socket opened; false once that failed for lack of CAP_NET_RAW (or in a worker). */
  available: boolean | undefined;
  private unavailable: IcmpUnavailableError | undefined;
  private closed = false;

  private readonly sockets: (EngineSocket | undefined)[] = new Array<EngineSocket | undefined>(SLOTS).fill(undefined);
  private readonly inflight = new Map<number, Pending>(); // by sequence number
  private queue: Pending[] = [];
  private qHead = 0;
  // Math.random, not node:crypto (start-up cost): the id and first sequence need to differ between
  // processes, not to be secret.
  private counter = Math.floor(Math.random() * 0x10000); // low 16 bits: sequence, the rest: payload tag
  private pumping = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private idleTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly templates = new Map<number, { buf: Buffer; sum: number }>(); // by family*1e6+size
  private lastKey = -1;
  private lastTemplate: { buf: Buffer; sum: number } | undefined;
  private readonly recvBuf = Buffer.allocUnsafe(RECV_BUFFER);
  private readonly parsed = newParsed();
  private readMono = 0; // nowMs(), taken just before each read: the packet read was queued by then
  private readonly rd = new Float64Array(3); // [bytes, kernel receive stamp, read time] of the last read
  // Results wait here until we are out of raw-socket's native callbacks (an exception thrown by a caller's
  // callback must not unwind through them), then flush() hands them over in order.
  private doneCbs: ((r: PingResult) => void)[] = [];
  private doneResults: PingResult[] = [];
  private flushScheduled = false;

  constructor(opts: IcmpEngineOptions = {}) {
    this.window = Math.max(1, Math.floor(opts.window ?? DEFAULT_WINDOW));
    this.idleCloseMs = opts.idleCloseMs ?? 1000;
    let id: number;
    do id = Math.floor(Math.random() * 0x10000);
    while (usedIds.has(id));
    usedIds.add(id);
    this.id = id;
  }

  get isClosed(): boolean {
    return this.closed;
  }
  get inFlight(): number {
    return this.inflight.size;
  }
  get queued(): number {
    return this.queue.length - this.qHead;
  }

  /**
   * Opens the socket a request would use, so that missing privileges show before a sweep starts.
   * Throws IcmpUnavailableError.
   */
  open(family: 4 | 6, df = false): void {
    this.socketFor(slotOf(family, df, false));
    this.maybeIdle(); // an opened but unused socket must not keep the process alive
  }

  /** Resolves with the outcome; rejects only with IcmpUnavailableError (ICMP cannot run here at all). */
  ping(req: PingRequest): Promise<PingResult> {
    return new Promise((resolve, reject) => {
      const err = this.submit(req, resolve);
      if (err) reject(err);
    });
  }

  /**
   * Callback form of ping() (no promise per request, for sweeps). Returns an IcmpUnavailableError instead of
   * calling cb when ICMP cannot run here; otherwise cb is called exactly once, never synchronously.
   */
  submit(req: PingRequest, cb: (r: PingResult) => void): IcmpUnavailableError | undefined {
    if (this.closed) return new IcmpUnavailableError('PINGER_ERR_ICMP_CLOSED', 'the ICMP engine is closed');
    const family = isIP(req.target);
    if (family !== 4 && family !== 6) {
      return this.deliverLater(cb, { outcome: 'error', detail: `PINGER_ERR_ICMP_BAD_TARGET: '${req.target}' is not an IP address` });
    }
    const target = family === 6 ? canonical6(req.target) : req.target;
    if (family === 6 && target.startsWith('::ffff:') && isIP(target.slice(7)) === 4) {
      return this.deliverLater(cb, { outcome: 'error', detail: `PINGER_ERR_ICMP_BAD_TARGET: '${req.target}' is IPv4-mapped; use the IPv4 form` });
    }
    const size = req.size ?? DEFAULT_SIZE;
    if (!Number.isInteger(size) || size < 8 || size > MAX_SIZE[family]) {
      return this.deliverLater(cb, { outcome: 'error', detail: `PINGER_ERR_ICMP_BAD_SIZE: ${size} (8..${MAX_SIZE[family]})` });
    }
    const df = req.df === true;
    let src: Buffer | undefined;
    let dst: Buffer | undefined;
    if (req.source !== undefined) {
      const sf = isIP(req.source);
      const bad = (why: string): undefined =>
        this.deliverLater(cb, { outcome: 'error', detail: `PINGER_ERR_ICMP_BAD_SOURCE: source '${req.source}' ${why}` });
      if (sf !== 4 && sf !== 6) return bad('is not an IP address');
      if (sf !== family) return bad(`is IPv${sf}, target '${req.target}' is IPv${family}`);
      const source = sf === 6 ? canonical6(req.source.replace(/%.*$/, '')) : req.source;
      // Never put an address that is not ours in a header: that would be a spoofed packet.
      if (!isLocalAddress(source, family)) return bad('is not an address of this host');
      src = ipBytes(source);
      dst = ipBytes(target);
    }
    const slot = slotOf(family, df, src !== undefined);
    try {
      this.socketFor(slot);
    } catch (e) {
      if (e instanceof IcmpUnavailableError) return e;
      throw e;
    }
    if (req.signal?.aborted) return this.deliverLater(cb, { outcome: 'error', detail: 'aborted' });
    const p: Pending = {
      target,
      sendTo: req.target,
      family,
      df,
      src,
      dst,
      size,
      timeoutMs: Math.max(0, req.timeoutMs),
      signal: req.signal,
      onAbort: undefined,
      cb,
      seq: -1,
      tag: 0,
      sentAt: 0,
      txAt: 0,
      deadline: 0,
      done: false,
    };
    if (p.signal) {
      p.onAbort = () => {
        this.settle(p, { outcome: 'error', detail: 'aborted' });
        this.flush();
      };
      p.signal.addEventListener('abort', p.onAbort, { once: true });
    }
    this.cancelIdle();
    if (this.qHead === this.queue.length && this.inflight.size < this.window && !this.retryTimer && !this.pumping) {
      this.send(p); // nothing waits ahead of it: skip the queue (a sweep's common case, measured cheaper cold)
    } else {
      this.queue.push(p);
      this.pump();
    }
    // A send can fail at once (e.g. EMSGSIZE); the callback still must not run inside submit().
    if (this.doneCbs.length > 0) this.scheduleFlush();
    return undefined;
  }

  /** Closes the sockets now; pending and queued pings end with outcome 'error'. The engine is finished. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const r: PingResult = { outcome: 'error', detail: 'PINGER_ERR_ICMP_CLOSED' };
    for (const p of [...this.inflight.values(), ...this.queue.slice(this.qHead)]) this.settle(p, r, false);
    this.closeSockets();
    usedIds.delete(this.id);
    this.scheduleFlush();
  }

  // -- sockets ------------------------------------------------------------------------------------------

  private socketFor(slot: Slot): EngineSocket {
    const family = familyOfSlot(slot);
    const df = slot === 1 || slot === 3;
    const hdrincl = slot >= 4;
    const existing = this.sockets[slot];
    if (existing) return existing;
    if (this.unavailable) throw this.unavailable;
    if (!isMainThread()) {
      // Measured: raw-socket registers its poll handle on the main thread's loop; used from a worker the
      // whole process dies ("symbol lookup error"), or loading fails with "Module did not self-register".
      this.markUnavailable(
        new IcmpUnavailableError('PINGER_ERR_ICMP_WORKER_THREAD', 'raw ICMP sockets cannot be used from a worker_thread'),
      );
    }
    let sock: EngineSocket;
    try {
      const n = loadNative();
      sock = n ? new NativeSocket(n, family) : new RawSocketAdapter(family);
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === 'EPERM' || errno === 'EACCES') {
        this.markUnavailable(
          new IcmpUnavailableError('PINGER_ERR_ICMP_NO_CAP_NET_RAW', 'raw ICMP sockets need CAP_NET_RAW'),
        );
      }
      throw new IcmpUnavailableError('PINGER_ERR_ICMP_SOCKET', `cannot open a raw ICMP socket: ${errno}`);
    }
    try {
      if (family === 4) {
        // Let only echo reply, dest-unreachable, time-exceeded and parameter-problem through: on loopback a
        // raw socket would otherwise also read every echo *request* (twice the work).
        const pass = (1 << 0) | (1 << 3) | (1 << 11) | (1 << 12);
        sock.setOption(SOL_RAW, ICMP_FILTER, ~pass >>> 0);
        if (hdrincl) sock.setOption(0 /* IPPROTO_IP */, 3 /* IP_HDRINCL */, 1); // DF is then our header's bit
        // DF socket: IP_PMTUDISC_DO. Non-DF: IP_PMTUDISC_DONT, else Linux sets DF anyway ("WANT").
        else sock.setOption(0, 10, df ? 2 : 0);
      } else {
        const filter = Buffer.alloc(32, 0xff); // struct icmp6_filter: a set bit blocks that type
        for (const t of [1, 2, 3, 4, 129]) {
          const at = (t >> 5) * 4;
          const word = (filter.readUInt32LE(at) & ~(1 << (t & 31))) >>> 0;
          filter.writeUInt32LE(word, at); // host byte order (x86/arm64: little-endian)
        }
        sock.setOption(IPPROTO_ICMPV6, ICMP6_FILTER, filter, 32);
        if (df) sock.setOption(41, 23, 2); // IPV6_MTU_DISCOVER = IPV6_PMTUDISC_DO: EMSGSIZE, no fragments
        // Measured on 6.18: a sticky IPV6_PKTINFO address is ignored by raw sockets (only its ifindex is used),
        // so the source goes in a header we write. Header-included IPv6 packets are never fragmented locally.
        if (hdrincl) sock.setOption(41 /* IPPROTO_IPV6 */, 36 /* IPV6_HDRINCL */, 1);
      }
    } catch (e) {
      sock.close();
      throw new IcmpUnavailableError('PINGER_ERR_ICMP_SOCKET', `cannot configure a raw ICMP socket: ${errnoOf(e)}`);
    }
    // The default receive buffer (~208 KB) holds only a dozen jumbo replies: with a window of 32 DF echoes of
    // 9,000 bytes the kernel dropped replies and the lab saw false MTU failures. Ask for 4 MiB, forced past
    // net.core.rmem_max where we may (SO_RCVBUFFORCE needs CAP_NET_ADMIN), else as much as rmem_max allows.
    try {
      sock.setOption(1 /* SOL_SOCKET */, 33 /* SO_RCVBUFFORCE */, 4 << 20);
    } catch {
      try {
        sock.setOption(1 /* SOL_SOCKET */, 8 /* SO_RCVBUF */, 4 << 20);
      } catch {
        // keep the default: smaller, still correct
      }
    }
    sock.onRecv = () => this.onReadable(sock, slot, family);
    sock.onError = (err: Error) => this.onSocketError(slot, err);
    this.sockets[slot] = sock;
    this.available = true;
    liveEngines.add(this);
    return sock;
  }

  private markUnavailable(e: IcmpUnavailableError): never {
    this.available = false;
    this.unavailable = e;
    throw e;
  }

  private closeSockets(): void {
    for (let i = 0; i < SLOTS; i++) {
      const s = this.sockets[i];
      this.sockets[i] = undefined;
      if (s) s.close();
    }
    for (const t of [this.timer, this.idleTimer, this.retryTimer]) if (t) clearTimeout(t);
    this.timer = this.idleTimer = this.retryTimer = undefined;
    this.timerAt = Infinity;
    liveEngines.delete(this);
  }

  private onSocketError(slot: Slot, err: Error): void {
    // raw-socket closes the socket after an 'error'; end what was on it and reopen on the next request.
    this.sockets[slot] = undefined;
    for (const p of [...this.inflight.values()]) {
      if (slotOf(p.family, p.df, p.src !== undefined) === slot) this.settle(p, { outcome: 'error', detail: `socket error: ${err.message}` });
    }
    this.maybeIdle();
    this.flush();
  }

  private cancelIdle(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  private maybeIdle(): void {
    if (this.inflight.size > 0 || this.queued > 0 || this.idleTimer || this.idleCloseMs < 0 || this.closed) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.inflight.size === 0 && this.queued === 0) this.closeSockets();
    }, this.idleCloseMs);
  }

  // -- send -------------------------------------------------------------------------------------------------

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.inflight.size < this.window && this.qHead < this.queue.length && !this.retryTimer) {
        const p = this.queue[this.qHead]!;
        this.queue[this.qHead++] = undefined as unknown as Pending; // let settled requests be collected
        if (!p.done) this.send(p);
      }
      if (this.qHead === this.queue.length) {
        this.queue = [];
        this.qHead = 0;
      } else if (this.qHead > 4096 && this.qHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.qHead);
        this.qHead = 0;
      }
    } finally {
      this.pumping = false;
    }
  }

  /** The packet for (family, size), with room for an IP header (`hdr` bytes) before the ICMP message. */
  private template(family: 4 | 6, size: number, hdr: number): { buf: Buffer; sum: number } {
    const key = family * 1e6 + size + (hdr ? 5e5 : 0);
    if (key === this.lastKey) return this.lastTemplate!; // a sweep sends one kind of packet
    let t = this.templates.get(key);
    if (!t) {
      if (this.templates.size >= 32) this.templates.clear(); // MTU sweeps use a handful of sizes
      const buf = Buffer.alloc(hdr + size);
      buf[hdr] = family === 4 ? 8 : 128;
      buf.writeUInt16BE(this.id, hdr + 4);
      for (let i = 12; i < size; i++) buf[hdr + i] = i & 0xff; // recognisable filler after the tag
      // Ones'-complement sum of the fixed words; per packet only seq and tag are added (IPv4 checksum, and
      // the ICMPv6 one when we write the header: then the kernel does not compute it).
      let sum = 0;
      for (let i = 0; i + 1 < size; i += 2) sum += (buf[hdr + i]! << 8) | buf[hdr + i + 1]!;
      if (size & 1) sum += buf[hdr + size - 1]! << 8;
      t = { buf, sum };
      this.templates.set(key, t);
    }
    this.lastKey = key;
    this.lastTemplate = t;
    return t;
  }

  private send(p: Pending): void {
    const slot = slotOf(p.family, p.df, p.src !== undefined);
    const sock = this.sockets[slot];
    if (!sock) {
      // The socket failed since the request was queued; reopen (or report why not).
      try {
        this.socketFor(slot);
      } catch (e) {
        this.settle(p, { outcome: 'not-measured', detail: e instanceof Error ? e.message : String(e) });
        return;
      }
      this.send(p);
      return;
    }
    // A sequence number never in flight: skip any still waiting (only possible with >65,536 sends inside
    // one timeout); the payload tag tells apart requests 65,536 sends apart.
    let c: number;
    do {
      c = this.counter;
      this.counter = (c + 1) % 0x1000000000000; // 48 bits, exact in a double
    } while (this.inflight.has(c & 0xffff));
    const seq = c & 0xffff;
    const tag = Math.floor(c / 0x10000) >>> 0;
    const hdr = p.src === undefined ? 0 : p.family === 4 ? IP4_HEADER : IP6_HEADER;
    const { buf, sum } = this.template(p.family, p.size, hdr);
    // Byte stores, not writeUInt16BE/writeUInt32BE: see readTag().
    buf[hdr + 6] = seq >>> 8;
    buf[hdr + 7] = seq & 0xff;
    if (p.size >= 12) {
      buf[hdr + 8] = tag >>> 24;
      buf[hdr + 9] = (tag >>> 16) & 0xff;
      buf[hdr + 10] = (tag >>> 8) & 0xff;
      buf[hdr + 11] = tag & 0xff;
    }
    if (p.family === 4 || hdr) {
      let s = sum + seq + (p.size >= 12 ? (tag >>> 16) + (tag & 0xffff) : 0);
      if (hdr) {
        if (p.family === 4) writeIp4Header(buf, p.src!, p.dst!, p.df);
        else {
          writeIp6Header(buf, p.src!, p.dst!, p.size);
          s += pseudoHeaderSum6(p.src!, p.dst!, p.size);
        }
      }
      while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
      buf[hdr + 2] = (~s >>> 8) & 0xff;
      buf[hdr + 3] = ~s & 0xff;
    } // IPv6 without a header of ours: the kernel fills in the ICMPv6 checksum
    p.seq = seq;
    p.tag = p.size >= 12 ? tag : -1;
    this.inflight.set(seq, p);
    p.sentAt = nowMs();
    try {
      p.txAt = sock.send(buf, 0, hdr + p.size, p.sendTo);
    } catch (e) {
      this.inflight.delete(seq);
      p.seq = -1;
      const errno = errnoOf(e);
      if (errno === 'EAGAIN' || errno === 'ENOBUFS') {
        // Socket buffer full: put it back at the head and try again shortly. (A request that skipped the
        // queue finds it empty: qHead is 0 then.)
        if (this.qHead > 0) this.queue[--this.qHead] = p;
        else this.queue.unshift(p);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.pump();
          this.flush();
        }, 1);
        return;
      }
      if (errno === 'EMSGSIZE' && hdr && !p.df) {
        // Linux does not fragment header-included packets we send: IPv4 ones larger than the interface MTU and
        // IPv6 ones larger than the path MTU fail whatever DF says. Without DF that says nothing about the path.
        this.settle(p, {
          outcome: 'error',
          detail: `EMSGSIZE: a ${p.size}-byte echo from a source address is not fragmented locally; use df for MTU checks`,
        });
        return;
      }
      this.settle(p, classifySendError(errno));
      return;
    }
    p.deadline = p.sentAt + p.timeoutMs; // counted from the send, as the RTT is (sendto() did not fail)
    if (p.deadline < this.timerAt) this.armTimer(p.deadline);
  }

  // -- timeouts -----------------------------------------------------------------------------------------

  private armTimer(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(at - nowMs())));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    let now = nowMs();
    // libuv runs timers before it polls for I/O: after the process was starved of CPU (many agents on few
    // cores) a reply that arrived long ago may still sit in the socket. Read what is there before a
    // deadline counts, so a busy prober does not report loss that never happened.
    for (const p of this.inflight.values()) {
      if (p.deadline <= now) {
        this.drainAll();
        now = nowMs();
        break;
      }
    }
    let next = Infinity;
    // The window bounds the map, so a full scan is cheap.
    for (const p of this.inflight.values()) {
      if (p.deadline <= now) this.settle(p, { outcome: 'filtered', detail: 'timeout' }, false);
      else if (p.deadline < next) next = p.deadline;
    }
    if (next < Infinity && next < this.timerAt) this.armTimer(next);
    this.pump();
    this.maybeIdle();
    this.flush();
  };

  // -- receive --------------------------------------------------------------------------------------------

  private onReadable(sock: EngineSocket, slot: Slot, family: 4 | 6): void {
    // uv_poll is level-triggered: draining several packets per wake-up saves event-loop turns; the bound
    // keeps one busy socket from starving timers.
    this.drain(sock, slot, family, 64);
    this.pump();
    this.maybeIdle();
    this.flush();
  }

  /** Reads every socket until it is empty (bounded: a flood cannot keep us here). */
  private drainAll(): void {
    for (let slot = 0 as Slot; slot < SLOTS; slot++) {
      const sock = this.sockets[slot];
      if (sock) this.drain(sock, slot, familyOfSlot(slot), 4096);
    }
  }

  private drain(sock: EngineSocket, slot: Slot, family: 4 | 6, max: number): void {
    if (!sock.kernelStamps) this.loopLaggedAt = noteLoopLag();
    for (let i = 0; i < max; i++) {
      // Every send happened before this line, so sentAt <= readMono.
      this.readMono = nowMs();
      let source: string | undefined;
      try {
        source = sock.recv(this.recvBuf, this.rd);
      } catch {
        break; // a read error other than EAGAIN: the poll reports it
      }
      if (source === undefined) break; // drained
      this.onPacket(family, this.recvBuf, this.rd[0]!, source, sock.kernelStamps);
      // Never read again from a socket closed meanwhile: raw-socket's recv() would silently reopen it.
      if (this.sockets[slot] !== sock) break;
    }
  }

  private loopLaggedAt = -Infinity;

  /** The RTT of a reply just read for p, and whether it may hold event-loop delay. */
  private rttOf(p: Pending, kernel: boolean): PingResult {
    const rd = this.rd;
    const rx = rd[1]!;
    const loopRtt = this.readMono - p.sentAt; // monotonic: an upper bound of the true RTT
    if (kernel && rx === rx) {
      const rtt = rx - p.txAt;
      // The stamps are wall-clock time: a step (NTP, an operator) between send and receive shows as a figure
      // below zero or above the monotonic bound. Keep the bound then, flagged.
      if (rtt >= 0 && rtt <= loopRtt + 1) return { outcome: 'ok', rttMs: rtt, readDelayMs: Math.max(0, rd[2]! - rx) };
      return { outcome: 'ok', rttMs: loopRtt, lagged: true };
    }
    const rtt = kernel ? loopRtt : rd[2]! - p.txAt;
    return this.loopLaggedAt >= p.sentAt || kernel ? { outcome: 'ok', rttMs: rtt, lagged: true } : { outcome: 'ok', rttMs: rtt };
  }

  private onPacket(family: 4 | 6, buf: Buffer, bytes: number, source: string, kernel: boolean): void {
    const m = parseIcmp(family, buf, bytes, this.parsed);
    if (m.kind === 'none' || m.id !== this.id) return;
    const p = this.inflight.get(m.seq);
    if (!p || p.family !== family) return;
    if (m.tag !== -1 && p.tag !== -1 && m.tag !== p.tag) return; // a late reply to an older request
    if (m.kind === 'reply') {
      if (source !== p.target) return; // a reply must come from the target itself
      if (m.bytes !== p.size) {
        this.settle(p, { outcome: 'error', detail: `short-reply ${m.bytes} of ${p.size} bytes` });
        return;
      }
      const r = this.rttOf(p, kernel);
      r.bytes = m.bytes;
      this.settle(p, r);
      return;
    }
    if (m.origDst !== p.target) return; // errors come from anywhere on the path; match what they quote
    this.settle(p, classifyIcmpError(family, m, source));
  }

  // -- completion -----------------------------------------------------------------------------------------

  /** Hands r to cb after the current call returns; returns undefined so submit() can `return` it. */
  private deliverLater(cb: (r: PingResult) => void, r: PingResult): undefined {
    this.doneCbs.push(cb);
    this.doneResults.push(r);
    this.scheduleFlush();
    return undefined;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const cbs = this.doneCbs;
    const rs = this.doneResults;
    if (cbs.length === 0) return;
    this.doneCbs = [];
    this.doneResults = [];
    for (let i = 0; i < cbs.length; i++) cbs[i]!(rs[i]!);
  }

  private settle(p: Pending, r: PingResult, pump = true): void {
    if (p.done) return;
    p.done = true;
    if (p.seq >= 0 && this.inflight.get(p.seq) === p) this.inflight.delete(p.seq);
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    p.onAbort = undefined;
    p.signal = undefined;
    this.doneCbs.push(p.cb);
    this.doneResults.push(r);
    if (pump) {
      if (this.qHead < this.queue.length) this.pump();
      if (this.inflight.size === 0) this.maybeIdle();
    }
  }
}

/** For tests and diagnostics: engines currently holding sockets. */
export function liveEngineCount(): number {
  return liveEngines.size;
}

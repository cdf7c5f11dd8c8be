// Packet parsing and the mapping of ICMP errors and send errors to probe outcomes (pure; exported for unit tests).
import type { Outcome } from '../../contract/probe.js';
import { ipv6Text } from './address.js';

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

/** What a failed sendto() means for the probe. unfragmented: the bytes of an echo sent from a source without DF, else 0. */
export function classifySendError(errno: string, unfragmented = 0): { outcome: Outcome; detail: string } {
  if (errno === 'EMSGSIZE' && unfragmented > 0) {
    // Linux does not fragment header-included packets we send: IPv4 ones larger than the interface MTU and
    // IPv6 ones larger than the path MTU fail whatever DF says. Without DF that says nothing about the path.
    return {
      outcome: 'error',
      detail: `EMSGSIZE: a ${unfragmented}-byte echo from a source address is not fragmented locally; use df for MTU checks`,
    };
  }
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

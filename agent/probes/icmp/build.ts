// Building echo requests: packet templates, per-packet fields and checksum, and the IP headers of packets
// sent from a given source (pure but for the template cache; exported for unit tests).

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

/** What stampEcho() needs of a request. */
export interface EchoFields {
  family: 4 | 6;
  size: number;
  df: boolean;
  src: Buffer | undefined;
  dst: Buffer | undefined;
}

/** Echo packets by (family, size, room for an IP header), built once: per packet only seq, tag and checksum change. */
export class EchoTemplates {
  private readonly byKey = new Map<number, { buf: Buffer; sum: number }>(); // by family*1e6+size
  private lastKey = -1;
  private lastTemplate: { buf: Buffer; sum: number } | undefined;
  constructor(private readonly id: number) {}

  /** The packet for (family, size), with room for an IP header (`hdr` bytes) before the ICMP message. */
  get(family: 4 | 6, size: number, hdr: number): { buf: Buffer; sum: number } {
    const key = family * 1e6 + size + (hdr ? 5e5 : 0);
    if (key === this.lastKey) return this.lastTemplate!; // a sweep sends one kind of packet
    let t = this.byKey.get(key);
    if (!t) {
      if (this.byKey.size >= 32) this.byKey.clear(); // MTU sweeps use a handful of sizes
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
      this.byKey.set(key, t);
    }
    this.lastKey = key;
    this.lastTemplate = t;
    return t;
  }
}

/** Writes seq, tag, the IP header (with a source) and the checksum into a template's buffer. */
export function stampEcho(buf: Buffer, sum: number, hdr: number, seq: number, tag: number, p: EchoFields): void {
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
}

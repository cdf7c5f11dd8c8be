// IP address text and bytes without node:net, and which addresses are this host's (pure but for the cached
// os.networkInterfaces() read).
import { createRequire } from 'node:module';
import { nowMs } from './clock.js';

const require = createRequire(import.meta.url);

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
export function canonical6(addr: string): string {
  return ipv6Text(ipBytes(addr)!, 0);
}

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
  return c.v4.some((r) => (n & r.mask) >>> 0 === r.net);
}

/** Whether `addr` (canonical text) is an address of this host. */
export function isLocalAddress(addr: string, family: 4 | 6): boolean {
  if (localCache && isLocalIn(localCache, addr, family)) return true;
  if (localCache && nowMs() - localCache.at < 1000) return false;
  localCache = readLocal();
  return isLocalIn(localCache, addr, family);
}

// Which raw socket a request uses (slots), and opening and configuring a new one (filters, DF, header-inclusion, receive
// buffer).
import { IcmpUnavailableError } from './errors.js';
import { loadNative, NativeSocket, type EngineSocket } from './native.js';
import { errnoOf } from './parse.js';
import { RawSocketAdapter } from './raw.js';

// No source: (family 6 ? 2 : 0) + (df ? 1 : 0). With a source: 4 (IPv4) or 5 (IPv6), header-included: one
// socket per family whatever the sources and DF (both are in the header we write), so at most six sockets.
export type Slot = 0 | 1 | 2 | 3 | 4 | 5;
export const slotOf = (family: 4 | 6, df: boolean, sourced: boolean): Slot =>
  (sourced ? (family === 6 ? 5 : 4) : (family === 6 ? 2 : 0) + (df ? 1 : 0)) as Slot;
export const SLOTS = 6;
export const familyOfSlot = (slot: Slot): 4 | 6 => (slot === 2 || slot === 3 || slot === 5 ? 6 : 4);

/**
 * Whether we run on the main thread. Node marks the process-wide methods a worker may not call
 * (process.chdir, process.abort) with `disabled: true`; reading that costs nothing, while loading
 * node:worker_threads for its isMainThread costs ~5 ms of start-up (measured). test/integration/probes/
 * icmp-loopback.test.ts checks both sides (a worker gets not-measured; the main thread pings).
 */
export function isMainThread(): boolean {
  return (process.chdir as { disabled?: boolean }).disabled !== true;
}

const SOL_RAW = 255;
const ICMP_FILTER = 1;
const IPPROTO_ICMPV6 = 58;
const ICMP6_FILTER = 1;

/** A new raw socket of the family: the addon's, else raw-socket's. Throws IcmpUnavailableError. */
export function openSocket(family: 4 | 6): EngineSocket {
  try {
    const n = loadNative();
    return n ? new NativeSocket(n, family) : new RawSocketAdapter(family);
  } catch (e) {
    const errno = errnoOf(e);
    if (errno === 'EPERM' || errno === 'EACCES') {
      throw new IcmpUnavailableError('PINGER_ERR_ICMP_NO_CAP_NET_RAW', 'raw ICMP sockets need CAP_NET_RAW');
    }
    throw new IcmpUnavailableError('PINGER_ERR_ICMP_SOCKET', `cannot open a raw ICMP socket: ${errno}`);
  }
}

/** Sets a new socket up for its slot; closes it and throws IcmpUnavailableError('PINGER_ERR_ICMP_SOCKET') if that fails. */
export function configureSocket(sock: EngineSocket, slot: Slot): void {
  const family = familyOfSlot(slot);
  const df = slot === 1 || slot === 3;
  const hdrincl = slot >= 4;
  try {
    if (family === 4) {
      // Let only echo reply, dest-unreachable, time-exceeded and parameter-problem through: on loopback a
      // raw socket would otherwise also read every echo *request* (twice the work).
      const pass = (1 << 0) | (1 << 3) | (1 << 11) | (1 << 12);
      sock.setOption(SOL_RAW, ICMP_FILTER, ~pass >>> 0);
      if (hdrincl)
        sock.setOption(0 /* IPPROTO_IP */, 3 /* IP_HDRINCL */, 1); // DF is then our header's bit
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
}

// Which local interface holds each binding address, its MTU (network-get does not say; /sys does) and its
// link state. Cheap enough to run before every round: one getifaddrs() and two or three small /sys reads
// per interface, so a changed MTU, a removed address or a downed link is seen within one round.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { InterfaceInfo } from './contract/wire.js';

export function readMtu(iface: string): number | null {
  try {
    const v = Number.parseInt(readFileSync(`/sys/class/net/${iface}/mtu`, 'utf8'), 10);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** Normalises an address for comparison (IPv6 zero-compression differs between writers). */
export function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  if (!a.includes(':') || !b.includes(':')) return false;
  return expand6(a) === expand6(b);
}

function expand6(a: string): string {
  const [head, tail] = a.toLowerCase().split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((x) => x.padStart(4, '0')).join(':');
}

/** Linux answers for all of 127.0.0.0/8 on lo although lo holds only 127.0.0.1/8: count those as lo's. */
function onLoopback(address: string, ifs: ReturnType<typeof networkInterfaces>): string | null {
  if (!address.startsWith('127.')) return null;
  for (const [name, addrs] of Object.entries(ifs)) if (addrs?.some((x) => x.internal && x.family === 'IPv4')) return name;
  return null;
}

/** up: administratively up (IFF_UP) and the link is not down (operstate up, or unknown as on lo); else down. */
export function readLink(iface: string): 'up' | 'down' | undefined {
  try {
    const flags = Number.parseInt(readFileSync(`/sys/class/net/${iface}/flags`, 'utf8'), 16);
    const oper = readFileSync(`/sys/class/net/${iface}/operstate`, 'utf8').trim();
    return flags & 1 && (oper === 'up' || oper === 'unknown') ? 'up' : 'down';
  } catch {
    return undefined; // not Linux, or the interface went away meanwhile
  }
}

/**
 * `lastHeld` (address -> interface) is the caller's memory of where each address was: an address gone with
 * its link (IPv6 on an admin-down interface) is reported with that interface's link state.
 */
export function findInterfaces(addresses: Record<string, string[]>, lastHeld?: Map<string, string>): InterfaceInfo[] {
  const ifs = networkInterfaces();
  const out: InterfaceInfo[] = [];
  for (const [binding, list] of Object.entries(addresses)) {
    for (const address of list) {
      let iface: string | null = null;
      for (const [name, addrs] of Object.entries(ifs)) {
        if (addrs?.some((x) => sameAddress(x.address, address))) {
          iface = name;
          break;
        }
      }
      iface ??= onLoopback(address, ifs);
      if (iface) lastHeld?.set(address, iface);
      const linkOf = iface ?? lastHeld?.get(address);
      const link = linkOf ? readLink(linkOf) : undefined;
      out.push({ binding, address, iface, mtu: iface ? readMtu(iface) : null, ...(link ? { link } : {}) });
    }
  }
  return out;
}

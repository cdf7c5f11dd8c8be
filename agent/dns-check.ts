// Forward and reverse DNS of this node's binding addresses and of its hostname must agree: RabbitMQ
// clustering resolves peers by name, and MAAS names every interface. Asks the DNS servers (the system's,
// or --dns-server), not /etc/hosts, because peers see what DNS says. A failed lookup is a result, not an error.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DnsCheck } from './contract/wire.js';

export interface DnsCheckInput {
  /** binding -> this node's addresses on it */
  addresses: Record<string, string[]>;
  hostname: string;
  /** HOST:PORT or [IPv6]:PORT of the resolver to ask instead of the system's. */
  server?: string;
  timeoutMs?: number;
}

/** Same name whatever the case or trailing dot; a short name matches its FQDN (node-1 ~ node-1.maas). */
export function sameName(a: string, b: string): boolean {
  const x = a.toLowerCase().replace(/\.$/, '');
  const y = b.toLowerCase().replace(/\.$/, '');
  return x === y || x.startsWith(`${y}.`) || y.startsWith(`${x}.`);
}

const errText = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

async function forward(r: Resolver, name: string): Promise<{ addresses: string[]; error?: string }> {
  const [v4, v6] = await Promise.allSettled([r.resolve4(name), r.resolve6(name)]);
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (addresses.length) return { addresses };
  const e = v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : undefined;
  return { addresses, error: e ? errText(e) : 'no address' };
}

async function reverse(r: Resolver, addr: string): Promise<{ names: string[]; error?: string }> {
  try {
    return { names: await r.reverse(addr) };
  } catch (err) {
    return { names: [], error: errText(err) };
  }
}

const norm = (a: string) => (isIP(a) === 6 ? a.toLowerCase().replace(/(^|:)0+([0-9a-f])/g, '$1$2') : a);

export async function checkDns(input: DnsCheckInput): Promise<DnsCheck[]> {
  const r = new Resolver({ timeout: input.timeoutMs ?? 2000, tries: 2 });
  if (input.server) r.setServers([input.server]);
  const out: DnsCheck[] = [];
  for (const [binding, addrs] of Object.entries(input.addresses)) {
    for (const address of addrs) {
      const rev = await reverse(r, address);
      if (rev.error) {
        out.push({ kind: 'address', binding, query: address, names: [], addresses: [], ok: false, detail: `no reverse (PTR) record (${rev.error})` });
        continue;
      }
      const back: string[] = [];
      let ok = rev.names.length > 0;
      for (const name of rev.names.slice(0, 32)) {
        const f = await forward(r, name);
        back.push(...f.addresses);
        if (!f.addresses.map(norm).includes(norm(address))) ok = false;
      }
      out.push({ kind: 'address', binding, query: address, names: rev.names.slice(0, 32), addresses: [...new Set(back)].slice(0, 64), ok });
    }
  }
  const f = await forward(r, input.hostname);
  if (f.error) {
    out.push({ kind: 'hostname', query: input.hostname, names: [], addresses: [], ok: false, detail: `does not resolve (${f.error})` });
  } else {
    const names: string[] = [];
    let ok = true;
    for (const a of f.addresses.slice(0, 64)) {
      const rev = await reverse(r, a);
      names.push(...rev.names);
      if (!rev.names.some((n) => sameName(n, input.hostname))) ok = false;
    }
    out.push({ kind: 'hostname', query: input.hostname, names: [...new Set(names)].slice(0, 32), addresses: f.addresses.slice(0, 64), ok });
  }
  return out;
}

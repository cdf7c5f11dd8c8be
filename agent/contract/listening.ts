// A hello's listening responders, grouped by address (pure). An openstack plan opens ~20 ports on each of a
// node's ~6 binding addresses: ~120 responder objects of ~60 bytes, parsed on every hello (2,000 as 1,000 agents
// start). Grouped, they are ~6 objects with two port lists; `responders` keeps only the ones that could not listen.
import { isIP } from 'node:net';
import { z } from 'zod';
import { checkedArray } from './wire-bounds.js';
import { isPlain, limits } from './wire-limits.js';

/** One address's listening ports. */
export interface ListeningGroup {
  binding: string;
  address: string;
  tcp: number[];
  udp: number[];
}

const portList = z.array(z.number().int().min(1).max(65535)).max(limits.responders);
const group = z.strictObject({
  binding: z.string().min(1).max(253),
  address: z
    .string()
    .max(45, { abort: true })
    .refine((s) => isIP(s) !== 0, 'not an IP address'),
  tcp: portList,
  udp: portList,
});
const groupKeys = new Set(Object.keys(group.shape));

const portsOk = (v: unknown) => {
  if (!Array.isArray(v) || v.length > limits.responders) return false;
  for (const p of v) if (!Number.isSafeInteger(p) || p < 1 || p > 65535) return false;
  return true;
};

/** `group` in a plain loop (never wider): zod parses the list only to word a refusal. */
export function listeningOk(x: unknown): boolean {
  if (!isPlain(x)) return false;
  for (const k in x) if (!groupKeys.has(k)) return false;
  const { binding, address } = x;
  return (
    typeof binding === 'string' &&
    binding.length >= 1 &&
    binding.length <= 253 &&
    typeof address === 'string' &&
    address.length <= 45 &&
    isIP(address) !== 0 &&
    portsOk(x.tcp) &&
    portsOk(x.udp)
  );
}

/** At most one group per binding address (the hello's interfaces have the same bound). */
export const listeningGroups = checkedArray(group, limits.interfaces, listeningOk);

interface Responder {
  binding: string;
  address: string;
  proto: 'tcp' | 'udp';
  port: number;
  state: string;
}

/** The hello's two fields: listening responders grouped (in first-seen order, ports as listed), the rest as they are. */
export function splitResponders<R extends Responder>(all: readonly R[]): { responders: R[]; listening?: ListeningGroup[] } {
  const responders: R[] = [];
  const groups = new Map<string, ListeningGroup>();
  for (const r of all) {
    if (r.state !== 'listening') {
      responders.push(r);
      continue;
    }
    const key = `${r.binding}\u0000${r.address}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { binding: r.binding, address: r.address, tcp: [], udp: [] }));
    g[r.proto].push(r.port);
  }
  return groups.size ? { responders, listening: [...groups.values()] } : { responders };
}

/** How many responders a hello says listen, in either form (an older agent lists them all in `responders`). */
export function listeningCount(hello: { responders: readonly { state: string }[]; listening?: readonly ListeningGroup[] }): number {
  let n = 0;
  for (const g of hello.listening ?? []) n += g.tcp.length + g.udp.length;
  for (const r of hello.responders) if (r.state === 'listening') n++;
  return n;
}

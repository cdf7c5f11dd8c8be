// A hello's listening responders, grouped by address (pure). An openstack plan opens ~20 ports on each of a
// node's ~6 binding addresses: ~120 responder objects of ~60 bytes, parsed on every hello (2,000 as 1,000 agents
// start). Grouped, they are ~6 objects with two port lists; `responders` keeps only the ones that could not listen.
import { z } from 'zod';
import { checkedArray } from './wire-bounds.js';
import { ip, ipOk, name, nameOk, port, portOk } from './wire-fields.js';
import { isPlain, limits } from './wire-limits.js';

/** One address's listening ports. */
export interface ListeningGroup {
  binding: string;
  address: string;
  tcp: number[];
  udp: number[];
}

const portList = z.array(port).max(limits.responders);
const group = z.strictObject({ binding: name, address: ip, tcp: portList, udp: portList });
const groupKeys = new Set(Object.keys(group.shape));

const portsOk = (v: unknown) => Array.isArray(v) && v.length <= limits.responders && v.every(portOk);

/** `group` in a plain loop (never wider): zod parses the list only to word a refusal. */
export function listeningOk(x: unknown): boolean {
  if (!isPlain(x)) return false;
  for (const k in x) if (!groupKeys.has(k)) return false;
  return nameOk(x.binding) && ipOk(x.address) && portsOk(x.tcp) && portsOk(x.udp);
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

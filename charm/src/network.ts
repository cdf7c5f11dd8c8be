// What network-get says about one binding, parsed from either form: the JSON of Juju >= 2.9 or the YAML
// with legacy keys (macaddress, interfacename, address) of older Juju. Pure.
import { createRequire } from 'node:module';
import { isIP } from 'node:net';

export interface BindAddress {
  address: string;
  iface: string | null;
  cidr?: string;
}

export interface BindingNetwork {
  binding: string;
  /** Every address on every NIC in the bound space (several NICs, several addresses, IPv4 and IPv6). */
  addresses: BindAddress[];
  ingress: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function jsonOrUndefined(text: string): unknown {
  const t = text.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}

export function parseNetworkGet(binding: string, text: string): BindingNetwork {
  let doc: unknown;
  try {
    // JSON (Juju >= 2.9) without loading the YAML parser; YAML is a superset of JSON, so it reads either form.
    doc = jsonOrUndefined(text) ?? (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
  } catch (err) {
    throw new Error(`network-get ${binding}: output is neither JSON nor YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const out: BindingNetwork = { binding, addresses: [], ingress: [] };
  if (!isObj(doc)) return out;
  const seen = new Set<string>();
  for (const nic of Array.isArray(doc['bind-addresses']) ? doc['bind-addresses'] : []) {
    if (!isObj(nic)) continue;
    const iface = str(nic['interface-name']) ?? str(nic.interfacename) ?? null;
    for (const a of Array.isArray(nic.addresses) ? nic.addresses : []) {
      if (!isObj(a)) continue;
      const ip = str(a.value) ?? str(a.address);
      // IPv6 link-local needs a scope to be probed and is not what a space is about: leave it out.
      if (!ip || isIP(ip) === 0 || /^fe80:/i.test(ip) || seen.has(ip)) continue;
      seen.add(ip);
      const cidr = str(a.cidr);
      out.addresses.push({ address: ip, iface, ...(cidr ? { cidr } : {}) });
    }
  }
  for (const ip of Array.isArray(doc['ingress-addresses']) ? doc['ingress-addresses'] : []) {
    if (typeof ip === 'string' && isIP(ip) !== 0) out.ingress.push(ip);
  }
  return out;
}

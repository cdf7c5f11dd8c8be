// What the charm's own metadata.yaml says: the endpoints a binding can name, and which are probed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface CharmMeta {
  name: string;
  peers: string;
  /** extra-bindings: the networks probed unless config `bindings` narrows them. */
  networks: string[];
  /** Every endpoint network-get accepts. */
  endpoints: string[];
}

export function readMeta(charmDir: string): CharmMeta {
  const m = parse(readFileSync(join(charmDir, 'metadata.yaml'), 'utf8')) as Record<string, Record<string, unknown> | undefined> & { name: string };
  const keys = (k: string) => Object.keys(m[k] ?? {});
  const peers = keys('peers')[0] ?? 'peers';
  const networks = keys('extra-bindings');
  return { name: m.name, peers, networks, endpoints: [...keys('peers'), ...keys('provides'), ...keys('requires'), ...networks, 'juju-info'] };
}

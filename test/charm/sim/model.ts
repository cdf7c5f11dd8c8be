// The simulator's model of a deployment: spaces, bindings, machines with their devices, units, relations
// with their databags, config, statuses. One JSON file, read and written by the hook tools (hooks run one
// at a time in the simulator, so no locking) and by the harness (sim.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';

export interface SimAddress {
  value: string;
  cidr: string;
}
export interface SimDevice {
  name: string;
  mac: string;
  addresses: SimAddress[];
}
export interface SimMachine {
  id: string;
  hostname: string;
  /** The machine's devices; absent: read the real ones with `ip -j addr` (in `netns` if set: the lab). */
  devices?: SimDevice[];
  netns?: string;
}
export interface Status {
  state: string;
  message: string;
}
export interface SimUnit {
  machine: string;
  leader: boolean;
  life: 'alive' | 'dying';
  status: Status;
  /** Every status-set, in order ("state: message"). */
  history: string[];
  version?: string;
  openPorts: string[];
  state: Record<string, string>;
  /** PINGER_CHARM_ROOT of the unit: its /etc, /var, /run live here. */
  root: string;
}
export interface SimRelation {
  id: number;
  endpoint: string;
  /** For a relation to another application (metrics): its name and units. */
  remoteApp?: string;
  remoteUnits?: string[];
  /** unit -> the remote units it has seen join (relation-list). */
  seen: Record<string, string[]>;
  unitData: Record<string, Record<string, string>>;
  appData: Record<string, Record<string, string>>;
}
/** A Juju secret (3.1+): owned by the application (its leader manages it, its units read it) or by one unit. */
export interface SimSecret {
  id: string;
  /** "application" or the owning unit's name. */
  owner: string;
  label?: string;
  description?: string;
  /** Content per revision (1-based: revisions[0] is revision 1); values as given (Juju base64s them in storage). */
  revisions: Record<string, string>[];
  /** Units granted access (besides the owner), and the revision each consumer tracks. */
  grants: string[];
  tracked: Record<string, number>;
}

export interface SimModel {
  model: { name: string; uuid: string; jujuVersion: string };
  /** "json": Juju >= 2.9; "legacy-yaml": Juju < 2.9, legacy keys only and no --format=json. */
  networkGetFormat: 'json' | 'legacy-yaml';
  app: string;
  charmDir: string;
  endpoints: string[];
  peerEndpoint: string;
  /** Space name -> its subnets (CIDRs). */
  spaces: Record<string, string[]>;
  /** Endpoint -> space; "" is the default space. */
  bindings: Record<string, string>;
  machines: Record<string, SimMachine>;
  units: Record<string, SimUnit>;
  /** The units Juju means to have (goal-state): `juju deploy -n 4` names all four at once. */
  goal: string[];
  config: Record<string, string | number | boolean>;
  configDefaults: Record<string, string | number | boolean>;
  actionDefaults: Record<string, Record<string, unknown>>;
  relations: SimRelation[];
  appStatus: Status;
  appHistory: string[];
  /** Juju secrets by ID (secret:<20 chars>). */
  secrets?: Record<string, SimSecret>;
  log: string[];
}

export function loadModel(file: string): SimModel {
  return JSON.parse(readFileSync(file, 'utf8')) as SimModel;
}

export function saveModel(file: string, m: SimModel): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(m, null, 1));
  renameSync(`${file}.tmp`, file);
}

/** Is `ip` inside `cidr` (IPv4 or IPv6)? */
export function inCidr(ip: string, cidr: string): boolean {
  const [net, lenS] = cidr.split('/') as [string, string];
  const v6 = net.includes(':');
  if (v6 !== ip.includes(':')) return false;
  const bits = v6 ? 128 : 32;
  const len = Number(lenS ?? bits);
  const a = toBig(ip);
  const b = toBig(net);
  const shift = BigInt(bits - len);
  return a >> shift === b >> shift;
}

function toBig(ip: string): bigint {
  if (!ip.includes(':')) return ip.split('.').reduce((acc, o) => (acc << 8n) + BigInt(Number(o)), 0n);
  const [h, t] = ip.split('::') as [string, string | undefined];
  const head = h ? h.split(':') : [];
  const tail = t ? t.split(':') : [];
  const groups = t === undefined ? head : [...head, ...new Array(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(Number.parseInt(g || '0', 16)), 0n);
}

/** The devices of a network namespace (or this process's), as network-get would see them. */
export function realDevices(netns?: string): SimDevice[] {
  const links = JSON.parse(execFileSync('ip', [...(netns ? ['-n', netns] : []), '-j', 'addr', 'show'], { encoding: 'utf8' })) as {
    ifname: string;
    address?: string;
    addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
  }[];
  return links.map((l) => ({
    name: l.ifname,
    mac: l.address ?? '',
    addresses: (l.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => ({ value: a.local, cidr: networkOf(a.local, a.prefixlen) })),
  }));
}

function networkOf(ip: string, len: number): string {
  const v6 = ip.includes(':');
  const bits = v6 ? 128 : 32;
  const n = (toBig(ip) >> BigInt(bits - len)) << BigInt(bits - len);
  if (!v6) return `${[24n, 16n, 8n, 0n].map((s) => (n >> s) & 255n).join('.')}/${len}`;
  const g = Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return `${g.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}/${len}`;
}

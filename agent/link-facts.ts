// Link facts of the interface behind each binding and of the physical interfaces under it: speed, duplex,
// carrier, MTU, bond mode, each member's MII status and LACP actor/partner, from /sys/class/net and
// /proc/net/bonding. The parsers are pure functions of the files' text (tested on fixture trees in the
// formats real hosts write: test/fixtures/sysfs/README.md); readLinkFact is the thin reader over a root dir.
// A value the kernel will not give (veth's speed read fails with EINVAL, a down link says -1) is unknown
// (null), never an error: virtual interfaces have no speed.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BondInfo, LacpPeer, LinkFact, LinkPort } from './contract/link-wire.js';

// --- pure parsers -------------------------------------------------------------------------------------

/** /sys/class/net/X/speed: Mb/s; -1 (link down), a read error or garbage is unknown. */
export function parseSpeed(text: string | undefined): number | null {
  const v = text === undefined ? NaN : Number(text.trim());
  return Number.isInteger(v) && v > 0 && v <= 10_000_000 ? v : null;
}

/** /sys/class/net/X/duplex: "full", "half"; "unknown" or a read error is unknown. */
export function parseDuplex(text: string | undefined): 'full' | 'half' | null {
  const v = text?.trim().toLowerCase();
  return v === 'full' || v === 'half' ? v : null;
}

/** /sys/class/net/X/carrier: "1" or "0"; reading it on an interface that is admin-down fails (EINVAL). */
export function parseCarrier(text: string | undefined): boolean | null {
  const v = text?.trim();
  return v === '1' ? true : v === '0' ? false : null;
}

export function parseMtu(text: string | undefined): number | null {
  const v = text === undefined ? NaN : Number(text.trim());
  return Number.isInteger(v) && v >= 68 && v <= 1 << 20 ? v : null;
}

export function parseOperstate(text: string | undefined): string | null {
  const v = text?.trim().toLowerCase();
  return v && /^[a-z]{1,16}$/.test(v) ? v : null;
}

/** /sys/class/net/BOND/bonding/mode: "802.3ad 4" -> "802.3ad". */
export function parseBondMode(text: string | undefined): string | null {
  const v = text?.trim().split(/\s+/)[0];
  return v && /^[a-z0-9.-]{1,32}$/.test(v) ? v : null;
}

/** The mode names /proc/net/bonding writes ("Bonding Mode: ...") -> the sysfs names. */
const procModes: [RegExp, string][] = [
  [/802\.3ad/i, '802.3ad'],
  [/active-backup/i, 'active-backup'],
  [/round-robin/i, 'balance-rr'],
  [/\(xor\)/i, 'balance-xor'],
  [/broadcast/i, 'broadcast'],
  [/transmit load balancing/i, 'balance-tlb'],
  [/adaptive load balancing/i, 'balance-alb'],
];

export interface ProcBondMember {
  iface: string;
  mii: string | null;
  speedMbps: number | null;
  duplex: 'full' | 'half' | null;
  linkFailures?: number;
  aggregatorId?: number;
  actor?: LacpPeer;
  partner?: LacpPeer;
}

export interface ProcBond {
  mode: string | null;
  mii: string | null;
  active?: { aggregatorId?: number; ports?: number; actorKey?: number; partnerKey?: number; partnerMac?: string };
  members: ProcBondMember[];
}

const MAX_MEMBERS = 16;
const macRe = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * /proc/net/bonding/BOND (drivers/net/bonding/bond_procfs.c): a header (mode, MII status, for 802.3ad the
 * active aggregator and its partner), then one block per member from "Slave Interface:" (newer kernels
 * may also print "Port Interface:"), with "details actor/partner lacp pdu:" sub-blocks in 802.3ad mode.
 */
// size: one line-by-line reader of /proc/net/bonding's format; its states read best together
export function parseProcBonding(text: string): ProcBond {
  const out: ProcBond = { mode: null, mii: null, members: [] };
  let member: ProcBondMember | undefined;
  let section: 'head' | 'active' | 'actor' | 'partner' | 'member' = 'head';
  let lacp: Partial<LacpPeer> = {};
  // Ids and keys are 16-bit in LACP; anything else is not what the kernel writes: dropped, not clamped.
  const int = (v: string, max = 65535) => {
    const n = /^[0-9]{1,10}$/.test(v) ? Number(v) : NaN;
    return Number.isInteger(n) && n <= max ? n : undefined;
  };
  const closeLacp = () => {
    if ((section === 'actor' || section === 'partner') && member && lacp.systemMac !== undefined && lacp.key !== undefined && lacp.portState !== undefined) {
      if (lacp.portState <= 255) member[section] = { systemMac: lacp.systemMac, key: lacp.key, portState: lacp.portState };
    }
    lacp = {};
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const c = line.indexOf(':');
    const key = (c < 0 ? line : line.slice(0, c)).trim().toLowerCase();
    const val = c < 0 ? '' : line.slice(c + 1).trim();
    if (key === 'slave interface' || key === 'port interface') {
      closeLacp();
      if (member?.iface === val) continue; // both headers for one member
      if (out.members.length >= MAX_MEMBERS) break;
      member = { iface: val.slice(0, 15), mii: null, speedMbps: null, duplex: null };
      out.members.push(member);
      section = 'member';
      continue;
    }
    if (key === 'details actor lacp pdu' || key === 'details partner lacp pdu') {
      closeLacp();
      section = key.includes('actor') ? 'actor' : 'partner';
      continue;
    }
    if (key === 'active aggregator info') {
      section = 'active';
      out.active = {};
      continue;
    }
    if (section === 'actor' || section === 'partner') {
      if (key === 'system mac address' && macRe.test(val.toLowerCase())) lacp.systemMac = val.toLowerCase();
      else if (key === 'port key' || key === 'oper key') lacp.key = int(val);
      else if (key === 'port state') lacp.portState = int(val);
      else if (!/^(system priority|port priority|port number)$/.test(key)) {
        // A member field after the pdu block (older kernels order them differently): back to the member.
        closeLacp();
        section = 'member';
      }
      if (section !== 'member') continue;
    }
    if (section === 'head' || section === 'active') {
      if (key === 'bonding mode') out.mode = procModes.find(([re]) => re.test(val))?.[1] ?? null;
      else if (key === 'mii status' && section === 'head') out.mii = val.toLowerCase();
      else if (section === 'active' && out.active) {
        if (key === 'aggregator id') out.active.aggregatorId = int(val);
        else if (key === 'number of ports') out.active.ports = int(val);
        else if (key === 'actor key') out.active.actorKey = int(val);
        else if (key === 'partner key') out.active.partnerKey = int(val);
        else if (key === 'partner mac address' && macRe.test(val.toLowerCase())) out.active.partnerMac = val.toLowerCase();
      }
      continue;
    }
    if (section === 'member' && member) {
      if (key === 'mii status') member.mii = val.toLowerCase().slice(0, 16);
      else if (key === 'speed') member.speedMbps = parseSpeed(val.replace(/\s*mbps$/i, ''));
      else if (key === 'duplex') member.duplex = parseDuplex(val);
      else if (key === 'link failure count') member.linkFailures = int(val, 2 ** 32);
      else if (key === 'aggregator id') member.aggregatorId = int(val);
    }
  }
  closeLacp();
  for (const m of out.members) for (const k of ['aggregatorId', 'linkFailures'] as const) if (m[k] === undefined) delete m[k];
  if (out.active) for (const k of Object.keys(out.active) as (keyof NonNullable<ProcBond['active']>)[]) if (out.active[k] === undefined) delete out.active[k];
  return out;
}

/** "DEVTYPE=vlan" in /sys/class/net/X/uevent. */
export function parseDevtype(uevent: string | undefined): string | null {
  const m = /^DEVTYPE=(\S+)$/m.exec(uevent ?? '');
  return m ? m[1]! : null;
}

// --- the reader -----------------------------------------------------------------------------------------

export interface ReadOptions {
  /** Where /sys and /proc are: "/" on a host, a fixture tree in tests. */
  root?: string;
}

const MAX_DEPTH = 4;

class Tree {
  constructor(private readonly root: string) {}
  read(...p: string[]): string | undefined {
    try {
      return readFileSync(join(this.root, ...p), 'utf8');
    } catch {
      return undefined; // EINVAL (no speed on veth), ENOENT (not a bond): unknown, not a failure
    }
  }
  has(...p: string[]): boolean {
    try {
      lstatSync(join(this.root, ...p));
      return true;
    } catch {
      return false;
    }
  }
  list(...p: string[]): string[] {
    try {
      return readdirSync(join(this.root, ...p));
    } catch {
      return [];
    }
  }
  net(iface: string, file?: string): string | undefined {
    return this.read('sys/class/net', iface, ...(file ? [file] : []));
  }
}

function kindOf(t: Tree, iface: string): LinkFact['kind'] {
  if (t.has('sys/class/net', iface, 'bonding')) return 'bond';
  if (t.has('sys/class/net', iface, 'bridge')) return 'bridge';
  const dev = parseDevtype(t.net(iface, 'uevent'));
  if (dev === 'vlan') return 'vlan';
  if (dev === 'bond') return 'bond';
  if (dev === 'bridge') return 'bridge';
  if (iface === 'lo') return 'loopback';
  return t.has('sys/class/net', iface, 'device') ? 'physical' : 'virtual';
}

/** lower_* entries: the interfaces this one sits on (a bond's members, a VLAN's parent). */
function lowers(t: Tree, iface: string): string[] {
  return t
    .list('sys/class/net', iface)
    .filter((e) => e.startsWith('lower_'))
    .map((e) => e.slice('lower_'.length))
    .filter((n) => /^[^\s/]{1,15}$/.test(n))
    .sort();
}

function basics(t: Tree, iface: string) {
  return {
    speedMbps: parseSpeed(t.net(iface, 'speed')),
    duplex: parseDuplex(t.net(iface, 'duplex')),
    carrier: parseCarrier(t.net(iface, 'carrier')),
    mtu: parseMtu(t.net(iface, 'mtu')),
    operstate: parseOperstate(t.net(iface, 'operstate')),
  };
}

/** The physical leaves under iface, with the bond member details of the nearest bond above each. */
function portsUnder(t: Tree, iface: string, depth: number, bond: ProcBond | undefined, out: LinkPort[]): void {
  const below = lowers(t, iface);
  if (below.length === 0 || depth >= MAX_DEPTH) {
    if (out.length >= MAX_MEMBERS || out.some((p) => p.iface === iface)) return;
    const port: LinkPort = { iface, ...basics(t, iface) };
    const m = bond?.members.find((x) => x.iface === iface);
    if (m) {
      if (m.mii) port.mii = m.mii;
      // A bond member's sysfs speed is its own; /proc says the same, and knows it when sysfs cannot.
      if (port.speedMbps === null && m.speedMbps !== null) port.speedMbps = m.speedMbps;
      if (port.duplex === null && m.duplex !== null) port.duplex = m.duplex;
      if (m.aggregatorId !== undefined) port.aggregatorId = m.aggregatorId;
      if (m.linkFailures !== undefined) port.linkFailures = m.linkFailures;
      if (m.actor) port.actor = m.actor;
      if (m.partner) port.partner = m.partner;
    }
    out.push(port);
    return;
  }
  const here = kindOf(t, iface) === 'bond' ? procBond(t, iface) : bond;
  for (const l of below) portsUnder(t, l, depth + 1, here, out);
}

function procBond(t: Tree, iface: string): ProcBond | undefined {
  const text = t.read('proc/net/bonding', iface);
  return text === undefined ? undefined : parseProcBonding(text);
}

/** Bond facts: the mode from sysfs (or /proc), the active aggregator from /proc/net/bonding. */
function bondOf(t: Tree, iface: string): BondInfo | undefined {
  const p = procBond(t, iface);
  const mode = parseBondMode(t.net(iface, 'bonding/mode')) ?? p?.mode;
  if (!mode) return undefined;
  return { mode, mii: p?.mii ?? null, ...(p?.active ?? {}) };
}

/**
 * What the binding's interface is and the physical ports under it. A bond under a VLAN (bond0.100 on
 * bond0) reports the bond's facts: that is where the members are.
 */
export function readLinkFact(binding: string, iface: string, opts: ReadOptions = {}): LinkFact {
  const t = new Tree(opts.root ?? '/');
  const kind = kindOf(t, iface);
  const fact: LinkFact = { binding, iface, kind, ...basics(t, iface), ports: [] };
  let bondIface: string | undefined = kind === 'bond' ? iface : undefined;
  if (kind === 'vlan') bondIface = lowers(t, iface).find((l) => kindOf(t, l) === 'bond');
  if (bondIface) {
    const b = bondOf(t, bondIface);
    if (b) fact.bond = b;
  }
  if (kind !== 'loopback') portsUnder(t, iface, 0, undefined, fact.ports);
  return fact;
}

/** Link facts for every (binding, interface) the agent found, each interface read once per binding. */
export function readLinkFacts(interfaces: readonly { binding: string; iface: string | null }[], opts: ReadOptions = {}): LinkFact[] {
  const seen = new Set<string>();
  const out: LinkFact[] = [];
  for (const i of interfaces) {
    if (!i.iface || seen.has(`${i.binding}\u0000${i.iface}`)) continue;
    seen.add(`${i.binding}\u0000${i.iface}`);
    out.push(readLinkFact(i.binding, i.iface, opts));
  }
  return out.slice(0, 64);
}

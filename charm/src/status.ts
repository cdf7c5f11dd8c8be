// What `juju status` says, by Juju's conventions: maintenance while the charm installs or upgrades, waiting
// while peers or the first round are pending, active with a short summary, and blocked only on the unit an
// operator must fix (its own address or interface is at fault, or it reaches nobody), naming the cause.
// Every other unit of a degraded deployment stays active and points at the report. The leader's application
// status carries the verdict. Messages stay under 120 characters (juju status cuts longer ones). Pure.
import type { Finding } from '../../aggregator/findings.js';
import type { Report } from '../../aggregator/report.js';
import type { StatusState } from './hook-tools.js';

export interface Status {
  state: StatusState;
  message: string;
}

export interface UnitView {
  unit: string;
  /** Bindings this unit probes (with an address here). */
  bindings: number;
  /** Bindings with no address on this machine: the unit cannot take part on them. */
  missing: string[];
  peersJoined: number;
  /** From goal-state: the other units Juju means to have. */
  peersExpected: number;
  aggregatorUrl?: string;
  /** Who to ask for the report (the leader unit, e.g. pinger/0). */
  leader?: string;
  /** The aggregator's report, or why it could not be had. */
  report?: Report | { error: string };
}

export const MAX_STATUS = 119;
const short = (s: string, max = MAX_STATUS) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** "internal" or "internal IPv6" when a finding concerns one address family (findings' optional `family`). */
function where(f: Finding): string {
  const fam = (f as Finding & { family?: 'ipv4' | 'ipv6' }).family;
  const b = f.binding ?? '';
  return fam ? `${b}${b ? ' ' : ''}${fam === 'ipv6' ? 'IPv6' : 'IPv4'}` : b;
}

/** Kinds whose cause lies on the nodes they name (when they name this unit alone): its interface, clock or agent. */
const ownFault = new Set(['node-isolated', 'address-missing', 'mtu-mismatch', 'agent-stalled', 'clock-skew', 'port-in-use', 'dns-mismatch']);

/** The finding that makes this unit the one to fix, if any: an error that names it and only it. */
export function faultOf(r: Report, unit: string): Finding | undefined {
  return r.findings.find((f) => f.severity === 'error' && ownFault.has(f.kind) && f.nodes.length === 1 && f.nodes[0] === unit);
}

export function unitStatus(v: UnitView): Status {
  if (v.missing.length) {
    const b = v.missing.join(', ');
    return {
      state: 'blocked',
      message: short(`binding ${b} has no address on this machine: bind ${v.missing.length > 1 ? 'them' : 'it'} to a space this machine is in`),
    };
  }
  if (v.peersJoined < v.peersExpected) return { state: 'waiting', message: `waiting for peers: ${v.peersJoined}/${v.peersExpected} joined` };
  if (!v.aggregatorUrl) return { state: 'waiting', message: 'waiting for the leader to share the aggregator' };
  const r = v.report;
  if (!r) return { state: 'waiting', message: short(`agent started; waiting for a verdict from ${v.aggregatorUrl}`) };
  if ('error' in r) return { state: 'waiting', message: short(`aggregator ${v.aggregatorUrl} not answering: ${r.error}`) };
  const me = r.nodes.find((n) => n.name === v.unit);
  if (!me || me.state !== 'reporting' || me.rounds === 0)
    return { state: 'waiting', message: `waiting for the first round (agent ${me?.state ?? 'not in the report'})` };
  // Root causes on this machine first: an inventory address no local interface holds.
  for (const [b, addrs] of Object.entries(me.bindings)) {
    const gone = addrs.find((a) => a.iface === null);
    if (gone) return { state: 'blocked', message: short(`${b}: no local interface holds ${gone.address} (address moved or NIC down)`) };
  }
  const { reachable, peers } = peersReachable(r, v.unit);
  const view = `${v.bindings} binding${v.bindings === 1 ? '' : 's'}, ${reachable}/${peers} peers reachable`;
  const own = faultOf(r, v.unit);
  if (own) return { state: 'blocked', message: short(`${where(own) ? `${where(own)}: ` : ''}${own.hint ?? own.summary}`) };
  if (peers > 0 && reachable === 0) return { state: 'blocked', message: short(`reaches no peer on any binding (${view}): check this machine's links`) };
  const mine = r.findings.filter((f) => f.nodes.includes(v.unit) || f.evidence?.some((e) => e.from === v.unit || e.to === v.unit));
  if (mine.length || r.verdict === 'degraded' || r.verdict === 'not-ready') {
    return { state: 'active', message: short(`degraded: ${view}; see ${v.leader ?? `${v.unit.split('/')[0]}/leader`} get-report`) };
  }
  return { state: 'active', message: `ready: ${view}` };
}

/**
 * Peers this unit reaches: a peer counts as unreachable only when some binding's cell is 'x' (nothing got
 * through) either way. A failing port or one family of a dual-stack binding is a finding, not "unreachable".
 */
export function peersReachable(r: Report, unit: string): { reachable: number; peers: number } {
  const others = new Set(r.nodes.map((n) => n.name).filter((n) => n !== unit));
  const bad = new Set<string>();
  for (const b of r.bindings) {
    const i = b.nodes.indexOf(unit);
    const st = b.matrix?.states;
    if (i < 0 || !st) continue;
    b.nodes.forEach((peer, j) => {
      if (peer !== unit && (st[i]?.[j] === 'x' || st[j]?.[i] === 'x')) bad.add(peer);
    });
  }
  return { reachable: [...others].filter((p) => !bad.has(p)).length, peers: others.size };
}

/** The application's status (set by the leader): the aggregator's verdict in one line. */
export function appStatus(r: Report | { error: string } | undefined, url: string | undefined): Status {
  if (!url) return { state: 'waiting', message: 'aggregator starting' };
  if (!r) return { state: 'waiting', message: short(`pending: aggregator at ${url} starting`) };
  if ('error' in r) return { state: 'waiting', message: short(`aggregator ${url} not answering: ${r.error}`) };
  const first = r.findings.find((f) => f.severity === 'error') ?? r.findings[0];
  const more = r.findings.length > 1 ? ` (+${r.findings.length - 1} more)` : '';
  const msg = first && r.verdict !== 'ready' && r.verdict !== 'pending' ? `${r.verdict}: ${first.summary}${more}` : r.summary;
  switch (r.verdict) {
    case 'ready':
    case 'degraded':
      return { state: 'active', message: short(msg) };
    case 'not-ready':
      return { state: 'blocked', message: short(msg) };
    default:
      return { state: 'waiting', message: short(msg) };
  }
}

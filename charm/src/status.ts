// What `juju status` says: each unit its own view, the leader the application's verdict. Pure.
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
  /** The aggregator's report, or why it could not be had. */
  report?: Report | { error: string };
}

const short = (s: string, max = 120) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export function unitStatus(v: UnitView): Status {
  if (v.missing.length) {
    const b = v.missing.join(', ');
    return { state: 'blocked', message: `binding ${b} has no address on this machine: bind ${v.missing.length > 1 ? 'them' : 'it'} to a space this machine is in` };
  }
  if (v.peersJoined < v.peersExpected) return { state: 'waiting', message: `waiting for peers: ${v.peersJoined}/${v.peersExpected} joined` };
  if (!v.aggregatorUrl) return { state: 'waiting', message: 'waiting for the leader to share the aggregator' };
  const r = v.report;
  if (!r) return { state: 'waiting', message: `agent started; waiting for a verdict from ${v.aggregatorUrl}` };
  if ('error' in r) return { state: 'waiting', message: short(`aggregator ${v.aggregatorUrl} not answering: ${r.error}`) };
  const me = r.nodes.find((n) => n.name === v.unit);
  if (!me || me.state !== 'reporting' || me.rounds === 0) return { state: 'waiting', message: `agent not reporting yet (${me?.state ?? 'not in the report'})` };
  const mine = r.findings.filter((f) => f.nodes.includes(v.unit) || f.evidence?.some((e) => e.from === v.unit || e.to === v.unit));
  const worst = mine.find((f) => f.severity === 'error') ?? mine.find((f) => f.severity === 'warning');
  const { reachable, peers } = peersReachable(r, v.unit);
  // A finding about one family says which: "internal IPv6: 0/8 peers reachable", not a bare count.
  const where = worst?.binding && worst.family ? `${worst.binding} ${worst.family === 'ipv6' ? 'IPv6' : 'IPv4'}: ` : '';
  const view = `${v.bindings} binding${v.bindings === 1 ? '' : 's'}, ${where}${reachable}/${peers} peers reachable`;
  if (worst?.severity === 'error') return { state: 'blocked', message: short(`${view}; ${worst.summary}`, 160) };
  if (worst) return { state: 'active', message: short(`degraded: ${view}; ${worst.summary}`, 160) };
  return { state: 'active', message: `ready: ${view}` };
}

/** Peers this unit reaches on every binding both have ("o" in its row of every matrix they share). */
export function peersReachable(r: Report, unit: string): { reachable: number; peers: number } {
  const others = new Set(r.nodes.map((n) => n.name).filter((n) => n !== unit));
  const bad = new Set<string>();
  for (const b of r.bindings) {
    const i = b.nodes.indexOf(unit);
    const row = i >= 0 ? b.matrix?.states[i] : undefined;
    if (!row) continue;
    b.nodes.forEach((peer, j) => {
      if (peer !== unit && row[j] !== 'o') bad.add(peer);
    });
  }
  return { reachable: [...others].filter((p) => !bad.has(p)).length, peers: others.size };
}

/** The application's status (set by the leader): the aggregator's verdict in one line. */
export function appStatus(r: Report | { error: string } | undefined, url: string | undefined): Status {
  if (!url) return { state: 'waiting', message: 'aggregator starting' };
  if (!r) return { state: 'waiting', message: `pending: aggregator at ${url} starting` };
  if ('error' in r) return { state: 'waiting', message: short(`aggregator ${url} not answering: ${r.error}`) };
  const first = r.findings.find((f) => f.severity === 'error') ?? r.findings[0];
  const tail = first && r.verdict !== 'ready' && r.verdict !== 'pending' ? `; ${first.summary}` : '';
  const msg = short(`${r.summary}${tail} (report: ${url}/)`, 200);
  switch (r.verdict) {
    case 'ready':
      return { state: 'active', message: msg };
    case 'degraded':
      return { state: 'active', message: msg };
    case 'not-ready':
      return { state: 'blocked', message: msg };
    default:
      return { state: 'waiting', message: msg };
  }
}

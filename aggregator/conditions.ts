// Readiness conditions as people write them in a profile ("rtt_p99 < 5ms", "tcp 3306 open", "mtu >= 9000"),
// parsed once into a small AST and evaluated against what the agents measured. The vocabulary is closed:
// an unknown placeholder is an error at load time, never a condition that silently passes. Pure.
import type { Outcome } from '../agent/contract/probe.js';
import type { TargetRow } from '../agent/contract/wire.js';
import type { PairIcmp } from './matrix.js';
import { parseLinkCondition, type LinkCondition } from './link-conditions.js';

export type Severity = 'error' | 'warning';
export type Op = '==' | '!=' | '<' | '<=' | '>' | '>=';
const ops: readonly Op[] = ['<=', '>=', '==', '!=', '<', '>'];

/** Where a condition is checked: per ordered pair on a binding, per binding (all its nodes), per node. */
export type Scope = 'pair' | 'binding' | 'node';

/** The placeholders of comparisons; the finding kind says which diagnosis reports a failure. */
export const metrics = {
  loss: { unit: '%', scope: 'pair', kind: 'loss', what: 'ICMP echoes lost, percent' },
  rtt_min: { unit: 'ms', scope: 'pair', kind: 'high-latency', what: 'lowest ICMP round trip' },
  rtt_avg: { unit: 'ms', scope: 'pair', kind: 'high-latency', what: 'mean ICMP round trip' },
  rtt_p50: { unit: 'ms', scope: 'pair', kind: 'high-latency', what: 'median ICMP round trip' },
  rtt_p99: { unit: 'ms', scope: 'pair', kind: 'high-latency', what: '99th percentile ICMP round trip' },
  rtt_max: { unit: 'ms', scope: 'pair', kind: 'high-latency', what: 'highest ICMP round trip' },
  mtu: { unit: 'bytes', scope: 'binding', kind: 'mtu-mismatch', what: 'path MTU (DF echo) and interface MTU' },
  clock_offset: { unit: 'ms', scope: 'node', kind: 'clock-skew', what: "absolute offset of the node's clock from the aggregator's" },
} as const;
export type Metric = keyof typeof metrics;
const metricNames = Object.keys(metrics) as Metric[];

export interface CompareCondition {
  type: 'compare';
  metric: Metric;
  op: Op;
  /** In the metric's base unit: ms, percent or bytes. */
  value: number;
  text: string;
  severity: Severity;
}
export interface PortCondition {
  type: 'port';
  proto: 'tcp' | 'udp';
  ports: number[];
  text: string;
  severity: Severity;
}
/** Forward and reverse DNS agree: for a binding, its addresses; under `node`, the node's hostname. */
export interface DnsCondition {
  type: 'dns';
  text: string;
  severity: Severity;
}
export type Condition = CompareCondition | PortCondition | DnsCondition | LinkCondition;

export class ConditionError extends Error {}

/** Ceiling per condition: a port range is probed port by port from every peer, every round. */
export const MAX_PORTS_PER_CONDITION = 64;

const durationUnits: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

function parseValue(metric: Metric, raw: string): number {
  const unit = metrics[metric].unit;
  const m = /^(-?[0-9]+(?:\.[0-9]+)?)\s*([a-z%]*)$/.exec(raw.trim());
  if (!m) throw new ConditionError(`"${raw}" is not a number${unit === 'bytes' ? '' : ` with a unit (${unit === '%' ? '%' : 'us, ms or s'})`}`);
  const n = Number(m[1]);
  const u = m[2]!;
  if (unit === 'ms') {
    if (!u) throw new ConditionError(`"${raw}" needs a unit: us, ms or s (e.g. 5ms)`);
    const f = durationUnits[u];
    if (f === undefined) throw new ConditionError(`unknown unit "${u}" in "${raw}" (use us, ms or s)`);
    return n * f;
  }
  if (unit === '%') {
    if (u !== '%') throw new ConditionError(`"${raw}" needs a % sign (e.g. 0%)`);
    if (n < 0 || n > 100) throw new ConditionError(`"${raw}" is not between 0% and 100%`);
    return n;
  }
  if (u && u !== 'b' && u !== 'bytes') throw new ConditionError(`"${raw}": MTU is in bytes, without a unit (e.g. 9000)`);
  if (!Number.isInteger(n) || n < 1280 || n > 65535) throw new ConditionError(`"${raw}" is not an MTU between 1280 and 65535`);
  return n;
}

function parsePorts(raw: string): number[] {
  const out = new Set<number>();
  for (const part of raw.split(',')) {
    const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(part.trim());
    if (!m) throw new ConditionError(`"${part.trim()}" is not a port, a range (6641-6644) or a list (6800,7300)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 1 || hi > 65535 || hi < lo) throw new ConditionError(`"${part.trim()}" is not a port range within 1-65535`);
    if (hi - lo + 1 + out.size > MAX_PORTS_PER_CONDITION) {
      throw new ConditionError(`"${raw}" names more than ${MAX_PORTS_PER_CONDITION} ports: sample the range instead (e.g. 6800,6801,7050,7300)`);
    }
    for (let p = lo; p <= hi; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}

/** Parses one condition. Throws ConditionError with a message that says what to write instead. */
export function parseCondition(text: string, severity: Severity = 'error'): Condition {
  const t = text.trim().replace(/\s+/g, ' ');
  if (!t) throw new ConditionError('empty condition');
  const port = /^(tcp|udp) (\S+) open$/.exec(t);
  if (port) return { type: 'port', proto: port[1] as 'tcp' | 'udp', ports: parsePorts(port[2]!), text: t, severity };
  if (/^(tcp|udp)\b/.test(t)) throw new ConditionError(`"${t}": write "${t.split(' ')[0]} PORT open", e.g. "tcp 3306 open"`);
  if (t === 'dns agrees') return { type: 'dns', text: t, severity };
  if (/^dns\b/.test(t)) throw new ConditionError(`"${t}": the DNS condition is written "dns agrees"`);
  const link = parseLinkCondition(t, severity);
  if (typeof link === 'string') throw new ConditionError(link);
  if (link) return link;
  const op = ops.find((o) => t.includes(o));
  if (!op) throw new ConditionError(`"${t}" has no comparison (use ==, !=, <, <=, >, >=), and is not "tcp PORT open", "udp PORT open" or "dns agrees"`);
  const i = t.indexOf(op);
  const left = t
    .slice(0, i)
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  const right = t.slice(i + op.length).trim();
  if (!(metricNames as string[]).includes(left)) {
    throw new ConditionError(
      `unknown placeholder "${left}" (known: ${metricNames.join(', ')}, link_speed, bandwidth, and tcp PORT open, udp PORT open, dns agrees, bond healthy, port description names node)`,
    );
  }
  const metric = left as Metric;
  if (metric === 'mtu' && op !== '>=') throw new ConditionError(`"${t}": write "mtu >= N" (the path must carry N-byte packets)`);
  return { type: 'compare', metric, op, value: parseValue(metric, right), text: t, severity };
}

/** The scope a condition is checked in (dns depends on where it is written). */
export function scopeOf(c: Condition, where: 'binding' | 'node'): Scope {
  if (c.type === 'port') return 'pair';
  if (c.type === 'dns') return where;
  if (c.type === 'link') return 'binding';
  return metrics[c.metric].scope;
}

/** Conditions with the same subject replace each other when a binding or an extending profile overrides. */
export function subjectOf(c: Condition): string {
  if (c.type === 'port') return `${c.proto} ${c.ports.join(',')}`;
  if (c.type === 'dns') return 'dns';
  if (c.type === 'link') return c.check;
  return c.metric;
}

export function compare(op: Op, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

/** A value shown the way a person wrote it: 7.2ms, 33.3%, 9000. */
export function formatValue(metric: Metric, v: number): string {
  const unit = metrics[metric].unit;
  const r = (x: number) => String(Math.round(x * 100) / 100);
  if (unit === '%') return `${r(v)}%`;
  if (unit === 'ms') return Math.abs(v) >= 1000 ? `${r(v / 1000)}s` : Math.abs(v) < 0.1 && v !== 0 ? `${r(v * 1000)}us` : `${r(v)}ms`;
  return String(v);
}

export interface ConditionResult {
  condition: Condition;
  /** undefined: could not be measured here (e.g. ICMP without CAP_NET_RAW): neither passed nor failed. */
  passed: boolean | undefined;
  /** The resolved comparison: "rtt_p99 (7.2ms) < 5ms: failed". */
  text: string;
  /** For port conditions: the failing ports and their outcomes. */
  ports?: Record<string, Outcome>;
}

export function evaluateCompare(c: CompareCondition, actual: number | undefined): ConditionResult {
  if (actual === undefined || Number.isNaN(actual))
    return { condition: c, passed: undefined, text: `${c.metric} (not measured) ${c.op} ${formatValue(c.metric, c.value)}: not measured` };
  const passed = compare(c.op, actual, c.value);
  return {
    condition: c,
    passed,
    text: `${c.metric} (${formatValue(c.metric, actual)}) ${c.op} ${formatValue(c.metric, c.value)}: ${passed ? 'passed' : 'failed'}`,
  };
}

/** Loss and RTT of one ordered pair, over all of the peer's addresses (the worst address decides). */
export function pairMetrics(rows: readonly TargetRow[]): Partial<Record<Metric, number>> {
  let sent = 0;
  let recv = 0;
  const rtt: number[][] = [];
  for (const r of rows) {
    if (!r.icmp || r.icmp.outcome === 'not-measured') continue;
    sent += r.icmp.sent;
    recv += r.icmp.recv;
    if (r.icmp.rtt) rtt.push(r.icmp.rtt);
  }
  const out: Partial<Record<Metric, number>> = {};
  if (sent > 0) out.loss = (100 * (sent - recv)) / sent;
  if (rtt.length) {
    const worst = (i: number) => Math.max(...rtt.map((x) => x[i]!));
    out.rtt_min = Math.min(...rtt.map((x) => x[0]!));
    out.rtt_avg = worst(1);
    out.rtt_max = worst(2);
    out.rtt_p50 = worst(3);
    out.rtt_p99 = worst(4);
  }
  return out;
}

/** Evaluates a port condition on one pair's rows: failed when any named port did not answer on any address. */
export function evaluatePort(c: PortCondition, rows: readonly TargetRow[]): ConditionResult {
  const bad: Record<string, Outcome> = {};
  let measured = false;
  for (const r of rows) {
    const got = r[c.proto] ?? {};
    for (const p of c.ports) {
      const o = got[String(p)];
      if (o === undefined || o === 'not-measured') continue;
      measured = true;
      if (o !== 'ok' && bad[p] === undefined) bad[p] = o;
    }
  }
  const failed = Object.keys(bad);
  if (!measured) return { condition: c, passed: undefined, text: `${c.text} (not measured): not measured` };
  if (!failed.length) return { condition: c, passed: true, text: `${c.text}: passed` };
  return { condition: c, passed: false, text: `${c.text} (${failed.map((p) => `${p} ${bad[p]}`).join(', ')}): failed`, ports: bad };
}

/**
 * Whether any pair-scoped comparison (loss, rtt_*) fails on one pair's rows: the same verdict as
 * pairFailures gives for those conditions, without allocating. It runs for every healthy pair of every
 * round (6M a round at 1,000 nodes), where ports cannot fail: a failed port makes the cell not 'ok'.
 */
export function pairComparisonsFail(conditions: readonly CompareCondition[], rows: readonly TargetRow[]): boolean {
  if (conditions.length === 0) return false;
  const s: PairIcmp = { sent: 0, recv: 0, min: NaN, avg: NaN, max: NaN, p50: NaN, p99: NaN };
  for (const r of rows) {
    const ic = r.icmp;
    if (!ic || ic.outcome === 'not-measured') continue;
    s.sent += ic.sent;
    s.recv += ic.recv;
    const t = ic.rtt;
    if (!t) continue;
    if (!(s.min <= t[0])) s.min = t[0];
    if (!(s.avg >= t[1])) s.avg = t[1];
    if (!(s.max >= t[2])) s.max = t[2];
    if (!(s.p50 >= t[3])) s.p50 = t[3];
    if (!(s.p99 >= t[4])) s.p99 = t[4];
  }
  return icmpComparisonsFail(conditions, s);
}

/**
 * pairComparisonsFail on a pair's ICMP figures as the matrix folds them from packed rows (aggregator/matrix.ts):
 * it runs for every healthy pair of every round without a row object.
 */
export function icmpComparisonsFail(conditions: readonly CompareCondition[], s: PairIcmp): boolean {
  const any = !Number.isNaN(s.min);
  for (const c of conditions) {
    let v: number;
    switch (c.metric) {
      case 'loss':
        if (s.sent === 0) continue;
        v = (100 * (s.sent - s.recv)) / s.sent;
        break;
      case 'rtt_min':
        v = s.min;
        break;
      case 'rtt_avg':
        v = s.avg;
        break;
      case 'rtt_max':
        v = s.max;
        break;
      case 'rtt_p50':
        v = s.p50;
        break;
      case 'rtt_p99':
        v = s.p99;
        break;
      default:
        continue;
    }
    if (c.metric !== 'loss' && !any) continue;
    if (!compare(c.op, v, c.value)) return true;
  }
  return false;
}

/** The pair-scoped comparisons among a binding's conditions (what pairComparisonsFail takes). */
export function pairComparisons(conditions: readonly Condition[]): CompareCondition[] {
  return conditions.filter((c): c is CompareCondition => c.type === 'compare' && metrics[c.metric].scope === 'pair');
}

/** Every pair-scoped condition on one pair's rows; returns the failures only. */
export function pairFailures(conditions: readonly Condition[], rows: readonly TargetRow[]): ConditionResult[] {
  const m = pairMetrics(rows);
  const out: ConditionResult[] = [];
  for (const c of conditions) {
    let r: ConditionResult | undefined;
    if (c.type === 'port') r = evaluatePort(c, rows);
    else if (c.type === 'compare' && metrics[c.metric].scope === 'pair') r = evaluateCompare(c, m[c.metric]);
    if (r?.passed === false) out.push(r);
  }
  return out;
}

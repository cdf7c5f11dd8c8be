// What /metrics exposes, as plain data: metric families built from the aggregator's state, plus a tally of
// every round's probe outcomes and RTTs. Pure (no I/O, no clocks): routes/metrics.ts hands these to prom-client.
//
// Cardinality is the design constraint (goldpinger's ~15 series per pair reached 3.7M series at 500 nodes):
// per-binding series for distributions and ratios, per-node series only where one value per node is the
// point (agent state, clock offset), per-pair series only below a node-count threshold or for failing pairs
// (capped), so a healthy 1,000-node fleet with 6 bindings stays in the low thousands of series.
import type { Coverage } from './coverage.js';
import { senderMedians, type BandwidthTable } from './bandwidth-diagnosis.js';
import { outcomes, probeKinds } from '../agent/contract/probe.js';
import { AGENT_VERSION } from '../agent/contract/version.js';
import type { ResultsMsg } from '../agent/contract/wire.js';
import { bucketIndex, emptyTally, rttBuckets, tallyAt, tallyPacked } from '../agent/contract/tally.js';
import type { Inventory } from '../agent/contract/inventory.js';
import { addressFamilies, familyOf, findingKinds, type Finding } from './findings.js';
import { classify, type BindingMatrix, type CellState } from './matrix.js';
import type { NodeRecord, NodeState } from './nodes.js';
import type { Verdict } from './verdict.js';
import { linkSamples } from './link-metrics.js';

export type MetricType = 'gauge' | 'counter' | 'histogram';

export interface Sample {
  labels: Record<string, string>;
  value: number;
  /** For histograms: which of the family's series this is. */
  suffix?: '_bucket' | '_sum' | '_count';
  /** The same object, never changed, in scrape after scrape (link-metrics.ts): its line is formatted once. */
  stable?: true;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

/** The catalogue: every family /metrics exposes (a family with no samples still has its HELP and TYPE). */
export const metricDefs = {
  pinger_build_info: { type: 'gauge', help: 'Always 1; the aggregator version in the label.' },
  pinger_verdict: { type: 'gauge', help: 'Readiness verdict as a state set: 1 for the current verdict, 0 for the others.' },
  pinger_findings: { type: 'gauge', help: 'Current findings by kind and severity.' },
  pinger_agents_expected: { type: 'gauge', help: 'Nodes in the inventory.' },
  pinger_agents_connected: { type: 'gauge', help: 'Agents with an open connection.' },
  pinger_agents: { type: 'gauge', help: 'Agents by state (reporting, stale, missing).' },
  pinger_agents_icmp_unavailable: { type: 'gauge', help: 'Connected agents that cannot measure ICMP (no CAP_NET_RAW).' },
  pinger_agent_state: { type: 'gauge', help: 'Per agent state as a state set: 1 for the current state.' },
  pinger_agent_clock_offset_seconds: { type: 'gauge', help: "Agent clock minus the aggregator's clock, NTP-style estimate." },
  pinger_link_speed_bits_per_second: {
    type: 'gauge',
    help: "Per node and binding: the slowest negotiated speed among the physical ports under the binding's interface (absent when unknown, e.g. veth).",
  },
  pinger_bond_members: { type: 'gauge', help: 'Per node and binding whose interface is a bond: its members by MII state (up, down).' },
  pinger_binding_pairs: { type: 'gauge', help: 'Ordered node pairs per binding by state of their latest round (none = no result yet).' },
  pinger_binding_reachability_ratio: { type: 'gauge', help: 'Share of measured pairs on the binding that get through (0..1).' },
  pinger_binding_coverage_ratio: {
    type: 'gauge',
    help: 'Share of ordered pairs on the binding with a current result, measured since their destination came up (0..1; a pinglist raises it round by round).',
  },
  pinger_binding_loss_ratio: { type: 'gauge', help: 'Mean ICMP loss over measured pairs in their latest round (0..1).' },
  pinger_rtt_seconds: { type: 'histogram', help: 'ICMP round-trip time per binding: one observation per target per round (its average).' },
  pinger_icmp_echo_requests_total: { type: 'counter', help: 'ICMP echo requests sent to connected peers, per binding.' },
  pinger_icmp_echo_replies_total: { type: 'counter', help: 'ICMP echo replies received from connected peers, per binding.' },
  pinger_probes_total: { type: 'counter', help: 'Probe outcomes per binding and kind (icmp per target, tcp/udp per port, mtu per target).' },
  pinger_pair_ok: { type: 'gauge', help: 'Per pair: 1 ok, 0 failing. All pairs below the node threshold, else failing pairs only.' },
  pinger_pair_problem: { type: 'gauge', help: 'Per failing pair: 1, with what fails (unreachable, mtu, port, udp, loss).' },
  pinger_pair_rtt_seconds: { type: 'gauge', help: 'Per pair: average ICMP RTT of the latest round (same pairs as pinger_pair_ok).' },
  pinger_pair_loss_ratio: { type: 'gauge', help: 'Per pair: ICMP loss of the latest round (same pairs as pinger_pair_ok).' },
  pinger_pair_problems_omitted: { type: 'gauge', help: 'Failing pairs per binding left out of the pair series by the cap.' },
  pinger_agent_messages_total: { type: 'counter', help: 'Agent WebSocket messages accepted.' },
  pinger_agent_messages_rejected_total: {
    type: 'counter',
    help: 'Agent WebSocket messages or connections refused, by error code (bad message, too large, auth, unknown node, ...).',
  },
  pinger_agent_hellos_total: {
    type: 'counter',
    help: 'Agent hellos taken: on connecting, once responders are open, and on a change of interfaces, link facts or DNS answers.',
  },
  pinger_result_messages_total: {
    type: 'counter',
    help: 'Result messages applied to the matrices, by how they name peers: indexed (into the peer set the aggregator offered) or named.',
  },
  pinger_result_rows_total: { type: 'counter', help: 'Target rows applied to the matrices.' },
  pinger_result_pairs_unchanged_total: {
    type: 'counter',
    help: 'Pairs agents reported as unchanged since their last rows (delta rounds): measured, not re-sent.',
  },
  pinger_result_unknown_peer_rows_total: { type: 'counter', help: 'Target rows naming a peer not in the inventory (ignored).' },
  pinger_bandwidth_bits_per_second: {
    type: 'gauge',
    help: "Per node and binding: the median of the node's last bandwidth samples as sender (absent when not sampled).",
  },
  pinger_metrics_collect_seconds: { type: 'gauge', help: 'How long the previous /metrics collection took.' },
} as const satisfies Record<string, { type: MetricType; help: string }>;
export type MetricName = keyof typeof metricDefs;

export const verdicts: readonly Verdict[] = ['ready', 'degraded', 'not-ready', 'pending'];
export const nodeStates: readonly NodeState[] = ['reporting', 'stale', 'stalled', 'missing'];
/** Pair states per binding (self left out: it is not a pair). */
export const pairStates: readonly CellState[] = ['ok', 'loss', 'udp', 'port', 'mtu', 'unreachable', 'none'];
/**
 * Finding kinds zero-initialised so dashboards and alerts see 0 rather than no data: every kind of the one
 * table (findings.ts). A kind not in it (from a newer aggregator's report, say) is still exported as it comes.
 */
export const knownFindingKinds: readonly string[] = findingKinds;

/** RTT buckets in seconds: loopback (~50 us) through a congested WAN-like path (1 s is the probe timeout scale). */
export { bucketIndex, rttBuckets };

export interface MetricsOptions {
  /** Export every pair's series when a binding has at most this many nodes; above, failing pairs only. */
  pairMaxNodes: number;
  /** At most this many failing pairs per binding get pair series (a partition must not explode cardinality). */
  pairProblemsMax: number;
}

export const defaultMetricsOptions: MetricsOptions = { pairMaxNodes: 20, pairProblemsMax: 200 };

/** One binding's tally, read by collectMetrics (built on demand from the flat tally of ../agent/contract/tally.ts). */
interface BindingTally {
  /** Non-cumulative bucket counts; the last slot is +Inf. */
  buckets: readonly number[];
  sum: number;
  count: number;
  echoRequests: number;
  echoReplies: number;
  /** Counts per probe kind x outcome (both closed sets): index kind * outcomes.length + outcome. */
  probes: readonly number[];
}

export { probeKinds };

/**
 * Counts every round's results per binding. Cheap per row (a few additions and a bucket search) because a
 * 1,000-node fleet sends ~600,000 rows every 10 s; rows a delta round leaves out as unchanged arrive as their
 * agent's tally of them (one fixed-size array a binding). Only the inventory's bindings are tallied: an agent
 * cannot create series by naming new ones.
 */
export class ProbeTally {
  private readonly byBinding = new Map<string, number[]>();

  constructor(bindings: readonly string[]) {
    for (const b of bindings) this.byBinding.set(b, emptyTally());
  }

  /**
   * `upOf` (NodeTable's): rows towards peers whose agent is gone are left out (agent-missing already covers them). An
   * agent's tally of unchanged rows cannot be split by peer: it counts whole (an unchanged row toward a peer
   * that went away is rare: its rows change when it goes).
   */
  observe(msg: ResultsMsg, upOf?: (peers: readonly string[]) => Uint8Array): void {
    for (const [binding, table] of Object.entries(msg.bindings)) {
      const t = this.byBinding.get(binding);
      if (!t) continue;
      if (table.rows.length) tallyPacked(t, table, upOf?.(table.peers));
      const add = table.tally;
      if (add) for (let i = 0; i < t.length; i++) t[i] = t[i]! + add[i]!;
    }
  }

  bindings(): [string, Readonly<BindingTally>][] {
    return [...this.byBinding].map(([b, t]) => [
      b,
      {
        buckets: t.slice(tallyAt.buckets, tallyAt.probes),
        sum: t[tallyAt.sumUs]! / 1e6,
        count: t[tallyAt.count]!,
        echoRequests: t[tallyAt.requests]!,
        echoReplies: t[tallyAt.replies]!,
        probes: t.slice(tallyAt.probes),
      },
    ]);
  }
}

export interface MetricsInput {
  verdict: Verdict;
  findings: readonly Finding[];
  nodes: readonly { record: NodeRecord; state: NodeState }[];
  expected: number;
  matrices: readonly BindingMatrix[];
  /** For the address families of each binding (pinger_binding_pairs is per family). */
  inventory: Inventory;
  counters: {
    messages: number;
    hellos: number;
    rejectedByCode: Readonly<Record<string, number>>;
    results: number;
    /** Results naming peers by index into the offered peer set (the rest name them). */
    resultsIndexed: number;
    rows: number;
    unchanged: number;
    unknownPeers: number;
  };
  tally: ProbeTally;
  options: MetricsOptions;
  lastCollectSeconds: number;
  /** The last bandwidth sample of each pair (bandwidth-diagnosis.ts). */
  bandwidth?: BandwidthTable;
  /** Per binding: pairs with a current result (the state's snapshot, coverage.ts). */
  coverage?: ReadonlyMap<string, Coverage>;
}

/**
 * A node's pinger_agent_state samples (one per state, 1 for its own): the same objects until its state changes,
 * marked stable so their lines are formatted once, not 4,000 lines a scrape at 1,000 nodes.
 */
const stateSamples = new WeakMap<NodeRecord, { state: NodeState; samples: Sample[] }>();
function agentStateSamples(record: NodeRecord, state: NodeState): Sample[] {
  const hit = stateSamples.get(record);
  if (hit?.state === state) return hit.samples;
  const samples = nodeStates.map((s): Sample => ({ labels: { node: record.name, state: s }, value: s === state ? 1 : 0, stable: true }));
  stateSamples.set(record, { state, samples });
  return samples;
}

// size: the metric families one block each, read as the metrics table
export function collectMetrics(input: MetricsInput): Family[] {
  const out = new Map<MetricName, Sample[]>((Object.keys(metricDefs) as MetricName[]).map((n) => [n, []]));
  const add = (name: MetricName, labels: Record<string, string>, value: number, suffix?: Sample['suffix']) =>
    out.get(name)!.push(suffix ? { labels, value, suffix } : { labels, value });

  add('pinger_build_info', { version: AGENT_VERSION }, 1);
  for (const v of verdicts) add('pinger_verdict', { verdict: v }, v === input.verdict ? 1 : 0);

  const findings = new Map<string, number>();
  for (const k of knownFindingKinds) for (const s of ['error', 'warning']) findings.set(`${k}\0${s}`, 0);
  for (const f of input.findings) findings.set(`${f.kind}\0${f.severity}`, (findings.get(`${f.kind}\0${f.severity}`) ?? 0) + 1);
  for (const [k, n] of findings) {
    const [kind, severity] = k.split('\0') as [string, string];
    add('pinger_findings', { kind, severity }, n);
  }

  add('pinger_agents_expected', {}, input.expected);
  add('pinger_agents_connected', {}, input.nodes.filter((n) => n.record.connected).length);
  for (const s of nodeStates) add('pinger_agents', { state: s }, input.nodes.filter((n) => n.state === s).length);
  add('pinger_agents_icmp_unavailable', {}, input.nodes.filter((n) => n.record.connected && n.record.hello?.icmp === 'not-measured').length);
  for (const { record, state } of input.nodes) {
    out.get('pinger_agent_state')!.push(...agentStateSamples(record, state));
    if (record.connected && record.clock) add('pinger_agent_clock_offset_seconds', { node: record.name }, record.clock.offsetMs / 1000);
    if (record.connected && record.hello?.links) {
      const l = linkSamples(record.name, record.hello.links);
      out.get('pinger_link_speed_bits_per_second')!.push(...l.speed);
      out.get('pinger_bond_members')!.push(...l.bond);
    }
  }

  for (const m of input.matrices) bindingFamilies(m, input.options, add, addressFamilies(input.inventory, m.binding));
  for (const [binding, c] of input.coverage ?? []) add('pinger_binding_coverage_ratio', { binding }, c.ratio);

  for (const [binding, t] of input.tally.bindings()) {
    let cum = 0;
    for (let i = 0; i <= rttBuckets.length; i++) {
      cum += t.buckets[i]!;
      add('pinger_rtt_seconds', { binding, le: i < rttBuckets.length ? String(rttBuckets[i]) : '+Inf' }, cum, '_bucket');
    }
    add('pinger_rtt_seconds', { binding }, t.sum, '_sum');
    add('pinger_rtt_seconds', { binding }, t.count, '_count');
    add('pinger_icmp_echo_requests_total', { binding }, t.echoRequests);
    add('pinger_icmp_echo_replies_total', { binding }, t.echoReplies);
    // Only outcomes seen so far: a counter appears at its first increment (at most 4 x 7 per binding).
    probeKinds.forEach((kind, k) =>
      outcomes.forEach((outcome, o) => {
        const n = t.probes[k * outcomes.length + o]!;
        if (n > 0) add('pinger_probes_total', { binding, kind, outcome }, n);
      }),
    );
  }

  add('pinger_agent_messages_total', {}, input.counters.messages);
  for (const [code, n] of Object.entries(input.counters.rejectedByCode)) add('pinger_agent_messages_rejected_total', { code }, n);
  add('pinger_agent_hellos_total', {}, input.counters.hellos);
  // Named while an agent's inventory differs from ours (it was not offered our set, or its own has another id).
  add('pinger_result_messages_total', { peers: 'indexed' }, input.counters.resultsIndexed);
  add('pinger_result_messages_total', { peers: 'named' }, input.counters.results - input.counters.resultsIndexed);
  add('pinger_result_rows_total', {}, input.counters.rows);
  add('pinger_result_pairs_unchanged_total', {}, input.counters.unchanged);
  add('pinger_result_unknown_peer_rows_total', {}, input.counters.unknownPeers);
  // One series per node and binding (the node's median as sender), never per pair.
  for (const m of input.matrices)
    for (const [node, mbps] of senderMedians(input.bandwidth?.pairs(m.binding) ?? []))
      add('pinger_bandwidth_bits_per_second', { node, binding: m.binding }, mbps * 1e6);
  add('pinger_metrics_collect_seconds', {}, input.lastCollectSeconds);

  return [...out].map(([name, samples]) => ({ name, ...metricDefs[name], samples }));
}

type Add = (name: MetricName, labels: Record<string, string>, value: number) => void;

function bindingFamilies(m: BindingMatrix, opts: MetricsOptions, add: Add, families: ('ipv4' | 'ipv6')[]): void {
  const binding = m.binding;
  const counts = m.counts();
  for (const family of families.length ? families : (['ipv4'] as const)) {
    const c = families.length > 1 ? familyCounts(m, counts, family) : counts;
    for (const s of pairStates) add('pinger_binding_pairs', { binding, family, state: s }, c[s]);
  }
  const measured = pairStates.reduce((a, s) => a + (s === 'none' ? 0 : counts[s]), 0);
  if (measured > 0) add('pinger_binding_reachability_ratio', { binding }, (measured - counts.unreachable) / measured);

  // Loss: an ok pair lost nothing (classify() says so), so only failing pairs need a look.
  let lossSum = 0;
  let lossPairs = counts.ok;
  let exported = 0;
  let omitted = 0;
  const small = m.n <= opts.pairMaxNodes;
  for (const c of m.problems()) {
    if (!Number.isNaN(c.loss)) {
      lossSum += c.loss;
      lossPairs++;
    }
    if (small) continue; // every pair is exported below
    if (exported >= opts.pairProblemsMax) {
      omitted++;
      continue;
    }
    exported++;
    pairSeries(add, binding, c.from, c.to, c.state, c.rttAvg, c.loss);
  }
  if (lossPairs > 0) add('pinger_binding_loss_ratio', { binding }, round(lossSum / lossPairs, 1e9));
  add('pinger_pair_problems_omitted', { binding }, omitted);

  if (small) {
    for (const from of m.nodes) {
      for (const to of m.nodes) {
        if (from === to) continue;
        const c = m.cell(from, to)!;
        if (c.state === 'none') continue;
        pairSeries(add, binding, from, to, c.state, c.rttAvg, c.loss);
      }
    }
  }
}

/**
 * Pair states in one family of a dual-stack binding: the matrix's counts, with each problem pair classified
 * again from its rows of that family (a pair failing over IPv6 only is ok over IPv4). Healthy pairs keep no
 * rows and count as ok in both; a pair with no row of the family (a node without an address of it) as none.
 */
function familyCounts(m: BindingMatrix, all: Record<CellState, number>, family: 'ipv4' | 'ipv6'): Record<CellState, number> {
  const out = { ...all };
  for (const c of m.problems()) {
    const rows = (c.rows ?? []).filter((r) => familyOf(r.addr) === family);
    const st = rows.length ? classify(rows) : 'none';
    if (st === c.state) continue;
    out[c.state]--;
    out[st]++;
  }
  return out;
}

function pairSeries(add: Add, binding: string, from: string, to: string, state: CellState, rttMs: number, loss: number): void {
  const l = { binding, from, to };
  add('pinger_pair_ok', l, state === 'ok' ? 1 : 0);
  if (state !== 'ok') add('pinger_pair_problem', { ...l, problem: state }, 1);
  if (!Number.isNaN(rttMs)) add('pinger_pair_rtt_seconds', l, round(rttMs / 1000, 1e7));
  if (!Number.isNaN(loss)) add('pinger_pair_loss_ratio', l, round(loss, 1e6));
}

/** The matrix keeps float32: 0.3 ms comes back as 0.30000001 ms. Round to well below what was measured. */
function round(v: number, perUnit: number): number {
  return Math.round(v * perUnit) / perUnit;
}

/** Series a family will print (a histogram's buckets, sum and count each count). */
export function seriesCount(families: readonly Family[]): number {
  return families.reduce((a, f) => a + f.samples.length, 0);
}

// The report contract (GET /api/v1/report). Other tools and tests rely on these names: extend, never rename.
// Pure: built from the state's parts.
import type { Inventory } from '../agent/contract/inventory.js';
import type { LinkFact, LldpState } from '../agent/contract/link-wire.js';
import type { InterfaceInfo, ResponderInfo } from '../agent/contract/wire.js';
import { lldpSummary } from './link-diagnosis.js';
import { senderMedians, type BandwidthTable } from './bandwidth-diagnosis.js';
import { cellStateList, type CellStateInfo } from './cell-states.js';
import { cellStates, type BindingMatrix, type CellState } from './matrix.js';
import { coverageText, reportRatio, totalCoverage, type Coverage } from './coverage.js';
import { list } from './diagnosis.js';
import type { Finding } from './findings.js';
import type { NodeRecord, NodeState } from './nodes.js';
import type { Verdict, Waiting } from './verdict.js';

export interface ReportNode {
  name: string;
  state: NodeState;
  hostname?: string;
  agentVersion?: string;
  icmp?: 'available' | 'not-measured';
  clockOffsetMs?: number;
  rounds: number;
  /**
   * The agent's own number of the last full round whose results the verdict of this report includes (absent
   * before one): with the agent's send times this tells how long a round took to reach the verdict.
   */
  lastRound?: number;
  /** How long its last full round took (ms): a fleet that outgrows its interval shows here first. */
  lastRoundMs?: number;
  /** binding -> this node's addresses, with the interface and MTU the agent found for each. */
  bindings: Record<string, { address: string; iface: string | null; mtu: number | null }[]>;
  /** Responders that could not listen (port in use, permission). */
  responderProblems: ResponderInfo[];
  /** Link facts per binding interface (speed, bond members, LLDP neighbours), when the agent sends them. */
  links?: LinkFact[];
  /** Whether the agent could read LLDP (lldpd). */
  lldp?: LldpState;
  /** binding -> the median of this node's last bandwidth samples as sender, Mb/s (when sampled). */
  bandwidthMbps?: Record<string, number>;
}

export interface ReportBinding {
  name: string;
  space?: string;
  /** Matrix order: row i / column j of `matrix.states` is nodes[i] -> nodes[j]. */
  nodes: string[];
  counts: Record<CellState, number>;
  /**
   * Ordered pairs of the binding's nodes with a current result (measured since the destination came up), and
   * their share (0..1, floored: 1 only when every pair is covered). A pinglist raises it round by round.
   */
  coverage?: { ratio: number; covered: number; pairs: number };
  matrix?: {
    /** Legend for the characters of `states`. */
    legend: Record<string, CellState>;
    /** One string per source node, one state code per destination (empty with ?matrix=runs). */
    states: string[];
    /**
     * With ?matrix=runs: `states` run-length encoded, one string per source node: each code followed by how many
     * times it repeats when more than once ("o499-o500" is 499 ok, self, 500 ok). Codes are never digits.
     */
    runs?: string[];
    /** ICMP RTT p99 per pair in ms (only with ?matrix=full). */
    rttP99Ms?: (number | null)[][];
  };
}

export type { Waiting } from './verdict.js';

export interface Report {
  verdict: Verdict;
  generatedAt: string;
  profile: string;
  summary: string;
  /** Only while pending. */
  waiting?: Waiting;
  expected: number;
  reporting: number;
  nodes: ReportNode[];
  bindings: ReportBinding[];
  findings: Finding[];
  /** The pinglist in force (profile `pinglist`, this fleet's size): peers a round, rounds to cover every pair. */
  pinglist?: { perRound: number; rounds: number };
  /** Every cell state: name, code, colour, label (cell-states.ts): views take them from here, not a copy (always set by this aggregator). */
  cellStates?: readonly CellStateInfo[];
  /** Which nodes give LLDP data; `note` says plainly when none (or only some) do: not an error. */
  lldp?: ReturnType<typeof lldpSummary>;
}

export type MatrixDetail = 'none' | 'states' | 'runs' | 'full';

export interface ReportInput {
  inventory: Inventory;
  profile: string;
  verdict: Verdict;
  waiting: Waiting;
  findings: Finding[];
  nodes: { record: NodeRecord; state: NodeState; lastRound?: number }[];
  matrices: BindingMatrix[];
  now: number;
  matrix: MatrixDetail;
  bandwidth?: BandwidthTable;
  /** Per binding (state.ts snapshot). */
  coverage?: ReadonlyMap<string, Coverage>;
  pinglist?: { perRound: number; rounds: number };
}

const legend = Object.fromEntries(Object.entries(cellStates).map(([k, v]) => [v, k as CellState]));

export function buildReport(input: ReportInput): Report {
  const inv = new Map(input.inventory.nodes.map((n) => [n.name, n]));
  const nodes = reportNodes(input, inv);
  const bindings: ReportBinding[] = input.matrices.map((m) => ({
    name: m.binding,
    ...(input.inventory.spaces[m.binding] ? { space: input.inventory.spaces[m.binding] } : {}),
    nodes: [...m.nodes],
    counts: m.counts(),
    ...coverageField(input.coverage?.get(m.binding)),
    ...(input.matrix === 'none' ? {} : { matrix: matrixOf(m, input.matrix, input.inventory.nodes.length) }),
  }));
  const reporting = nodes.filter((n) => n.state === 'reporting').length;
  const expected = input.inventory.nodes.length;
  return {
    verdict: input.verdict,
    generatedAt: new Date(input.now).toISOString(),
    profile: input.profile,
    summary: summaryLine(input.verdict, expected, reporting, input.findings, input.waiting, pinglistNote(input)),
    ...(input.verdict === 'pending' ? { waiting: input.waiting } : {}),
    expected,
    reporting,
    nodes,
    bindings,
    findings: input.findings,
    ...(input.pinglist ? { pinglist: { ...input.pinglist } } : {}),
    cellStates: cellStateList,
    lldp: lldpSummary(input.nodes.map(({ record: r, state }) => ({ name: r.name, state, expected: true, ...(r.hello ? { hello: r.hello } : {}) }))),
  };
}

/** The nodes' entries: an unchanged node's is the object of its last report (lastEntry). */
function reportNodes(input: ReportInput, inv: ReadonlyMap<string, Inventory['nodes'][number]>): ReportNode[] {
  const medians = input.matrices.map((m) => [m.binding, senderMedians(input.bandwidth?.pairs(m.binding) ?? [])] as const);
  const bandwidthOf = (node: string) => {
    let out: Record<string, number> | undefined;
    for (const [b, m] of medians) if (m.has(node)) (out ??= {})[b] = Math.round(m.get(node)! * 10) / 10;
    return out;
  };
  return input.nodes.map(({ record: r, state, lastRound = r.lastRound }) => {
    const node = inv.get(r.name);
    const bw = bandwidthOf(r.name);
    const bwKey = bw ? JSON.stringify(bw) : '';
    const last = lastEntry.get(r);
    if (
      last &&
      last.state === state &&
      last.hello === r.hello &&
      last.node === node &&
      last.offset === r.clock?.offsetMs &&
      last.rounds === r.fullRounds &&
      last.lastRound === lastRound &&
      last.lastMs === r.lastDurationMs &&
      last.bw === bwKey
    ) {
      return last.entry;
    }
    const { bindings, responderProblems } = helloParts(node, r.hello);
    const entry: ReportNode = {
      name: r.name,
      state,
      ...(r.hello ? { hostname: r.hello.hostname, agentVersion: r.hello.agentVersion, icmp: r.hello.icmp } : {}),
      ...(r.clock ? { clockOffsetMs: r.clock.offsetMs } : {}),
      rounds: r.fullRounds,
      ...(lastRound >= 0 ? { lastRound } : {}),
      ...(r.fullRounds > 0 ? { lastRoundMs: Math.round(r.lastDurationMs) } : {}),
      bindings,
      responderProblems,
      ...(r.hello?.links ? { links: r.hello.links } : {}),
      ...(r.hello?.lldp ? { lldp: r.hello.lldp } : {}),
      ...(bw ? { bandwidthMbps: bw } : {}),
    };
    lastEntry.set(r, { state, hello: r.hello, node, offset: r.clock?.offsetMs, rounds: r.fullRounds, lastRound, lastMs: r.lastDurationMs, bw: bwKey, entry });
    return entry;
  });
}

/**
 * Each node's entry in its last report, with what it was built from: the next report takes the same object while
 * none of it changed (most nodes between two snapshots half a second apart), so its JSON is written once too
 * (report-bytes.ts). Entries are shared by reports: read-only.
 */
const lastEntry = new WeakMap<
  NodeRecord,
  {
    state: NodeState;
    hello: NodeRecord['hello'];
    node: object | undefined;
    offset: number | undefined;
    rounds: number;
    lastRound: number;
    lastMs: number;
    bw: string;
    entry: ReportNode;
  }
>();

type HelloParts = Pick<ReportNode, 'bindings' | 'responderProblems'>;
const noHello = {};
/**
 * A node's addresses with the interface and MTU its agent found, and its responders that could not listen: built
 * once per hello and inventory entry, not once per snapshot (1,000 nodes x 6 bindings is ~13,000 objects, rebuilt
 * up to once a second). Shared by the reports that use them: read-only.
 */
const partsCache = new WeakMap<object, WeakMap<object, HelloParts>>();
function helloParts(node: Inventory['nodes'][number] | undefined, hello: NodeRecord['hello']): HelloParts {
  let byHello = partsCache.get(node ?? noHello);
  if (!byHello) partsCache.set(node ?? noHello, (byHello = new WeakMap()));
  let parts = byHello.get(hello ?? noHello);
  if (parts) return parts;
  const bindings: ReportNode['bindings'] = {};
  const seen: InterfaceInfo[] = hello?.interfaces ?? [];
  for (const [b, addrs] of Object.entries(node?.addresses ?? {})) {
    bindings[b] = addrs.map((a) => {
      const i = seen.find((x) => x.binding === b && x.address === a);
      return { address: a, iface: i?.iface ?? null, mtu: i?.mtu ?? null };
    });
  }
  parts = { bindings, responderProblems: (hello?.responders ?? []).filter((x) => x.state !== 'listening') };
  byHello.set(hello ?? noHello, parts);
  return parts;
}

const coverageField = (c: Coverage | undefined) => (c ? { coverage: { ratio: reportRatio(c), covered: c.covered, pairs: c.pairs } } : {});

/** With a pinglist that has not covered every pair yet: "coverage 43% of pairs (pinglist: full coverage every 10 rounds)". */
function pinglistNote(input: ReportInput): string | undefined {
  if (!input.pinglist || !input.coverage) return undefined;
  const all = totalCoverage([...input.coverage.values()]);
  return all.covered < all.pairs ? coverageText(all, input.pinglist.rounds) : undefined;
}

/** Small fleets' run-length rows carry the RTTs as well (the page shades ok cells by them), as the default does. */
const RUNS_RTT_MAX_NODES = 100;

function matrixOf(m: BindingMatrix, detail: Exclude<MatrixDetail, 'none'>, nodes: number): NonNullable<ReportBinding['matrix']> {
  if (detail === 'runs') return { legend, states: [], runs: m.encodedRows(runLength), ...(nodes <= RUNS_RTT_MAX_NODES ? { rttP99Ms: m.rttRows() } : {}) };
  return { legend, states: m.stateRows(), ...(detail === 'full' ? { rttP99Ms: m.rttRows() } : {}) };
}

/** "ooo-oo" -> "o3-o2". */
export function runLength(row: string): string {
  let out = '';
  for (let i = 0; i < row.length; ) {
    let j = i + 1;
    while (j < row.length && row.charCodeAt(j) === row.charCodeAt(i)) j++;
    out += j - i > 1 ? `${row[i]}${j - i}` : row[i];
    i = j;
  }
  return out;
}

export function summaryLine(verdict: Verdict, expected: number, reporting: number, findings: Finding[], waiting: Waiting, coverage?: string): string {
  const errors = findings.filter((f) => f.severity === 'error');
  const first = errors[0] ?? findings[0];
  switch (verdict) {
    case 'ready':
      return `ready: ${reporting}/${expected} nodes reporting, every pair reachable`;
    case 'pending': {
      // Say what it waits for: a finding seen while agents start (a port refused before its responder
      // opened) is often what the wait is about to clear, not the reason.
      const parts = [
        waiting.connect.length ? `${waiting.connect.length} agent(s) to connect (${list(waiting.connect)})` : '',
        waiting.firstRound.length ? `the first round of ${list(waiting.firstRound)}` : '',
        waiting.remeasure.length ? `new measurements toward ${list(waiting.remeasure)}, which came up since` : '',
        waiting.heard.length ? `word from ${list(waiting.heard)}, whose ports began to fail after its agent was last heard` : '',
        coverage ?? '',
      ].filter(Boolean);
      return `pending: ${reporting}/${expected} nodes reporting; waiting for ${parts.join('; ')}`;
    }
    case 'degraded':
      return `degraded: ${findings.length} warning(s); ${first?.summary ?? ''}`;
    case 'not-ready':
      return `not ready: ${errors.length} problem(s); ${first?.summary ?? ''}${coverage ? `; ${coverage}` : ''}`;
  }
}

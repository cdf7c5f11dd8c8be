// The report contract (GET /api/v1/report). Other tools and tests rely on these names: extend, never rename.
// Pure: built from the state's parts.
import type { Inventory } from '../agent/inventory.js';
import type { InterfaceInfo, ResponderInfo } from '../agent/wire.js';
import { cellStates, type BindingMatrix, type CellState } from './matrix.js';
import type { Finding } from './findings.js';
import type { NodeRecord, NodeState } from './nodes.js';
import type { Verdict } from './verdict.js';

export interface ReportNode {
  name: string;
  state: NodeState;
  hostname?: string;
  agentVersion?: string;
  icmp?: 'available' | 'not-measured';
  clockOffsetMs?: number;
  rounds: number;
  /** binding -> this node's addresses, with the interface and MTU the agent found for each. */
  bindings: Record<string, { address: string; iface: string | null; mtu: number | null }[]>;
  /** Responders that could not listen (port in use, permission). */
  responderProblems: ResponderInfo[];
}

export interface ReportBinding {
  name: string;
  space?: string;
  /** Matrix order: row i / column j of `matrix.states` is nodes[i] -> nodes[j]. */
  nodes: string[];
  counts: Record<CellState, number>;
  matrix?: {
    /** Legend for the characters of `states`. */
    legend: Record<string, CellState>;
    states: string[];
    /** ICMP RTT p99 per pair in ms (only with ?matrix=full). */
    rttP99Ms?: (number | null)[][];
  };
}

export interface Report {
  verdict: Verdict;
  generatedAt: string;
  profile: string;
  summary: string;
  expected: number;
  reporting: number;
  nodes: ReportNode[];
  bindings: ReportBinding[];
  findings: Finding[];
}

export type MatrixDetail = 'none' | 'states' | 'full';

export interface ReportInput {
  inventory: Inventory;
  profile: string;
  verdict: Verdict;
  findings: Finding[];
  nodes: { record: NodeRecord; state: NodeState }[];
  matrices: BindingMatrix[];
  now: number;
  matrix: MatrixDetail;
}

const legend = Object.fromEntries(Object.entries(cellStates).map(([k, v]) => [v, k as CellState]));

export function buildReport(input: ReportInput): Report {
  const inv = new Map(input.inventory.nodes.map((n) => [n.name, n]));
  const nodes: ReportNode[] = input.nodes.map(({ record: r, state }) => {
    const bindings: ReportNode['bindings'] = {};
    const seen: InterfaceInfo[] = r.hello?.interfaces ?? [];
    const declared = inv.get(r.name)?.addresses ?? {};
    for (const [b, addrs] of Object.entries(declared)) {
      bindings[b] = addrs.map((a) => {
        const i = seen.find((x) => x.binding === b && x.address === a);
        return { address: a, iface: i?.iface ?? null, mtu: i?.mtu ?? null };
      });
    }
    return {
      name: r.name,
      state,
      ...(r.hello ? { hostname: r.hello.hostname, agentVersion: r.hello.agentVersion, icmp: r.hello.icmp } : {}),
      ...(r.clock ? { clockOffsetMs: r.clock.offsetMs } : {}),
      rounds: r.fullRounds,
      bindings,
      responderProblems: (r.hello?.responders ?? []).filter((x) => x.state !== 'listening'),
    };
  });
  const bindings: ReportBinding[] = input.matrices.map((m) => ({
    name: m.binding,
    ...(input.inventory.spaces[m.binding] ? { space: input.inventory.spaces[m.binding] } : {}),
    nodes: [...m.nodes],
    counts: m.counts(),
    ...(input.matrix === 'none'
      ? {}
      : { matrix: { legend, states: m.stateRows(), ...(input.matrix === 'full' ? { rttP99Ms: m.rttRows() } : {}) } }),
  }));
  const reporting = nodes.filter((n) => n.state === 'reporting').length;
  const expected = input.inventory.nodes.length;
  return {
    verdict: input.verdict,
    generatedAt: new Date(input.now).toISOString(),
    profile: input.profile,
    summary: summaryLine(input.verdict, expected, reporting, input.findings),
    expected,
    reporting,
    nodes,
    bindings,
    findings: input.findings,
  };
}

export function summaryLine(verdict: Verdict, expected: number, reporting: number, findings: Finding[]): string {
  const errors = findings.filter((f) => f.severity === 'error');
  const first = errors[0] ?? findings[0];
  switch (verdict) {
    case 'ready':
      return `ready: ${reporting}/${expected} nodes reporting, every pair reachable`;
    case 'pending':
      return `pending: ${reporting}/${expected} nodes reporting${first ? `; ${first.summary}` : ''}`;
    case 'degraded':
      return `degraded: ${findings.length} warning(s); ${first?.summary ?? ''}`;
    case 'not-ready':
      return `not ready: ${errors.length} problem(s); ${first?.summary ?? ''}`;
  }
}

// Turns the matrix and the node table into findings, collapsed: one finding per cause, never one per pair.
// Pure. (The OpenStack-aware root-cause rules build on this seam.)
import type { Inventory } from '../agent/inventory.js';
import type { Finding, Evidence } from './findings.js';
import { MAX_EVIDENCE } from './findings.js';
import type { BindingMatrix, CellState, CellView } from './matrix.js';
import type { NodeState } from './nodes.js';
import type { Profile } from './profile.js';

export interface DiagnosisInput {
  inventory: Inventory;
  profile: Profile;
  nodes: { name: string; state: NodeState; expected: boolean }[];
  matrices: BindingMatrix[];
}

const kindOf: Partial<Record<CellState, { kind: string; what: string }>> = {
  unreachable: { kind: 'unreachable', what: 'cannot reach' },
  mtu: { kind: 'mtu-mismatch', what: 'full-size DF packets fail between' },
  port: { kind: 'port-failed', what: 'TCP ports fail between' },
  udp: { kind: 'udp-blocked', what: 'UDP does not get through between' },
  loss: { kind: 'loss', what: 'packets are lost between' },
};

export function describeCell(c: CellView): string {
  const parts: string[] = [];
  for (const r of c.rows ?? []) {
    const bits: string[] = [];
    if (r.icmp && r.icmp.outcome !== 'ok') bits.push(`icmp ${r.icmp.recv}/${r.icmp.sent} ${r.icmp.outcome}`);
    const badTcp = Object.entries(r.tcp ?? {}).filter(([, o]) => o !== 'ok');
    if (badTcp.length) bits.push(`tcp ${badTcp.map(([p, o]) => `${p} ${o}`).join(', ')}`);
    const badUdp = Object.entries(r.udp ?? {}).filter(([, o]) => o !== 'ok');
    if (badUdp.length) bits.push(`udp ${badUdp.map(([p, o]) => `${p} ${o}`).join(', ')}`);
    if (r.mtu && r.mtu.outcome !== 'ok') bits.push(`mtu ${r.mtu.size} ${r.mtu.outcome}`);
    if (bits.length) parts.push(`${r.addr}: ${bits.join('; ')}`);
  }
  return parts.join(' | ') || c.state;
}

export function diagnose(input: DiagnosisInput): Finding[] {
  const findings: Finding[] = [];
  const missing = input.nodes.filter((n) => n.expected && n.state === 'missing').map((n) => n.name);
  if (missing.length) {
    findings.push({
      severity: 'error',
      kind: 'agent-missing',
      nodes: missing,
      summary: `${missing.length} agent(s) not connected: ${list(missing)}`,
      hint: 'check that the agent runs on these nodes and can reach the aggregator',
    });
  }
  const stale = input.nodes.filter((n) => n.state === 'stale').map((n) => n.name);
  if (stale.length) {
    findings.push({
      severity: 'error',
      kind: 'agent-stale',
      nodes: stale,
      summary: `${stale.length} agent(s) connected but not reporting: ${list(stale)}`,
      hint: 'the agent is alive but its probe rounds do not finish; check its log and load',
    });
  }
  const absent = new Set(missing);
  for (const m of input.matrices) {
    const groups = new Map<string, { nodes: Set<string>; evidence: Evidence[]; pairs: number }>();
    for (const c of m.problems()) {
      // Probes towards an absent agent's ports fail by construction; agent-missing already says so.
      if (absent.has(c.to) || absent.has(c.from)) continue;
      const k = kindOf[c.state];
      if (!k) continue;
      const g = groups.get(k.kind) ?? { nodes: new Set(), evidence: [], pairs: 0 };
      groups.set(k.kind, g);
      g.nodes.add(c.from).add(c.to);
      g.pairs++;
      if (g.evidence.length < MAX_EVIDENCE) g.evidence.push({ from: c.from, to: c.to, detail: describeCell(c) });
    }
    for (const [kind, g] of groups) {
      const nodes = [...g.nodes].sort();
      const what = Object.values(kindOf).find((x) => x?.kind === kind)!.what;
      findings.push({
        severity: 'error',
        kind,
        binding: m.binding,
        nodes,
        summary: `${m.binding}: ${what} ${g.pairs} pair(s) among ${list(nodes)}`,
        evidence: g.evidence,
      });
    }
  }
  return findings;
}

function list(names: string[], max = 6): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

// Turns the matrices, the node table and the profile's conditions into findings with a root cause:
// one finding per cause, never one per pair, naming only the nodes at fault. The steps, in order:
// the agents (missing, stale, stalled), the addresses nodes no longer hold, then per binding and address
// family reachability as a graph, the pair conditions and the MTUs (diagnosis-binding.ts), then DNS and
// clocks. What an earlier step explains (a silent agent's ports, a vanished address's pairs, an isolated
// node's ports) is not blamed again by a later one. Pure.
import type { Inventory } from '../agent/contract/inventory.js';
import type { DnsCheck, HelloMsg, TargetRow } from '../agent/contract/wire.js';
import { compare, evaluateCompare, formatValue, type Condition, type ConditionResult } from './conditions.js';
import { bindingFindings } from './diagnosis-binding.js';
import { list, sortNodes, worst } from './diagnosis-util.js';
import type { RowFilter } from './diagnosis-view.js';
import { addressFamilies, familyOf, familyText, findingKinds, MAX_EVIDENCE, type Family, type Finding, type Severity } from './findings.js';
import type { BindingMatrix, CellView } from './matrix.js';
import type { NodeState } from './nodes.js';
import { attributeToSwitches, linkFindings } from './link-diagnosis.js';
import { bandwidthFindings, type BandwidthTable } from './bandwidth-diagnosis.js';
import { requirementFor, type Profile } from './profile.js';
import { describeRows } from './diagnosis-util.js';

export { blame, list } from './diagnosis-util.js';
export { findingKinds, type FindingKind } from './findings.js';

export interface DiagnosisNode {
  name: string;
  state: NodeState;
  expected: boolean;
  hello?: HelloMsg;
  clock?: { offsetMs: number; rttMs: number };
  /** Missing, but still within the start-up grace: the verdict waits for it, it is not (yet) a fault. */
  starting?: boolean;
  /** When the aggregator last heard anything from this agent (ms). Without it the agent counts as alive. */
  lastSeenAt?: number;
}

export interface DiagnosisInput {
  inventory: Inventory;
  profile: Profile;
  nodes: DiagnosisNode[];
  matrices: BindingMatrix[];
  /** The last bandwidth sample of each pair (bandwidth-diagnosis.ts). */
  bandwidth?: BandwidthTable;
  /**
   * Filled in: nodes toward which port results were held back because the node was not heard from since they
   * began failing. The verdict waits for their next word rather than read as ready while it hides them.
   */
  heldBack?: Set<string>;
}

export function describeCell(c: CellView): string {
  return describeRows(c.rows ?? [], c.state);
}

interface Ctx {
  input: DiagnosisInput;
  byName: Map<string, DiagnosisNode>;
  /** Nodes whose agents are not connected: their pairs mean nothing. */
  absent: Set<string>;
  /** `node\0binding\0family` for each family a node no longer holds any address of on a binding. */
  lostFamily: Set<string>;
  /** Inventory addresses whose node says it does not hold them. */
  lostAddress: Set<string>;
}

export function diagnose(input: DiagnosisInput): Finding[] {
  const byName = new Map(input.nodes.map((n) => [n.name, n]));
  const absent = new Set(input.nodes.filter((n) => n.state === 'missing').map((n) => n.name));
  const ctx: Ctx = { input, byName, absent, lostFamily: new Set(), lostAddress: new Set() };
  const findings = [...agentFindings(input.nodes), ...addressFindings(ctx)];
  const filter = rowFilter(ctx);
  for (const m of input.matrices) {
    const present = m.nodes.filter((n) => !absent.has(n));
    findings.push(
      ...bindingFindings({
        m,
        req: requirementFor(input.profile, m.binding),
        present,
        hello: (n) => byName.get(n)?.hello,
        families: familiesOf(input.inventory, m.binding),
        filter,
      }),
    );
  }
  findings.push(...dnsFindings(ctx), ...clockFindings(ctx), ...linkFindings(input));
  const reporting = new Set(input.nodes.filter((n) => n.state !== 'missing').map((n) => n.name));
  findings.push(
    ...bandwidthFindings(
      input.profile,
      input.matrices.map((m) => m.binding),
      input.bandwidth,
      reporting,
    ),
  );
  const order = new Map(findingKinds.map((k, i) => [k as string, i]));
  return attributeToSwitches(findings, input).sort(
    (a, b) =>
      (order.get(a.kind) ?? 99) - (order.get(b.kind) ?? 99) ||
      (a.binding ?? '').localeCompare(b.binding ?? '') ||
      (a.family ?? '').localeCompare(b.family ?? ''),
  );
}

const familiesOf = addressFamilies;

/** Agents not connected past the grace, connected but silent, or alive without rounds: one finding each. */
function agentFindings(nodes: DiagnosisNode[]): Finding[] {
  const out: Finding[] = [];
  const missing = nodes.filter((n) => n.expected && n.state === 'missing' && !n.starting).map((n) => n.name);
  if (missing.length)
    out.push({
      severity: 'error',
      kind: 'agent-missing',
      nodes: missing,
      summary: `${missing.length} agent(s) not connected: ${list(missing)}`,
      hint: 'check that the agent runs on these nodes and can reach the aggregator',
    });
  const stale = nodes.filter((n) => n.state === 'stale').map((n) => n.name);
  if (stale.length)
    out.push({
      severity: 'error',
      kind: 'agent-stale',
      nodes: stale,
      summary: `${stale.length} agent(s) connected but silent (no heartbeat, no round): ${list(stale)}`,
      hint: 'the connection is open but the agent says nothing: the process is stopped or hung, or its machine is overloaded; its ports are not held against the network meanwhile',
    });
  const stalled = nodes.filter((n) => n.state === 'stalled').map((n) => n.name);
  if (stalled.length)
    out.push({
      severity: 'error',
      kind: 'agent-stalled',
      nodes: stalled,
      summary: `${stalled.length} agent(s) alive but not probing (heartbeats, no rounds): ${list(stalled)}`,
      hint: "the agent answers but its probe rounds do not finish: check its log (pinger agent) and the machine's load",
    });
  return out;
}

/** Inventory addresses a node's own interface facts no longer show: its pairs on that address are explained. */
function addressFindings(ctx: Ctx): Finding[] {
  const lost: { node: string; binding: string; address: string; family: Family }[] = [];
  for (const n of ctx.input.nodes) {
    if (ctx.absent.has(n.name) || !n.hello) continue;
    const held = (b: string, fam: Family) => n.hello!.interfaces.some((i) => i.binding === b && i.iface !== null && familyOf(i.address) === fam);
    for (const i of n.hello.interfaces) {
      // Gone with its link (IPv6 leaves an admin-down interface): the link is the cause, reachability says so.
      if (i.iface !== null || i.link === 'down') continue;
      const family = familyOf(i.address);
      lost.push({ node: n.name, binding: i.binding, address: i.address, family });
      ctx.lostAddress.add(i.address);
      if (!held(i.binding, family)) ctx.lostFamily.add(`${n.name}\u0000${i.binding}\u0000${family}`);
    }
  }
  if (!lost.length) return [];
  const nodes = sortNodes(lost.map((l) => l.node));
  const bindings = [...new Set(lost.map((l) => l.binding))];
  const fams = [...new Set(lost.map((l) => l.family))];
  const l0 = lost[0]!;
  // Named like the pair findings: "internal IPv6: ..." on a dual-stack binding, "internal: ..." otherwise.
  const dual = bindings.length === 1 && familiesOf(ctx.input.inventory, bindings[0]!).length > 1;
  const where = bindings.length === 1 ? `${bindings[0]}${dual && fams.length === 1 ? familyText(fams[0]) : ''}: ` : '';
  return [
    {
      severity: 'error',
      kind: 'address-missing',
      ...(bindings.length === 1 ? { binding: bindings[0]! } : {}),
      ...(fams.length === 1 ? { family: fams[0]! } : {}),
      nodes,
      summary: `${where}${lost.length} inventory address(es) not held by their node: ${lost
        .slice(0, 4)
        .map((l) => `${l.node} ${l.address}${bindings.length === 1 ? '' : ` (${l.binding})`}`)
        .join(', ')}${lost.length > 4 ? ' ...' : ''}`,
      hint: `${l0.node} has no interface with ${l0.address} any more (its agent looks every round): put the address back (netplan, MAAS) or fix the inventory; peers cannot reach it there meanwhile`,
      evidence: lost.slice(0, MAX_EVIDENCE).map((l) => ({ from: l.node, to: l.node, detail: `${l.binding}: ${l.address} on no interface` })),
    },
  ];
}

/**
 * What of a row another finding explains: rows to an address its node lost, or from a node that lost its
 * every address of the row's family on the binding; and the port results towards an agent not heard from
 * since they began to fail (its responders are its process: a stopped agent is not a firewall).
 */
function rowFilter(ctx: Ctx): RowFilter {
  // Runs for every row of every pair that is not ok: the common case (nothing lost) costs two lookups.
  const lost = ctx.lostAddress.size > 0;
  return (binding, from, to, row, since) => {
    if (lost && (ctx.lostAddress.has(row.addr) || ctx.lostFamily.has(`${from}\u0000${binding}\u0000${familyOf(row.addr)}`))) return undefined;
    const seen = ctx.byName.get(to)?.lastSeenAt;
    // `since` is when the failure was first measured, not this round: measured again every round, a failure would
    // otherwise hide until its node's next word each round, and the verdict flap. It is to the second: an agent
    // heard within that second may predate the failure; wait for the next word.
    if (seen !== undefined && seen < since + 1000 && (row.tcp || row.udp) && !portsOk(row)) {
      ctx.input.heldBack?.add(to);
      const { tcp: _t, udp: _u, ...rest } = row;
      return rest as TargetRow;
    }
    return row;
  };
}

/** No port of the row failed: nothing of it to hold back. */
const portsOk = (row: TargetRow): boolean => {
  for (const o of Object.values(row.tcp ?? {})) if (o !== 'ok' && o !== 'not-measured') return false;
  for (const o of Object.values(row.udp ?? {})) if (o !== 'ok' && o !== 'not-measured') return false;
  return true;
};

/** DNS of each binding address (where the binding asks for it) and of each node's hostname. */
function dnsFindings(ctx: Ctx): Finding[] {
  const { input } = ctx;
  const present = input.nodes.filter((n) => !ctx.absent.has(n.name));
  const dnsBad: { node: string; check: DnsCheck; severity: Severity }[] = [];
  // One pass over the answers, asking the profile only about failed ones (nearly all are fine): ~7,000 a rebuild at 1,000 nodes.
  const hostDns = input.profile.node.find((c) => c.type === 'dns');
  const bindingDns = (b: string | undefined) => (b === undefined ? undefined : requirementFor(input.profile, b).conditions.find((c) => c.type === 'dns'));
  for (const n of present)
    for (const d of n.hello?.dns ?? []) {
      if (d.ok) continue;
      const cond = d.kind === 'hostname' ? hostDns : input.inventory.bindings.includes(d.binding ?? '') ? bindingDns(d.binding) : undefined;
      if (cond) dnsBad.push({ node: n.name, check: d, severity: cond.severity });
    }
  if (!dnsBad.length) return [];
  // Binding by binding in inventory order, hostnames last (a stable sort keeps the nodes' order within each).
  const rank = (d: DnsCheck) => (d.kind === 'hostname' ? Number.MAX_SAFE_INTEGER : input.inventory.bindings.indexOf(d.binding ?? ''));
  dnsBad.sort((a, b) => rank(a.check) - rank(b.check));
  const nodes = sortNodes(dnsBad.map((d) => d.node));
  const bindings = [...new Set(dnsBad.map((d) => d.check.binding).filter(Boolean))];
  const first = dnsBad[0]!;
  return [
    {
      severity: worst(dnsBad),
      kind: 'dns-mismatch',
      ...(bindings.length === 1 && dnsBad.every((d) => d.check.binding) ? { binding: bindings[0]! } : {}),
      nodes,
      summary: `forward and reverse DNS disagree for ${dnsBad.length} name(s)/address(es) on ${list(nodes)}`,
      hint: `${first.node}: ${dnsText(first.check)}; RabbitMQ clustering needs names that resolve both ways: fix the records in MAAS DNS`,
      evidence: dnsBad.slice(0, MAX_EVIDENCE).map((d) => ({ from: d.node, to: d.node, detail: dnsText(d.check) })),
    },
  ];
}

const clockCondition = (profile: Profile) =>
  profile.node.find((c): c is Extract<Condition, { type: 'compare' }> => c.type === 'compare' && c.metric === 'clock_offset');

/** The exchange cannot tell offset from path asymmetry better than rtt/2: only a certain skew counts. */
const certainSkew = (clock: { offsetMs: number; rttMs: number }) => Math.max(0, Math.abs(clock.offsetMs) - clock.rttMs / 2);

/** Whether a node's clock estimate passes the profile's clock condition (true without one): what the findings read of it. */
export function clockPasses(profile: Profile, clock: { offsetMs: number; rttMs: number }): boolean {
  const cond = clockCondition(profile);
  if (!cond) return true;
  const certain = certainSkew(clock);
  return !Number.isNaN(certain) && compare(cond.op, certain, cond.value);
}

/** Clocks off the aggregator's by more than the profile allows, counting only what the exchange makes certain. */
function clockFindings(ctx: Ctx): Finding[] {
  const clockCond = clockCondition(ctx.input.profile);
  if (!clockCond) return [];
  const skewed: { node: string; r: ConditionResult; offsetMs: number }[] = [];
  for (const n of ctx.input.nodes) {
    if (!n.clock || ctx.absent.has(n.name)) continue;
    // The condition's words only for a node that fails it: every snapshot asks of every node.
    if (clockPasses(ctx.input.profile, n.clock)) continue;
    const r = evaluateCompare(clockCond, certainSkew(n.clock));
    if (r.passed === false) skewed.push({ node: n.name, r, offsetMs: n.clock.offsetMs });
  }
  if (!skewed.length) return [];
  const nodes = sortNodes(skewed.map((s) => s.node));
  const s0 = skewed[0]!;
  const off = (v: number) => `${v >= 0 ? '+' : '-'}${formatValue('clock_offset', Math.abs(v))}`;
  return [
    {
      severity: clockCond.severity,
      kind: 'clock-skew',
      nodes,
      summary: `clock off by more than ${formatValue('clock_offset', clockCond.value)} on ${list(nodes)}`,
      hint: `${s0.node}'s clock is ${off(s0.offsetMs)} from the aggregator's; the profile allows ${formatValue('clock_offset', clockCond.value)} (Ceph monitors tolerate 50ms): check chrony/NTP on ${list(nodes)}`,
      evidence: skewed.slice(0, MAX_EVIDENCE).map((s) => ({ from: s.node, to: 'aggregator', detail: `offset ${off(s.offsetMs)}; ${s.r.text}` })),
    },
  ];
}

function dnsText(d: DnsCheck): string {
  if (d.detail) return `${d.query}: ${d.detail}`;
  if (d.kind === 'address') return `${d.query} reverses to ${d.names.join(', ') || 'nothing'}, which resolves to ${d.addresses.join(', ') || 'nothing'}`;
  return `${d.query} resolves to ${d.addresses.join(', ') || 'nothing'}, which reverses to ${d.names.join(', ') || 'nothing'}`;
}

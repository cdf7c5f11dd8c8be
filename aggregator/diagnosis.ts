// Turns the matrices, the node table and the profile's conditions into findings with a root cause:
// one finding per cause, never one per pair. Reachability is analysed as a graph first (an isolated node,
// a partition, one-way paths), and pairs it explains are not blamed again for their ports, MTU or loss.
// Every other failure is grouped per binding and kind, and the nodes named are the few that explain most
// failing pairs (the node whose firewall drops 3306, not its twenty peers). Pure.
import type { Inventory } from '../agent/contract/inventory.js';
import type { Outcome } from '../agent/contract/probe.js';
import type { DnsCheck, HelloMsg } from '../agent/contract/wire.js';
import { evaluateCompare, formatValue, metrics, pairFailures, type Condition, type ConditionResult } from './conditions.js';
import type { Evidence, Finding, Severity } from './findings.js';
import { MAX_EVIDENCE } from './findings.js';
import type { BindingMatrix, CellView } from './matrix.js';
import type { NodeState } from './nodes.js';
import { requirementFor, type Profile } from './profile.js';

export interface DiagnosisNode {
  name: string;
  state: NodeState;
  expected: boolean;
  hello?: HelloMsg;
  clock?: { offsetMs: number; rttMs: number };
}

export interface DiagnosisInput {
  inventory: Inventory;
  profile: Profile;
  nodes: DiagnosisNode[];
  matrices: BindingMatrix[];
}

/** The finding kinds, in the order they are reported. The lab, report and metrics rely on these names. */
export const findingKinds = [
  'agent-missing',
  'agent-stale',
  'node-isolated',
  'partition',
  'asymmetric',
  'unreachable',
  'mtu-mismatch',
  'port-filtered',
  'port-refused',
  'port-in-use',
  'udp-blocked',
  'loss',
  'high-latency',
  'dns-mismatch',
  'clock-skew',
] as const;
export type FindingKind = (typeof findingKinds)[number];

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

interface Fail {
  from: string;
  to: string;
  detail: string;
  severity: Severity;
  ports?: number[];
}

const worst = (fs: { severity: Severity }[]): Severity => (fs.some((f) => f.severity === 'error') ? 'error' : 'warning');
const sortNodes = (a: Iterable<string>) => [...new Set(a)].sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
const evidenceOf = (fs: Fail[]): Evidence[] => fs.slice(0, MAX_EVIDENCE).map(({ from, to, detail }) => ({ from, to, detail }));

/**
 * The few nodes that explain most failing pairs: greedily the node in the most uncovered pairs; a pair whose
 * nodes fail nowhere else names both. When that names (nearly) every involved node, the binding itself is at
 * fault and every involved node is named.
 */
export function blame(pairs: readonly { from: string; to: string }[]): string[] {
  const involved = sortNodes(pairs.flatMap((p) => [p.from, p.to]));
  // A failure both ways between two nodes is one fault between them, not evidence against either.
  const undirected = new Map(pairs.map((p) => [[p.from, p.to].sort().join('\u0000'), p]));
  let left = [...undirected.values()];
  const out: string[] = [];
  while (left.length) {
    const count = new Map<string, number>();
    for (const p of left) for (const n of [p.from, p.to]) count.set(n, (count.get(n) ?? 0) + 1);
    let best = '';
    let max = 0;
    for (const n of involved) if ((count.get(n) ?? 0) > max) [best, max] = [n, count.get(n)!];
    if (max <= 1) {
      for (const p of left) out.push(p.from, p.to);
      break;
    }
    out.push(best);
    left = left.filter((p) => p.from !== best && p.to !== best);
  }
  const named = sortNodes(out);
  return involved.length > 2 && named.length >= involved.length - 1 ? involved : named;
}

/** Names for a summary line: the first few, then how many more. */
export function list(names: string[], max = 6): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/** Reachability on one binding among the nodes that report: isolated nodes, partitions, one-way paths. */
function reachability(m: BindingMatrix, present: string[], cells: Map<string, CellView>, severity: Severity): { findings: Finding[]; explained: Set<string> } {
  const key = (a: string, b: string) => `${a}\u0000${b}`;
  const st = (a: string, b: string) => m.cell(a, b)?.state ?? 'none';
  const bad = (a: string, b: string) => st(a, b) === 'unreachable';
  const through = (a: string, b: string) => !['unreachable', 'none', 'self'].includes(st(a, b));
  const findings: Finding[] = [];
  const explained = new Set<string>();
  const detail = (a: string, b: string) => {
    const c = cells.get(key(a, b));
    return c ? describeCell(c) : 'unreachable';
  };
  const ev = (pairs: [string, string][]): Evidence[] => pairs.slice(0, MAX_EVIDENCE).map(([from, to]) => ({ from, to, detail: detail(from, to) }));

  // Only failing pairs can start a finding: a healthy 1,000-node binding costs no N x N walk.
  const presentSet = new Set(present);
  const badPairs: [string, string][] = [];
  for (const c of cells.values()) if (c.state === 'unreachable' && presentSet.has(c.from) && presentSet.has(c.to)) badPairs.push([c.from, c.to]);
  if (!badPairs.length) return { findings, explained };

  // Isolated: nothing gets through in either direction between the node and any peer.
  const isolated: string[] = [];
  if (present.length >= 3) {
    for (const x of sortNodes(badPairs.flat())) {
      const peers = present.filter((p) => p !== x);
      const inBad = peers.filter((p) => bad(p, x)).length;
      const outBad = peers.filter((p) => bad(x, p)).length;
      const anyThrough = peers.some((p) => through(p, x) || through(x, p));
      if (!anyThrough && inBad + outBad > 0 && inBad + outBad >= peers.length) isolated.push(x);
    }
  }
  if (isolated.length) {
    const pairs: [string, string][] = [];
    for (const x of isolated)
      for (const p of present) {
        if (p === x) continue;
        for (const [a, b] of [[p, x], [x, p]] as [string, string][]) {
          if (!explained.has(key(a, b)) && bad(a, b)) {
            explained.add(key(a, b));
            pairs.push([a, b]);
          }
        }
      }
    const all = isolated.length === present.length;
    findings.push({
      severity,
      kind: 'node-isolated',
      binding: m.binding,
      nodes: sortNodes(isolated),
      summary: all
        ? `${m.binding}: no node reaches any other (${isolated.length} nodes)`
        : `${m.binding}: ${list(sortNodes(isolated))} ${isolated.length === 1 ? 'is' : 'are'} unreachable from every peer`,
      hint: all
        ? `nothing gets through on ${m.binding}: check that its VLAN exists on the switches and the addresses are in the right subnet`
        : `${list(sortNodes(isolated))}'s ${m.binding} interface reaches no peer and no peer reaches it: check its link, switch port, VLAN and address`,
      evidence: ev(pairs),
    });
  }

  // Partition: among the rest, groups that reach each other inside and nothing across.
  const rest = present.filter((x) => !isolated.includes(x));
  const restBad = badPairs.filter(([a, b]) => !explained.has(key(a, b)));
  if (!restBad.length) return { findings, explained };
  const group = new Map<string, number>();
  let groups = 0;
  for (const s of rest) {
    if (group.has(s)) continue;
    const q = [s];
    group.set(s, groups);
    while (q.length) {
      const a = q.pop()!;
      for (const b of rest) if (!group.has(b) && (through(a, b) || through(b, a))) (group.set(b, groups), q.push(b));
    }
    groups++;
  }
  if (groups > 1) {
    const members: string[][] = Array.from({ length: groups }, () => []);
    for (const x of rest) members[group.get(x)!]!.push(x);
    const sorted = members.map(sortNodes).sort((a, b) => b.length - a.length || a[0]!.localeCompare(b[0]!));
    const pairs: [string, string][] = [];
    for (const [a, b] of restBad)
      if (group.get(a) !== group.get(b)) {
        explained.add(key(a, b));
        pairs.push([a, b]);
      }
    findings.push({
      severity,
      kind: 'partition',
      binding: m.binding,
      nodes: sortNodes(rest),
      groups: sorted,
      summary: `${m.binding}: split into ${groups} groups that do not reach each other: ${sorted.map((g) => `[${list(g, 4)}]`).join(' | ')}`,
      hint: `each group works inside but not across: check the routing or VLAN trunking between the groups' switches on ${m.binding}`,
      evidence: ev(pairs),
    });
  }

  // One way: a reaches b, b does not reach a.
  const oneWay: [string, string][] = [];
  for (const [b, a] of restBad) if (!explained.has(key(b, a)) && through(a, b)) oneWay.push([b, a]);
  if (oneWay.length) {
    for (const [a, b] of oneWay) explained.add(key(a, b));
    const nodes = blame(oneWay.map(([from, to]) => ({ from, to })));
    findings.push({
      severity,
      kind: 'asymmetric',
      binding: m.binding,
      nodes,
      summary: `${m.binding}: ${oneWay.length} pair(s) work in one direction only, around ${list(nodes)}`,
      hint: `${list(nodes)} ${nodes.length === 1 ? 'is' : 'are'} reachable one way only on ${m.binding}: check firewall rules that allow only one direction and the return route`,
      evidence: ev(oneWay),
    });
  }

  // Whatever is left: pairs that fail both ways while their nodes reach others.
  const leftover = restBad.filter(([a, b]) => !explained.has(key(a, b)));
  if (leftover.length) {
    for (const [a, b] of leftover) explained.add(key(a, b));
    const nodes = blame(leftover.map(([from, to]) => ({ from, to })));
    findings.push({
      severity,
      kind: 'unreachable',
      binding: m.binding,
      nodes,
      summary: `${m.binding}: ${leftover.length} pair(s) cannot reach each other, around ${list(nodes)}`,
      hint: `these nodes reach other peers but not each other: check the routes between their subnets on ${m.binding}`,
      evidence: ev(leftover),
    });
  }
  return { findings, explained };
}

/** The interface MTUs of one binding: the nodes below the profile's MTU, or else the odd ones out. */
function interfaceMtus(binding: string, nodes: DiagnosisNode[], required: number | undefined): { odd: { node: string; iface: string | null; mtu: number }[]; usual?: number } {
  const seen: { node: string; iface: string | null; mtu: number }[] = [];
  for (const n of nodes)
    for (const i of n.hello?.interfaces ?? []) if (i.binding === binding && i.mtu !== null) seen.push({ node: n.name, iface: i.iface, mtu: i.mtu });
  if (required !== undefined) return { odd: seen.filter((s) => s.mtu < required), usual: required };
  const freq = new Map<number, number>();
  for (const s of seen) freq.set(s.mtu, (freq.get(s.mtu) ?? 0) + 1);
  if (freq.size < 2) return { odd: [] };
  const usual = [...freq].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]![0];
  return { odd: seen.filter((s) => s.mtu !== usual), usual };
}

const portHints: Record<string, (proto: string, ports: string, nodes: string, b: string) => string> = {
  'port-filtered': (p, ports, n, b) => `${p.toUpperCase()} ${ports} towards ${n} gets no answer on ${b} while ping works: a firewall on ${n} or on the path drops it`,
  'port-refused': (p, ports, n, b) => `${p.toUpperCase()} ${ports} on ${n} (${b}) is refused: nothing listens there (is the Pinger agent's responder up?) or a firewall rejects it`,
  'port-in-use': (p, ports, n, b) => `${p.toUpperCase()} ${ports} on ${n} (${b}) is held by another process that does not answer peers: stop it before deploying, or check that it is the service meant to be there`,
  'udp-blocked': (p, ports, n, b) => `UDP ${ports} echoes from ${n} do not come back on ${b} while ping works: a firewall drops UDP ${ports} (Geneve needs 6081/udp between every chassis)`,
};

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
  const byName = new Map(input.nodes.map((n) => [n.name, n]));
  const dnsBad: { node: string; check: DnsCheck; severity: Severity }[] = [];

  for (const m of input.matrices) {
    const req = requirementFor(input.profile, m.binding);
    const present = m.nodes.filter((n) => !absent.has(n) && byName.get(n)?.state !== 'missing');
    const presentNodes = present.map((n) => byName.get(n)).filter((n): n is DiagnosisNode => !!n);
    const cells = new Map<string, CellView>();
    for (const c of m.detailed()) if (!absent.has(c.from) && !absent.has(c.to)) cells.set(`${c.from}\u0000${c.to}`, c);

    // Reachability is always required: without it no condition means anything.
    const reach = reachability(m, present, cells, 'error');
    findings.push(...reach.findings);

    const groups = new Map<string, Fail[]>();
    const add = (kind: string, f: Fail) => (groups.get(kind) ?? groups.set(kind, []).get(kind)!).push(f);
    const mtuCond = req.conditions.find((c) => c.type === 'compare' && c.metric === 'mtu');
    // Per node, its ports held by another process ("tcp 3306"): one lookup per failing port, not a scan of
    // the node's responders (up to 4,096) for each failing pair.
    const inUseCache = new Map<string, Set<string>>();
    const inUseOf = (node: string) => {
      let set = inUseCache.get(node);
      if (!set) {
        set = new Set((byName.get(node)?.hello?.responders ?? []).filter((x) => x.state === 'in-use').map((x) => `${x.proto} ${x.port}`));
        inUseCache.set(node, set);
      }
      return set;
    };
    for (const [k, c] of cells) {
      if (reach.explained.has(k) || c.state === 'unreachable') continue;
      const rows = c.rows ?? [];
      for (const r of pairFailures(req.conditions, rows)) {
        const cond = r.condition;
        if (cond.type === 'compare') {
          add(metrics[cond.metric].kind, { from: c.from, to: c.to, detail: r.text, severity: cond.severity });
          continue;
        }
        if (cond.type !== 'port') continue;
        for (const [port, outcome] of Object.entries(r.ports ?? {}) as [string, Outcome][]) {
          const inUse = inUseOf(c.to).has(`${cond.proto} ${Number(port)}`);
          const kind = inUse ? 'port-in-use' : cond.proto === 'udp' ? 'udp-blocked' : outcome === 'refused' ? 'port-refused' : 'port-filtered';
          add(kind, { from: c.from, to: c.to, detail: `${cond.proto} ${port} ${outcome}`, severity: cond.severity, ports: [Number(port)] });
        }
      }
      if (mtuCond) {
        const df = rows.filter((x) => x.mtu && x.mtu.outcome !== 'ok' && x.mtu.outcome !== 'not-measured');
        if (df.length) add('mtu-mismatch', { from: c.from, to: c.to, detail: df.map((x) => `${x.addr}: DF ${x.mtu!.size} bytes ${x.mtu!.outcome}`).join(' | '), severity: mtuCond.severity });
      }
    }

    // ICMP lost entirely one way while it passes the other way (and TCP works): a one-way firewall rule on
    // echoes, not loss on the wire.
    const lossFails = groups.get('loss') ?? [];
    const oneWay = lossFails.filter((f) => {
      const there = m.cell(f.from, f.to);
      const back = m.cell(f.to, f.from);
      return there?.loss === 1 && back !== undefined && back.loss < 1;
    });
    if (oneWay.length) {
      groups.set('loss', lossFails.filter((f) => !oneWay.includes(f)));
      const nodes = blame(oneWay);
      findings.push({
        severity: worst(oneWay),
        kind: 'asymmetric',
        binding: m.binding,
        nodes,
        summary: `${m.binding}: ICMP echoes pass one way only on ${oneWay.length} pair(s), around ${list(nodes)}`,
        hint: `echo requests from one side never arrive while the other direction works: check ICMP rules in the firewall on ${list(nodes)} (or on its switch port) for ${m.binding}`,
        evidence: evidenceOf(oneWay),
      });
    }

    // A port the agent could not listen on is held by another process: even if that process answers peers,
    // the OpenStack service meant for the port will not be able to bind it.
    const inUseFails = groups.get('port-in-use') ?? [];
    for (const n of presentNodes) {
      for (const x of n.hello?.responders ?? []) {
        if (x.binding !== m.binding || x.state !== 'in-use') continue;
        if (inUseFails.some((f) => f.to === n.name && f.ports?.includes(x.port))) continue;
        inUseFails.push({ from: n.name, to: n.name, detail: `${x.proto} ${x.port} on ${x.address} is held by another process`, severity: 'warning', ports: [x.port] });
      }
    }
    if (inUseFails.length) groups.set('port-in-use', inUseFails);

    // MTU: the odd node out by interface MTU names the cause; failing DF pairs without one name the path.
    const mtu = interfaceMtus(m.binding, presentNodes, req.mtu);
    const mtuFails = groups.get('mtu-mismatch') ?? [];
    groups.delete('mtu-mismatch');
    if (mtu.odd.length || mtuFails.length) {
      const odd = sortNodes(mtu.odd.map((o) => o.node));
      const nodes = odd.length ? odd : blame(mtuFails);
      const o = mtu.odd[0];
      const hint = o
        ? req.mtu
          ? `${o.node}'s ${m.binding} interface${o.iface ? ` (${o.iface})` : ''} has MTU ${o.mtu}; the profile needs ${req.mtu}`
          : `${o.node}'s ${m.binding} interface${o.iface ? ` (${o.iface})` : ''} has MTU ${o.mtu}; its peers have ${mtu.usual}`
        : `full-size packets (${req.mtu} bytes, DF) do not get through between ${list(nodes)} although small ones do: a switch or router on the path has a smaller MTU`;
      const extra = mtu.odd.length > 1 ? ` (and ${mtu.odd.slice(1).map((x) => `${x.node} ${x.mtu}`).join(', ')})` : '';
      findings.push({
        // A differing MTU without a required one is a smell, not yet a failure.
        severity: mtuFails.length ? worst(mtuFails) : req.mtu ? (mtuCond?.severity ?? 'error') : 'warning',
        kind: 'mtu-mismatch',
        binding: m.binding,
        nodes,
        summary: `${m.binding}: MTU mismatch around ${list(nodes)}${mtuFails.length ? `; full-size DF packets fail on ${mtuFails.length} pair(s)` : ''}`,
        hint: hint + extra,
        evidence: mtuFails.length
          ? evidenceOf(mtuFails)
          : mtu.odd.slice(0, MAX_EVIDENCE).map((x) => ({ from: x.node, to: x.node, detail: `${x.iface ?? '?'} MTU ${x.mtu}` })),
      });
    }

    for (const kind of ['port-filtered', 'port-refused', 'port-in-use', 'udp-blocked', 'loss', 'high-latency']) {
      const fs = groups.get(kind);
      if (!fs?.length) continue;
      const nodes = blame(fs);
      const ports = [...new Set(fs.flatMap((f) => f.ports ?? []))].sort((a, b) => a - b).join(', ');
      const proto = kind === 'udp-blocked' ? 'udp' : 'tcp';
      let summary: string;
      let hint: string;
      if (portHints[kind]) {
        summary = `${m.binding}: ${proto.toUpperCase()} ${ports} ${kind.replace(/^port-/, '').replace('udp-', '')} on ${fs.length} pair(s), around ${list(nodes)}`;
        hint = portHints[kind]!(kind === 'port-in-use' ? [...new Set(fs.map((f) => f.detail.split(' ')[0]!))].join('/') : proto, ports, list(nodes), m.binding);
      } else if (kind === 'loss') {
        summary = `${m.binding}: packets lost on ${fs.length} pair(s), around ${list(nodes)}`;
        hint = `echoes go missing around ${list(nodes)} on ${m.binding}: check NIC and switch-port error counters, cabling and duplex`;
      } else {
        summary = `${m.binding}: round trips over the bound on ${fs.length} pair(s), around ${list(nodes)}`;
        hint = `slow round trips around ${list(nodes)} on ${m.binding}: check for a congested or long path, or an overloaded host`;
      }
      findings.push({ severity: worst(fs), kind, binding: m.binding, nodes, summary, hint, evidence: evidenceOf(fs) });
    }

    // DNS of each binding address, where the binding asks for it.
    const dnsCond = req.conditions.find((c) => c.type === 'dns');
    if (dnsCond) for (const n of presentNodes) for (const d of n.hello?.dns ?? []) if (d.kind === 'address' && d.binding === m.binding && !d.ok) dnsBad.push({ node: n.name, check: d, severity: dnsCond.severity });
  }

  // Node conditions: the node's hostname in DNS, its clock.
  const present = input.nodes.filter((n) => n.state !== 'missing' && !absent.has(n.name));
  const hostDns = input.profile.node.find((c) => c.type === 'dns');
  if (hostDns) for (const n of present) for (const d of n.hello?.dns ?? []) if (d.kind === 'hostname' && !d.ok) dnsBad.push({ node: n.name, check: d, severity: hostDns.severity });
  if (dnsBad.length) {
    const nodes = sortNodes(dnsBad.map((d) => d.node));
    const bindings = [...new Set(dnsBad.map((d) => d.check.binding).filter(Boolean))];
    const first = dnsBad[0]!;
    findings.push({
      severity: worst(dnsBad),
      kind: 'dns-mismatch',
      ...(bindings.length === 1 && dnsBad.every((d) => d.check.binding) ? { binding: bindings[0]! } : {}),
      nodes,
      summary: `forward and reverse DNS disagree for ${dnsBad.length} name(s)/address(es) on ${list(nodes)}`,
      hint: `${first.node}: ${dnsText(first.check)}; RabbitMQ clustering needs names that resolve both ways: fix the records in MAAS DNS`,
      evidence: dnsBad.slice(0, MAX_EVIDENCE).map((d) => ({ from: d.node, to: d.node, detail: dnsText(d.check) })),
    });
  }

  const clockCond = input.profile.node.find((c): c is Extract<Condition, { type: 'compare' }> => c.type === 'compare' && c.metric === 'clock_offset');
  if (clockCond) {
    const skewed: { node: string; r: ConditionResult; offsetMs: number }[] = [];
    for (const n of present) {
      if (!n.clock) continue;
      // The exchange cannot tell offset from path asymmetry better than rtt/2: only a certain skew counts.
      const certain = Math.max(0, Math.abs(n.clock.offsetMs) - n.clock.rttMs / 2);
      const r = evaluateCompare(clockCond, certain);
      if (r.passed === false) skewed.push({ node: n.name, r, offsetMs: n.clock.offsetMs });
    }
    if (skewed.length) {
      const nodes = sortNodes(skewed.map((s) => s.node));
      const s0 = skewed[0]!;
      const off = (v: number) => `${v >= 0 ? '+' : '-'}${formatValue('clock_offset', Math.abs(v))}`;
      findings.push({
        severity: clockCond.severity,
        kind: 'clock-skew',
        nodes,
        summary: `clock off by more than ${formatValue('clock_offset', clockCond.value)} on ${list(nodes)}`,
        hint: `${s0.node}'s clock is ${off(s0.offsetMs)} from the aggregator's; the profile allows ${formatValue('clock_offset', clockCond.value)} (Ceph monitors tolerate 50ms): check chrony/NTP on ${list(nodes)}`,
        evidence: skewed.slice(0, MAX_EVIDENCE).map((s) => ({ from: s.node, to: 'aggregator', detail: `offset ${off(s.offsetMs)}; ${s.r.text}` })),
      });
    }
  }
  const order = new Map(findingKinds.map((k, i) => [k as string, i]));
  return findings.sort((a, b) => (order.get(a.kind) ?? 99) - (order.get(b.kind) ?? 99) || (a.binding ?? '').localeCompare(b.binding ?? ''));
}

function dnsText(d: DnsCheck): string {
  if (d.detail) return `${d.query}: ${d.detail}`;
  if (d.kind === 'address') return `${d.query} reverses to ${d.names.join(', ') || 'nothing'}, which resolves to ${d.addresses.join(', ') || 'nothing'}`;
  return `${d.query} resolves to ${d.addresses.join(', ') || 'nothing'}, which reverses to ${d.names.join(', ') || 'nothing'}`;
}

// Findings about the links behind the bindings, and which switch to blame. From the link facts agents send
// (agent/contract/link-wire.ts): ports slower than the profile's `link_speed`, peers of one binding at different
// speeds, bonds with a member down or LACP not agreed, switch ports whose LLDP description names another
// node; and, when every node behind one switch (LLDP chassis) fails the same way on a binding, one
// `switch-fault` naming the switch, its ports and the nodes instead of a finding per node. Pure.
import type { LinkFact, LinkPort } from '../agent/contract/link-wire.js';
import type { DiagnosisInput, DiagnosisNode } from './diagnosis.js';
import type { Evidence, Finding, FindingKind, Severity } from './findings.js';
import { MAX_EVIDENCE } from './findings.js';
import { formatRate, type LinkCondition } from './link-conditions.js';
import { requirementFor } from './profile.js';
import { sortNodes } from './diagnosis-util.js';

/** The kinds this file produces (test/unit/link-diagnosis.test.ts makes each of them). */
export const linkFindingKinds: readonly FindingKind[] = ['switch-fault', 'link-speed-low', 'bond-degraded', 'speed-mismatch', 'port-description-mismatch'];

const list = (names: string[], max = 6) => (names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`);
const ZERO_MAC = '00:00:00:00:00:00';
/** LACP port state bit: the partner has this port in sync with its aggregator (IEEE 802.1AX). */
const LACP_SYNC = 0x08;

function factsOf(n: DiagnosisNode, binding: string): LinkFact[] {
  return (n.hello?.links ?? []).filter((l) => l.binding === binding);
}
const where = (f: LinkFact, p: LinkPort) => (p.iface === f.iface ? f.iface : `${f.iface}/${p.iface}`);

/** What is wrong with a bond, one line per member at fault (a member down says only that). */
export function bondProblems(f: LinkFact): string[] {
  if (!f.bond) return [];
  const out: string[] = [];
  const lacp = f.bond.mode === '802.3ad';
  const up = f.ports.filter((p) => (p.mii ?? 'up') === 'up' && p.carrier !== false);
  for (const p of f.ports) {
    if ((p.mii ?? 'up') !== 'up')
      out.push(`${p.iface} is ${p.mii === 'down' ? 'down' : `"${p.mii}"`} (MII)${p.linkFailures ? `, ${p.linkFailures} link failure(s)` : ''}`);
    else if (p.carrier === false) out.push(`${p.iface} has no carrier`);
  }
  if (!lacp) return out;
  const active = f.bond.aggregatorId;
  for (const p of up) {
    if (!p.partner || p.partner.systemMac === ZERO_MAC)
      out.push(`${p.iface} has no LACP partner: the switch port sends no LACPDUs (LACP not configured on it?)`);
    else if (active !== undefined && p.aggregatorId !== undefined && p.aggregatorId !== active)
      out.push(`${p.iface} is in aggregator ${p.aggregatorId}, not the active ${active}: it carries no traffic`);
    else if ((p.partner.portState & LACP_SYNC) === 0) out.push(`${p.iface}'s partner is not in sync (port state ${p.partner.portState})`);
  }
  const partners = new Map<string, string[]>();
  for (const p of up)
    if (p.partner && p.partner.systemMac !== ZERO_MAC)
      (
        partners.get(`${p.partner.systemMac} key ${p.partner.key}`) ??
        partners.set(`${p.partner.systemMac} key ${p.partner.key}`, []).get(`${p.partner.systemMac} key ${p.partner.key}`)!
      ).push(p.iface);
  if (partners.size > 1)
    out.push(
      `members see different LACP partners: ${[...partners].map(([k, ifs]) => `${ifs.join(', ')} -> ${k}`).join('; ')} (cabled to two switches that are not one LACP/MLAG pair?)`,
    );
  return out;
}

interface Hit {
  node: string;
  detail: string;
}

function finding(kind: FindingKind, severity: Severity, binding: string, hits: Hit[], summary: (nodes: string[]) => string, hint: string): Finding {
  const nodes = sortNodes(hits.map((h) => h.node));
  const evidence: Evidence[] = hits.slice(0, MAX_EVIDENCE).map((h) => ({ from: h.node, to: h.node, detail: h.detail }));
  return { severity, kind, binding, nodes, summary: summary(nodes), hint, evidence };
}

/**
 * The last answer and what it came from. Link facts change only with a hello, and every snapshot asks: at 1,000
 * bonded nodes x 6 bindings the walk below is ~10 ms, the check that nothing changed ~0.02 ms. A node's hello is
 * replaced, never changed in place (state.ts), so the same hello objects mean the same facts.
 */
let last: { profile: unknown; matrices: unknown; present: DiagnosisNode[]; out: Finding[] } | undefined;
const sameFacts = (a: DiagnosisNode[], b: DiagnosisNode[]) => a.length === b.length && a.every((n, i) => n.name === b[i]!.name && n.hello === b[i]!.hello);

/** The link findings of every binding with link facts. */
export function linkFindings(input: DiagnosisInput): Finding[] {
  // Only nodes that sent link facts have anything to judge here (none: no set of 1,000 members a binding).
  const present = input.nodes.filter((n) => n.state !== 'missing' && n.hello?.links?.length);
  if (!present.length) return [];
  if (last && last.profile === input.profile && last.matrices === input.matrices && sameFacts(last.present, present)) return [...last.out];
  const out = walkLinks(input, present);
  last = { profile: input.profile, matrices: input.matrices, present, out };
  return [...out];
}

// size: one pass over each binding's link facts, one finding kind per branch
function walkLinks(input: DiagnosisInput, present: DiagnosisNode[]): Finding[] {
  const out: Finding[] = [];
  for (const m of input.matrices) {
    const b = m.binding;
    const req = requirementFor(input.profile, b);
    const cond = (check: LinkCondition['check']) => req.conditions.find((c): c is LinkCondition => c.type === 'link' && c.check === check);
    const members = new Set(m.nodes);
    const on = present.filter((n) => members.has(n.name));

    const speedCond = cond('link_speed');
    const slow = new Set<string>();
    if (speedCond?.minMbps) {
      const hits: Hit[] = [];
      for (const n of on)
        for (const f of factsOf(n, b))
          for (const p of f.ports)
            if (p.speedMbps !== null && p.speedMbps < speedCond.minMbps && (p.mii ?? 'up') === 'up') {
              hits.push({ node: n.name, detail: `${where(f, p)} at ${formatRate(p.speedMbps)}; the profile needs ${formatRate(speedCond.minMbps)}` });
              slow.add(n.name);
            }
      if (hits.length)
        out.push(
          finding(
            'link-speed-low',
            speedCond.severity,
            b,
            hits,
            (ns) => `${b}: ${hits.length} port(s) below ${formatRate(speedCond.minMbps!)} on ${list(ns)}`,
            `${hits[0]!.node}'s ${hits[0]!.detail}: check the NIC, the cable or transceiver, and the switch port's speed setting`,
          ),
        );
    }

    // Peers of one binding that negotiated different speeds: the slowest link sets the pace (a warning).
    const speeds = new Map<string, number>();
    for (const n of on) {
      const known = factsOf(n, b)
        .flatMap((f) => f.ports.filter((p) => (p.mii ?? 'up') === 'up').map((p) => p.speedMbps))
        .filter((s): s is number => s !== null);
      if (known.length) speeds.set(n.name, Math.min(...known));
    }
    const freq = new Map<number, number>();
    for (const s of speeds.values()) freq.set(s, (freq.get(s) ?? 0) + 1);
    if (freq.size > 1) {
      const usual = [...freq].sort((x, y) => y[1] - x[1] || y[0] - x[0])[0]![0];
      const odd = [...speeds].filter(([n, s]) => s !== usual && !slow.has(n));
      if (odd.length) {
        const hits = odd.map(([node, s]) => ({
          node,
          detail: `${factsOf(on.find((x) => x.name === node)!, b)[0]?.iface ?? '?'} at ${formatRate(s)}; most peers at ${formatRate(usual)}`,
        }));
        out.push(
          finding(
            'speed-mismatch',
            'warning',
            b,
            hits,
            (ns) => `${b}: peers negotiated different speeds: ${list(ns)} not at ${formatRate(usual)} like the others`,
            `${hits[0]!.node}'s ${hits[0]!.detail}: check its NIC and switch port (auto-negotiation, cable, a port on the wrong module)`,
          ),
        );
      }
    }

    const bondCond = cond('bond');
    if (bondCond) {
      const hits: Hit[] = [];
      for (const n of on) for (const f of factsOf(n, b)) for (const p of bondProblems(f)) hits.push({ node: n.name, detail: `${f.iface}: ${p}` });
      if (hits.length)
        out.push(
          finding(
            'bond-degraded',
            bondCond.severity,
            b,
            hits,
            (ns) => `${b}: bond not healthy on ${list(ns)}`,
            `${hits[0]!.node}'s ${hits[0]!.detail}; a bond runs on without redundancy (or at part of its bandwidth) until this is fixed`,
          ),
        );
    }

    const descCond = cond('port_description');
    if (descCond) {
      const hits: Hit[] = [];
      for (const n of on) {
        const names = sortNodes([n.name, n.hello?.hostname ?? '', (n.hello?.hostname ?? '').split('.')[0]!].filter(Boolean)).map((x) => x.toLowerCase());
        for (const f of factsOf(n, b))
          for (const p of f.ports)
            for (const nb of p.lldp ?? [])
              if (!nb.stale && nb.portDescr !== undefined && !names.some((x) => namesNode(nb.portDescr!, x)))
                hits.push({ node: n.name, detail: `${p.iface} is cabled to ${nb.chassis} port ${nb.port}, described "${nb.portDescr}"` });
      }
      // A description is documentation, not connectivity: at most a warning.
      if (hits.length)
        out.push(
          finding(
            'port-description-mismatch',
            'warning',
            b,
            hits,
            (ns) => `${b}: switch port descriptions do not name ${list(ns)}`,
            `${hits[0]!.node}'s ${hits[0]!.detail}: a miscabled node, or a switch port description to correct`,
          ),
        );
    }
  }
  return out;
}

/** The description names the node as a word of its own: "node-1 eth1" names node-1, "node-10 eth1" does not. */
function namesNode(descr: string, name: string): boolean {
  const d = descr.toLowerCase();
  for (let i = d.indexOf(name); i >= 0; i = d.indexOf(name, i + 1)) {
    const before = d[i - 1];
    const after = d[i + name.length];
    if ((before === undefined || !/[a-z0-9-]/.test(before)) && (after === undefined || !/[a-z0-9-]/.test(after))) return true;
  }
  return false;
}

/** binding -> node -> the switch ports its binding interface is cabled to (LLDP, including stale). */
function switchMap(nodes: DiagnosisNode[], binding: string): Map<string, { chassis: string; port: string; iface: string }[]> {
  const out = new Map<string, { chassis: string; port: string; iface: string }[]>();
  for (const n of nodes)
    for (const f of factsOf(n, binding))
      for (const p of f.ports)
        for (const nb of p.lldp ?? []) (out.get(n.name) ?? out.set(n.name, []).get(n.name)!).push({ chassis: nb.chassis, port: nb.port, iface: p.iface });
  return out;
}

/**
 * Kinds whose nodes are the cause (not the peers of a failing pair): when they are exactly the nodes behind
 * one switch, the switch is the likelier cause. One-way and pairwise kinds (asymmetric, unreachable) name
 * the ends of failing pairs, which say nothing about a switch.
 */
const switchable = new Set([
  'node-isolated',
  'partition',
  'mtu-mismatch',
  'port-filtered',
  'port-refused',
  'udp-blocked',
  'loss',
  'high-latency',
  'link-speed-low',
  'speed-mismatch',
  'bond-degraded',
]);

/**
 * Findings whose nodes are exactly the nodes behind one switch (two or more) become one `switch-fault`; for
 * a partition, a group that is exactly the nodes behind one switch names that switch (its uplink). Nodes
 * whose agents send no LLDP keep their findings.
 */
export function attributeToSwitches(findings: Finding[], input: DiagnosisInput): Finding[] {
  const out: Finding[] = [];
  const cache = new Map<string, ReturnType<typeof switchMap>>();
  const mapFor = (b: string) => cache.get(b) ?? cache.set(b, switchMap(input.nodes, b)).get(b)!;
  for (const f of findings) {
    if (!f.binding || !switchable.has(f.kind) || f.nodes.length < 2) {
      out.push(f);
      continue;
    }
    const map = mapFor(f.binding);
    const behind = new Map<string, string[]>();
    for (const [node, ports] of map) for (const c of new Set(ports.map((p) => p.chassis))) (behind.get(c) ?? behind.set(c, []).get(c)!).push(node);
    const same = (a: string[], b: string[]) => a.length === b.length && sortNodes(a).join() === sortNodes(b).join();
    const candidates = f.kind === 'partition' && f.groups && f.groups.length === 2 ? [f.groups[1]!, f.groups[0]!] : [f.nodes];
    let sw: string | undefined;
    let nodes: string[] = [];
    for (const group of candidates) {
      sw = [...behind].find(([, ns]) => ns.length >= 2 && same(ns, group))?.[0];
      if (sw) {
        nodes = sortNodes(group);
        break;
      }
    }
    if (!sw) {
      out.push(f);
      continue;
    }
    const ports = nodes.flatMap((n) => (map.get(n) ?? []).filter((p) => p.chassis === sw).map((p) => ({ node: n, port: p.port, iface: p.iface })));
    const what = f.kind === 'partition' ? `reach each other but nothing beyond ${sw}` : `all fail alike (${f.kind})`;
    out.push({
      severity: f.severity,
      kind: 'switch-fault',
      binding: f.binding,
      nodes,
      switch: { name: sw, ports },
      summary: `${f.binding}: the ${nodes.length} nodes behind switch ${sw} ${what}: ${list(nodes)}`,
      hint:
        f.kind === 'partition'
          ? `check ${sw}'s uplink or trunk for ${f.binding} (VLAN allowed on the trunk, the uplink's state)`
          : `every node cabled to ${sw} (ports ${list(
              ports.map((p) => p.port),
              8,
            )}) fails on ${f.binding} while others work: check ${sw} itself (power, VLAN ${f.binding} on its ports, its uplink) before the nodes. ${f.hint ?? ''}`.trim(),
      ...(f.evidence ? { evidence: f.evidence } : {}),
    });
  }
  return out;
}

/** The report's LLDP line: which nodes give LLDP data, and a plain note when none (or only some) do. */
export function lldpSummary(nodes: DiagnosisNode[]): { state: 'ok' | 'partial' | 'none'; nodes: string[]; note?: string } {
  const withHello = nodes.filter((n) => n.hello);
  const ok = sortNodes(
    withHello.filter((n) => n.hello!.lldp === 'ok' && (n.hello!.links ?? []).some((l) => l.ports.some((p) => p.lldp?.length))).map((n) => n.name),
  );
  const okSet = new Set(ok); // sets, not includes/find: 1,000 nodes a report
  const without = sortNodes(withHello.map((n) => n.name).filter((n) => !okSet.has(n)));
  if (!without.length) return { state: 'ok', nodes: ok };
  const byName = new Map(withHello.map((n) => [n.name, n]));
  const why = (n: string) => byName.get(n)!.hello!.lldp ?? 'not reported';
  const reasons = [...new Set(without.map(why))]
    .map((r) => (r === 'ok' ? 'no neighbour heard' : r === 'not-installed' ? 'lldpd not installed' : r === 'not-running' ? 'lldpd not running' : r))
    .join(', ');
  return {
    state: ok.length ? 'partial' : 'none',
    nodes: ok,
    note: `no LLDP data from ${list(without)} (${reasons}): switch-level diagnosis ${ok.length ? 'covers only the others' : 'is off'}; install and start lldpd (Debian/Ubuntu package lldpd) to see which switch each node is cabled to`,
  };
}

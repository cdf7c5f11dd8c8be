// Reachability of one binding in one family, as a graph: isolated nodes, a partition, one-way paths, and
// pairs left over. Pairs a step explains are not analysed again by later steps. Pure.
import { describeRows, blame, list, sortNodes } from './diagnosis-util.js';
import { pairKey, type FamilyView } from './diagnosis-view.js';
import type { Evidence, Finding, Severity } from './findings.js';
import { MAX_EVIDENCE } from './findings.js';

type Pair = [string, string];

interface Walk {
  v: FamilyView;
  severity: Severity;
  findings: Finding[];
  explained: Set<string>;
  bad(a: string, b: string): boolean;
  through(a: string, b: string): boolean;
  ev(pairs: Pair[]): Evidence[];
}

export function reachability(v: FamilyView, severity: Severity): { findings: Finding[]; explained: Set<string> } {
  // Only failing pairs can start a finding: a healthy 1,000-node binding costs no N x N walk.
  const badPairs: Pair[] = [];
  for (const c of v.cells.values()) if (c.state === 'unreachable') badPairs.push([c.from, c.to]);
  const w: Walk = {
    v,
    severity,
    findings: [],
    explained: new Set(),
    bad: (a, b) => v.state(a, b) === 'unreachable',
    through: (a, b) => !['unreachable', 'none', 'self'].includes(v.state(a, b)),
    ev: (pairs) =>
      pairs.slice(0, MAX_EVIDENCE).map(([from, to]) => ({ from, to, detail: describeRows(v.cells.get(pairKey(from, to))?.rows ?? [], 'unreachable') })),
  };
  if (!badPairs.length) return w;
  const isolated = findIsolated(w, badPairs);
  const rest = v.present.filter((x) => !isolated.includes(x));
  findPartition(
    w,
    rest,
    badPairs.filter(([a, b]) => !w.explained.has(pairKey(a, b))),
  );
  findOneWayAndLeftover(
    w,
    badPairs.filter(([a, b]) => !w.explained.has(pairKey(a, b))),
  );
  return w;
}

const famWord = (v: FamilyView) => (v.label === v.binding ? v.binding : `${v.binding} (${v.label.slice(v.binding.length + 1)})`);
const withFamily = (v: FamilyView) => ({ binding: v.binding, family: v.family });

/** Isolated: nothing gets through in either direction between the node and any peer. */
function findIsolated(w: Walk, badPairs: Pair[]): string[] {
  const { v } = w;
  const isolated: string[] = [];
  if (v.present.length < 3) return isolated;
  for (const x of sortNodes(badPairs.flat())) {
    const peers = v.present.filter((p) => p !== x);
    const inBad = peers.filter((p) => w.bad(p, x)).length;
    const outBad = peers.filter((p) => w.bad(x, p)).length;
    const anyThrough = peers.some((p) => w.through(p, x) || w.through(x, p));
    if (!anyThrough && inBad + outBad > 0 && inBad + outBad >= peers.length) isolated.push(x);
  }
  if (!isolated.length) return isolated;
  const pairs: Pair[] = [];
  for (const x of isolated)
    for (const p of v.present) {
      if (p === x) continue;
      for (const [a, b] of [
        [p, x],
        [x, p],
      ] as Pair[]) {
        if (!w.explained.has(pairKey(a, b)) && w.bad(a, b)) {
          w.explained.add(pairKey(a, b));
          pairs.push([a, b]);
        }
      }
    }
  const all = isolated.length === v.present.length;
  const names = list(sortNodes(isolated));
  w.findings.push({
    severity: w.severity,
    kind: 'node-isolated',
    ...withFamily(v),
    nodes: sortNodes(isolated),
    summary: all
      ? `${v.label}: no node reaches any other (${isolated.length} nodes)`
      : `${v.label}: ${names} ${isolated.length === 1 ? 'is' : 'are'} unreachable from every peer`,
    hint: all
      ? `nothing gets through on ${famWord(v)}: check that its VLAN exists on the switches and the addresses are in the right subnet`
      : `${names}'s ${famWord(v)} interface reaches no peer and no peer reaches it (ping and every port fail both ways): check its link, switch port, VLAN, address${v.label === v.binding ? '' : ' and the firewall for this family'}`,
    evidence: w.ev(pairs),
  });
  return isolated;
}

/** Partition: among the rest, groups that reach each other inside and nothing across. */
function findPartition(w: Walk, rest: string[], restBad: Pair[]): void {
  if (!restBad.length) return;
  const group = new Map<string, number>();
  let groups = 0;
  for (const s of rest) {
    if (group.has(s)) continue;
    const q = [s];
    group.set(s, groups);
    while (q.length) {
      const a = q.pop()!;
      for (const b of rest) if (!group.has(b) && (w.through(a, b) || w.through(b, a))) group.set(b, groups), q.push(b);
    }
    groups++;
  }
  if (groups < 2) return;
  const members: string[][] = Array.from({ length: groups }, () => []);
  for (const x of rest) members[group.get(x)!]!.push(x);
  const sorted = members.map(sortNodes).sort((a, b) => b.length - a.length || a[0]!.localeCompare(b[0]!));
  const pairs: Pair[] = [];
  for (const [a, b] of restBad)
    if (group.get(a) !== group.get(b)) {
      w.explained.add(pairKey(a, b));
      pairs.push([a, b]);
    }
  w.findings.push({
    severity: w.severity,
    kind: 'partition',
    ...withFamily(w.v),
    nodes: sortNodes(rest),
    groups: sorted,
    summary: `${w.v.label}: split into ${groups} groups that do not reach each other: ${sorted.map((g) => `[${list(g, 4)}]`).join(' | ')}`,
    hint: `each group works inside but not across: check the routing or VLAN trunking between the groups' switches on ${famWord(w.v)}`,
    evidence: w.ev(pairs),
  });
}

/** One way (a reaches b, b does not reach a), then whatever is left: pairs failing both ways while their nodes reach others. */
function findOneWayAndLeftover(w: Walk, restBad: Pair[]): void {
  const { v } = w;
  const oneWay: Pair[] = restBad.filter(([b, a]) => w.through(a, b));
  if (oneWay.length) {
    for (const [a, b] of oneWay) w.explained.add(pairKey(a, b));
    const nodes = blame(oneWay.map(([from, to]) => ({ from, to })));
    w.findings.push({
      severity: w.severity,
      kind: 'asymmetric',
      ...withFamily(v),
      nodes,
      summary: `${v.label}: ${oneWay.length} pair(s) work in one direction only, around ${list(nodes)}`,
      hint: `${list(nodes)} ${nodes.length === 1 ? 'is' : 'are'} reachable one way only on ${famWord(v)} (the other direction works, so the link is up): check firewall rules that allow only one direction and the return route`,
      evidence: w.ev(oneWay),
    });
  }
  const leftover = restBad.filter(([a, b]) => !w.explained.has(pairKey(a, b)));
  if (!leftover.length) return;
  for (const [a, b] of leftover) w.explained.add(pairKey(a, b));
  const nodes = blame(leftover.map(([from, to]) => ({ from, to })));
  w.findings.push({
    severity: w.severity,
    kind: 'unreachable',
    ...withFamily(v),
    nodes,
    summary: `${v.label}: ${leftover.length} pair(s) cannot reach each other, around ${list(nodes)}`,
    hint: `these nodes reach other peers but not each other: check the routes between their subnets on ${famWord(v)}`,
    evidence: w.ev(leftover),
  });
}

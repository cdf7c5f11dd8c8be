// Everything wrong on one binding: reachability first (per address family), then the pair conditions
// (ports, loss, latency), with each failure attributed to one cause, then the interface MTUs. Findings
// that come out the same in both families of a dual-stack binding are one finding without a family. Pure.
import type { Outcome } from '../agent/contract/probe.js';
import { metrics, pairFailures, type Condition } from './conditions.js';
import { blame, evidenceOf, list, sortNodes, worst, type Fail } from './diagnosis-util.js';
import { reachability } from './diagnosis-reach.js';
import { familyViews, lossOf, pairKey, type FamilyView, type RowFilter } from './diagnosis-view.js';
import { familyText, MAX_EVIDENCE, type Family, type Finding, type FindingKind } from './findings.js';
import type { BindingMatrix } from './matrix.js';
import type { HelloMsg, InterfaceInfo, ResponderInfo } from '../agent/contract/wire.js';
import type { BindingRequirement } from './profile.js';

export interface BindingInput {
  m: BindingMatrix;
  req: BindingRequirement;
  /** Nodes whose pairs count (not missing). */
  present: string[];
  hello: (node: string) => HelloMsg | undefined;
  /** The families this binding's inventory addresses use. */
  families: Family[];
  filter: RowFilter;
}

type Groups = Map<FindingKind, Fail[]>;

/** A hello's responders held by another process. The state keeps only those that could not listen (a handful at most). */
const inUse = (hello: HelloMsg | undefined): readonly ResponderInfo[] => (hello?.responders ?? []).filter((x) => x.state === 'in-use');
const add = (g: Groups, kind: FindingKind, f: Fail) => (g.get(kind) ?? g.set(kind, []).get(kind)!).push(f);

export function bindingFindings(b: BindingInput): Finding[] {
  const mtuCond = b.req.conditions.find((c) => c.type === 'compare' && c.metric === 'mtu');
  const odd = interfaceMtus(b.m.binding, b.present, b.hello, b.req.mtu);
  const perFamily: Finding[][] = [];
  const mtuFails: { fail: Fail; family: Family }[] = [];
  for (const v of familyViews(b.m, b.present, b.families, b.filter)) {
    const reach = reachability(v, 'error');
    const groups = pairFailureGroups(v, b, reach.explained, mtuCond);
    const found = [...reach.findings, ...icmpOneWay(v, groups)];
    attributeToLoss(v, groups, odd.odd.length > 0);
    portInUse(v, b, groups);
    for (const f of groups.get('mtu-mismatch') ?? []) mtuFails.push({ fail: f, family: v.family });
    groups.delete('mtu-mismatch');
    found.push(...groupFindings(v, groups));
    perFamily.push(found);
  }
  const out = mergeFamilies(b.m.binding, perFamily);
  const mtu = mtuFinding(b, odd, mtuFails, mtuCond);
  if (mtu) out.push(mtu);
  return out;
}

/** The profile's pair conditions on every pair reachability did not already explain, grouped by finding kind. */
function pairFailureGroups(v: FamilyView, b: BindingInput, explained: Set<string>, mtuCond: Condition | undefined): Groups {
  const groups: Groups = new Map();
  // Per node, its ports held by another process ("tcp 3306"): one lookup per failing port, not a scan of the
  // node's responders (up to the wire's bound) for each failing pair.
  const inUseCache = new Map<string, Set<string>>();
  const inUseOf = (node: string) => {
    let set = inUseCache.get(node);
    if (!set) {
      set = new Set(inUse(b.hello(node)).map((x) => `${x.proto} ${x.port}`));
      inUseCache.set(node, set);
    }
    return set;
  };
  for (const [k, c] of v.cells) {
    if (explained.has(k) || c.state === 'unreachable' || c.state === 'none') continue;
    for (const r of pairFailures(b.req.conditions, c.rows)) {
      const cond = r.condition;
      if (cond.type === 'compare') {
        add(groups, metrics[cond.metric].kind as FindingKind, { from: c.from, to: c.to, detail: r.text, severity: cond.severity });
        continue;
      }
      if (cond.type !== 'port') continue;
      for (const [port, outcome] of Object.entries(r.ports ?? {}) as [string, Outcome][]) {
        const inUse = inUseOf(c.to).has(`${cond.proto} ${Number(port)}`);
        const kind = inUse ? 'port-in-use' : cond.proto === 'udp' ? 'udp-blocked' : outcome === 'refused' ? 'port-refused' : 'port-filtered';
        add(groups, kind, { from: c.from, to: c.to, detail: `${cond.proto} ${port} ${outcome}`, severity: cond.severity, ports: [Number(port)] });
      }
    }
    if (mtuCond) {
      const df = c.rows.filter((x) => x.mtu && x.mtu.outcome !== 'ok' && x.mtu.outcome !== 'not-measured');
      if (df.length)
        add(groups, 'mtu-mismatch', {
          from: c.from,
          to: c.to,
          detail: df.map((x) => `${x.addr}: DF ${x.mtu!.size} bytes ${x.mtu!.outcome}`).join(' | '),
          severity: mtuCond.severity,
        });
    }
  }
  return groups;
}

/**
 * ICMP lost entirely one way while it passes the other way (and TCP works): a one-way firewall rule on
 * echoes, not loss on the wire. Takes those pairs out of the loss group.
 */
function icmpOneWay(v: FamilyView, groups: Groups): Finding[] {
  const lossFails = groups.get('loss') ?? [];
  const oneWay = lossFails.filter((f) => lossOf(v, f.from, f.to) === 1 && lossOf(v, f.to, f.from) < 1);
  if (!oneWay.length) return [];
  groups.set(
    'loss',
    lossFails.filter((f) => !oneWay.includes(f)),
  );
  const nodes = blame(oneWay);
  return [
    {
      severity: worst(oneWay),
      kind: 'asymmetric',
      binding: v.binding,
      family: v.family,
      nodes,
      summary: `${v.label}: ICMP echoes pass one way only on ${oneWay.length} pair(s), around ${list(nodes)}`,
      hint: `echo requests from one side never arrive while the other direction works: check ICMP rules in the firewall on ${list(nodes)} (or on its switch port) for ${v.label}`,
      evidence: evidenceOf(oneWay),
    },
  ];
}

/**
 * Loss on a node's link also loses TCP SYNs, UDP echoes and DF probes now and then (a lost SYN is retried
 * after 1 s, past the probe timeout). A firewall drops a port every time, from every peer; loss hits a few
 * pairs at random. So a port timeout or DF failure on a pair touching a lossy node counts as loss unless the
 * same port fails towards that node from every peer that measured it (or an interface MTU explains the DF).
 */
function attributeToLoss(v: FamilyView, groups: Groups, mtuExplained: boolean): void {
  const loss = groups.get('loss') ?? [];
  if (!loss.length) return;
  const lossy = new Set(blame(loss));
  const touches = (f: Fail) => lossy.has(f.from) || lossy.has(f.to);
  for (const kind of ['port-filtered', 'udp-blocked'] as const) {
    const fs = groups.get(kind) ?? [];
    const everyPeer = (f: Fail) => {
      const port = f.ports?.[0];
      const measured = v.present.filter((p) => p !== f.to && !['none', 'self', 'unreachable'].includes(v.state(p, f.to)));
      return measured.every((p) => fs.some((x) => x.from === p && x.to === f.to && x.ports?.includes(port!)));
    };
    const moved = fs.filter((f) => touches(f) && !everyPeer(f));
    if (!moved.length) continue;
    groups.set(
      kind,
      fs.filter((f) => !moved.includes(f)),
    );
    for (const f of moved) loss.push({ ...f, detail: `${f.detail} (a lost packet, not a firewall: other peers get through)` });
  }
  if (mtuExplained) return;
  const df = groups.get('mtu-mismatch') ?? [];
  const movedDf = df.filter(touches);
  if (!movedDf.length) return;
  groups.set(
    'mtu-mismatch',
    df.filter((f) => !movedDf.includes(f)),
  );
  for (const f of movedDf) loss.push({ ...f, detail: `${f.detail} (lost like the small echoes)` });
}

/**
 * A port the agent could not listen on is held by another process: even if that process answers peers,
 * the OpenStack service meant for the port will not be able to bind it.
 */
function portInUse(v: FamilyView, b: BindingInput, groups: Groups): void {
  const fails = groups.get('port-in-use') ?? [];
  for (const n of v.present) {
    for (const x of inUse(b.hello(n))) {
      if (x.binding !== v.binding || (x.address.includes(':') ? 'ipv6' : 'ipv4') !== v.family) continue;
      if (fails.some((f) => f.to === n && f.ports?.includes(x.port))) continue;
      fails.push({ from: n, to: n, detail: `${x.proto} ${x.port} on ${x.address} is held by another process`, severity: 'warning', ports: [x.port] });
    }
  }
  if (fails.length) groups.set('port-in-use', fails);
}

const portHints: Partial<Record<FindingKind, (proto: string, ports: string, nodes: string, b: string) => string>> = {
  'port-filtered': (p, ports, n, b) =>
    `${p.toUpperCase()} ${ports} towards ${n} gets no answer on ${b} from every peer while ping works: a firewall on ${n} or on the path drops it (loss would hit a few tries at random)`,
  'port-refused': (p, ports, n, b) =>
    `${p.toUpperCase()} ${ports} on ${n} (${b}) is refused: nothing listens there (is the Pinger agent's responder up?) or a firewall rejects it`,
  'port-in-use': (p, ports, n, b) =>
    `${p.toUpperCase()} ${ports} on ${n} (${b}) is held by another process that does not answer peers: stop it before deploying, or check that it is the service meant to be there`,
  'udp-blocked': (p, ports, n, b) =>
    `UDP ${ports} echoes from ${n} do not come back on ${b} while ping works and its agent is alive: a firewall drops UDP ${ports} (Geneve needs 6081/udp between every chassis)`,
};

/** One finding per remaining kind: the ports, loss and latency groups. */
function groupFindings(v: FamilyView, groups: Groups): Finding[] {
  const out: Finding[] = [];
  for (const kind of ['port-filtered', 'port-refused', 'port-in-use', 'udp-blocked', 'loss', 'high-latency'] as const) {
    const fs = groups.get(kind);
    if (!fs?.length) continue;
    const nodes = blame(fs);
    const ports = [...new Set(fs.flatMap((f) => f.ports ?? []))].sort((a, b) => a - b).join(', ');
    const proto = kind === 'udp-blocked' ? 'udp' : 'tcp';
    let summary: string;
    let hint: string;
    const hintOf = portHints[kind];
    if (hintOf) {
      summary = `${v.label}: ${proto.toUpperCase()} ${ports} ${kind.replace(/^port-/, '').replace('udp-', '')} on ${fs.length} pair(s), around ${list(nodes)}`;
      hint = hintOf(kind === 'port-in-use' ? [...new Set(fs.map((f) => f.detail.split(' ')[0]!))].join('/') : proto, ports, list(nodes), v.label);
    } else if (kind === 'loss') {
      summary = `${v.label}: packets lost on ${fs.length} pair(s), around ${list(nodes)}`;
      hint = `some echoes (and now and then a TCP/UDP try) go missing around ${list(nodes)} on ${v.label} while most get through, so the path is up and not filtered: check NIC and switch-port error counters, cabling and duplex`;
    } else {
      summary = `${v.label}: round trips over the bound on ${fs.length} pair(s), around ${list(nodes)}`;
      hint = `slow round trips around ${list(nodes)} on ${v.label}: check for a congested or long path, or an overloaded host`;
    }
    out.push({ severity: worst(fs), kind, binding: v.binding, family: v.family, nodes, summary, hint, evidence: evidenceOf(fs) });
  }
  return out;
}

/** A cause seen the same way in both families is one finding for the binding: without a family, named plainly. */
function mergeFamilies(binding: string, perFamily: Finding[][]): Finding[] {
  if (perFamily.length < 2) return perFamily.flat();
  const sig = (f: Finding) => `${f.kind}\u0000${f.nodes.join(',')}`;
  const [first, ...others] = perFamily as [Finding[], ...Finding[][]];
  const out: Finding[] = [];
  const merged = new Set<Finding>();
  for (const f of first) {
    const twins = others.map((fs) => fs.find((x) => sig(x) === sig(f)));
    if (twins.some((t) => !t)) continue;
    for (const t of twins) merged.add(t!);
    merged.add(f);
    const plain = (s: string | undefined) => s?.replaceAll(`${binding}${familyText(f.family)}`, binding);
    const { family: _f, ...rest } = f;
    out.push({
      ...rest,
      summary: plain(f.summary)!,
      ...(f.hint ? { hint: plain(f.hint)! } : {}),
      evidence: [f, ...twins.map((t) => t!)].flatMap((x) => x.evidence ?? []).slice(0, MAX_EVIDENCE),
    });
  }
  return [...out, ...perFamily.flat().filter((f) => !merged.has(f))];
}

interface OddMtus {
  odd: { node: string; iface: string | null; mtu: number }[];
  usual?: number;
}

type IfaceMtu = { iface: string | null; mtu: number };
/**
 * A hello's interfaces with an MTU, by binding: built once per hello, not once per snapshot for every node and
 * binding (6 bindings x 1,000 nodes x their ~6 interfaces, twice a second while a fleet reports).
 */
const mtusCache = new WeakMap<readonly InterfaceInfo[], Map<string, IfaceMtu[]>>();
function mtusOf(interfaces: readonly InterfaceInfo[]): Map<string, IfaceMtu[]> {
  let m = mtusCache.get(interfaces);
  if (m) return m;
  m = new Map();
  for (const i of interfaces) {
    if (i.mtu === null) continue;
    let l = m.get(i.binding);
    if (!l) m.set(i.binding, (l = []));
    l.push({ iface: i.iface, mtu: i.mtu });
  }
  mtusCache.set(interfaces, m);
  return m;
}

/**
 * interfaceMtus's last answer per binding with what it was computed from: the same nodes present with the same
 * hello objects (a hello is replaced, never changed) give the same answer. Hellos change as a fleet connects, not
 * between two snapshots of a running one. The pass over every node's interfaces was about half of a snapshot at
 * 1,000 x 6, rebuilt up to once a second while a fleet reports (~11 ms to ~5.5 ms: BENCHMARKS.md AFTER 16).
 */
const mtusMemo = new Map<string, { present: readonly string[]; hellos: readonly (HelloMsg | undefined)[]; required: number | undefined; out: OddMtus }>();

/** The interface MTUs of one binding, as each node's agent last read them: the nodes below the profile's MTU, or else the odd ones out. */
function interfaceMtus(binding: string, present: string[], hello: BindingInput['hello'], required: number | undefined): OddMtus {
  const hellos = present.map(hello);
  const last = mtusMemo.get(binding);
  if (last && last.required === required && sameItems(last.present, present) && sameItems(last.hellos, hellos)) return last.out;
  const out = oddMtus(binding, present, hellos, required);
  mtusMemo.set(binding, { present, hellos, required, out });
  return out;
}

const sameItems = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function oddMtus(binding: string, present: string[], hellos: readonly (HelloMsg | undefined)[], required: number | undefined): OddMtus {
  const odd: OddMtus['odd'] = [];
  // One pass, no counting while every interface has the same MTU (the usual case, every snapshot): this ran over
  // every node twice per binding with a callback and a count per interface (~3 ms a snapshot at 1,000 x 6).
  const lists: (readonly IfaceMtu[] | undefined)[] = new Array(present.length);
  let first: number | undefined;
  let mixed = false;
  for (let k = 0; k < present.length; k++) {
    const ifs = hellos[k]?.interfaces;
    const l = ifs ? mtusOf(ifs).get(binding) : undefined;
    lists[k] = l;
    if (l === undefined) continue;
    for (const i of l) {
      if (required !== undefined) {
        if (i.mtu < required) odd.push({ node: present[k]!, ...i });
      } else if (first === undefined) first = i.mtu;
      else if (i.mtu !== first) mixed = true;
    }
  }
  if (required !== undefined) return { odd, usual: required };
  if (!mixed) return { odd };
  const freq = new Map<number, number>();
  for (const l of lists) for (const i of l ?? []) freq.set(i.mtu, (freq.get(i.mtu) ?? 0) + 1);
  const usual = [...freq].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]![0];
  lists.forEach((l, k) => {
    for (const i of l ?? []) if (i.mtu !== usual) odd.push({ node: present[k]!, ...i });
  });
  return { odd, usual };
}
function mtuFinding(b: BindingInput, mtu: OddMtus, fails: { fail: Fail; family: Family }[], mtuCond: Condition | undefined): Finding | undefined {
  if (!mtu.odd.length && !fails.length) return undefined;
  const binding = b.m.binding;
  const mtuFails = fails.map((f) => f.fail);
  const odd = sortNodes(mtu.odd.map((o) => o.node));
  const nodes = odd.length ? odd : blame(mtuFails);
  const o = mtu.odd[0];
  const req = b.req;
  const hint = o
    ? req.mtu
      ? `${o.node}'s ${binding} interface${o.iface ? ` (${o.iface})` : ''} has MTU ${o.mtu}; the profile needs ${req.mtu}`
      : `${o.node}'s ${binding} interface${o.iface ? ` (${o.iface})` : ''} has MTU ${o.mtu}; its peers have ${mtu.usual}`
    : `full-size packets (${req.mtu} bytes, DF) do not get through between ${list(nodes)} although small ones do and every interface has the MTU: a switch or router on the path has a smaller MTU`;
  const extra =
    mtu.odd.length > 1
      ? ` (and ${mtu.odd
          .slice(1)
          .map((x) => `${x.node} ${x.mtu}`)
          .join(', ')})`
      : '';
  // An interface MTU concerns both families; DF failures in one family only (no odd interface) concern that one.
  const fams = new Set(fails.map((f) => f.family));
  const family = !o && fams.size === 1 ? [...fams][0] : b.families.length === 1 ? b.families[0] : undefined;
  return {
    // A differing MTU without a required one is a smell, not yet a failure.
    severity: mtuFails.length ? worst(mtuFails) : req.mtu ? (mtuCond?.severity ?? 'error') : 'warning',
    kind: 'mtu-mismatch',
    binding,
    ...(family ? { family } : {}),
    nodes,
    summary: `${binding}: MTU mismatch around ${list(nodes)}${mtuFails.length ? `; full-size DF packets fail on ${mtuFails.length} pair(s)` : ''}`,
    hint: hint + extra,
    evidence: mtuFails.length
      ? evidenceOf(mtuFails)
      : mtu.odd.slice(0, MAX_EVIDENCE).map((x) => ({ from: x.node, to: x.node, detail: `${x.iface ?? '?'} MTU ${x.mtu}` })),
  };
}

// One probe round: every peer address on every binding (or, with a pinglist, this round's window of peers), ICMP + TCP (+ UDP and the DF/MTU echo where the
// plan asks), as compact per-target summaries. Targets are shuffled each round so agents do not probe
// the same peer at the same moment.
import { isIP } from 'node:net';
import type { InventoryNode } from './contract/inventory.js';
import { Limiter } from './limiter.js';
import { pinglistPeers } from './pinglist.js';
import type { ProbeFn, ProbeResult } from './contract/probe.js';
import { RttHistory, summariseIcmp } from './stats.js';
import type { ProbePlan, TargetRow } from './contract/wire.js';

export interface RoundProbes {
  icmp: ProbeFn;
  tcp: ProbeFn;
  udp?: ProbeFn;
}

export interface RoundInput {
  self: InventoryNode;
  peers: readonly InventoryNode[];
  plan: ProbePlan;
  probes: RoundProbes;
  /** Targets probed at once. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Gap between the echoes sent to one target, so a burst loss does not look like a dead link. */
  echoGapMs?: number;
  /** Only these peers (a catch-up after they came up); default: every peer (or the pinglist's window). */
  only?: ReadonlySet<string>;
  /** This agent's round count: with the plan's pinglist, which window of each binding's peers to probe. */
  round?: number;
  /** RTTs of earlier rounds per target, so p50/p99 are over a window of echoes (stats.ts RTT_WINDOW). */
  history?: RttHistory;
}

export interface Target {
  binding: string;
  peer: string;
  addr: string;
  /** Our own address on the binding in the target's family; undefined when we have none. */
  source: string | undefined;
}

/**
 * The names of the peers with an address on `binding`, sorted as pinglistPeers sorts them: once per peer list
 * (the same until the next plan), not once a round for each binding (a fleet simulator runs 1,000 agents).
 */
const onCache = new WeakMap<readonly InventoryNode[], Map<string, string[]>>();
function peersOn(peers: readonly InventoryNode[], binding: string): string[] {
  let byBinding = onCache.get(peers);
  if (!byBinding) onCache.set(peers, (byBinding = new Map()));
  let on = byBinding.get(binding);
  if (!on)
    byBinding.set(
      binding,
      (on = peers
        .filter((p) => (p.addresses[binding]?.length ?? 0) > 0)
        .map((p) => p.name)
        .sort()),
    );
  return on;
}

const nameCache = new WeakMap<readonly InventoryNode[], Map<string, InventoryNode>>();
function byName(peers: readonly InventoryNode[]): Map<string, InventoryNode> {
  let m = nameCache.get(peers);
  if (!m) nameCache.set(peers, (m = new Map(peers.map((p) => [p.name, p]))));
  return m;
}

/**
 * Every peer address on every binding of the plan. With `round` and the plan's pinglist: on each binding only
 * the window of that binding's peers for this round (agent/pinglist.ts); a catch-up passes no round.
 */
export function targetsOf(self: InventoryNode, peers: readonly InventoryNode[], plan: ProbePlan, round?: number): Target[] {
  const out: Target[] = [];
  const perRound = round === undefined ? 0 : (plan.pinglist?.perRound ?? 0);
  for (const binding of Object.keys(plan.bindings)) {
    const own = self.addresses[binding];
    if (!own) continue;
    // With a pinglist only the window's peers, looked up by name: not a pass over every peer per binding.
    const list = perRound ? pinglistPeers(self.name, peersOn(peers, binding), round!, perRound).map((n) => byName(peers).get(n)!) : peers;
    const v4 = own.find((a) => isIP(a) === 4);
    const v6 = own.find((a) => isIP(a) === 6);
    for (const p of list) {
      if (p.name === self.name) continue;
      for (const addr of p.addresses[binding] ?? []) {
        const fam = isIP(addr);
        out.push({ binding, peer: p.name, addr, source: fam === 4 ? v4 : fam === 6 ? v6 : undefined });
      }
    }
  }
  return out;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** MTU-28 (IPv4: 20 IP + 8 ICMP) / MTU-48 (IPv6: 40 + 8) is the payload; the probe's size counts the 8-byte ICMP header. */
export function dfSizeFor(mtu: number, addr: string): number {
  return isIP(addr) === 6 ? mtu - 40 : mtu - 20;
}

async function probeTarget(t: Target, input: RoundInput): Promise<TargetRow> {
  const { plan, probes, signal } = input;
  const req = plan.bindings[t.binding]!;
  const timeoutMs = plan.timeoutMs;
  if (signal?.aborted) return { peer: t.peer, addr: t.addr }; // stopping: the round is thrown away
  if (!t.source) {
    // We hold no address of this family on the binding: nothing can be sent, say so instead of guessing.
    const none = Object.fromEntries(req.tcp.map((p) => [String(p), 'unreachable' as const]));
    return {
      peer: t.peer,
      addr: t.addr,
      icmp: { sent: 0, recv: 0, rtt: null, outcome: 'unreachable' },
      ...(req.tcp.length ? { tcp: none } : {}),
    };
  }
  // No abort signal per probe: one listener per probe on the agent's long-lived signal cost more CPU than the
  // probe (EventTarget scans its listeners on every add). A stop waits at most one probe timeout instead.
  const base = { target: t.addr, source: t.source, timeoutMs };
  const echoes: ProbeResult[] = [];
  for (let i = 0; i < plan.icmpCount && !signal?.aborted; i++) {
    if (i > 0) await sleep(input.echoGapMs ?? 20);
    echoes.push(await probes.icmp(base));
  }
  const tcpEntries = await Promise.all(req.tcp.map(async (port) => [String(port), (await probes.tcp({ ...base, port })).outcome] as const));
  const udpEntries = probes.udp
    ? await Promise.all(req.udp.map(async (port) => [String(port), (await probes.udp!({ ...base, port })).outcome] as const))
    : req.udp.map((port) => [String(port), 'not-measured' as const] as const);
  const row: TargetRow = { peer: t.peer, addr: t.addr };
  if (plan.icmpCount > 0) {
    const h = input.history;
    row.icmp = summariseIcmp(echoes, h ? (rtts) => h.add(`${t.binding} ${t.addr}`, rtts) : undefined);
  }
  if (tcpEntries.length) row.tcp = Object.fromEntries(tcpEntries);
  if (udpEntries.length) row.udp = Object.fromEntries(udpEntries);
  if (req.mtu) {
    const size = dfSizeFor(req.mtu, t.addr);
    row.mtu = { size, outcome: (await probes.icmp({ ...base, size, df: true })).outcome };
  }
  return row;
}

/** Runs one round; resolves with rows grouped by binding. */
export async function runRound(input: RoundInput): Promise<Record<string, TargetRow[]>> {
  const peers = input.only ? input.peers.filter((p) => input.only!.has(p.name)) : input.peers;
  const targets = shuffle(targetsOf(input.self, peers, input.plan, input.only ? undefined : input.round));
  const limiter = new Limiter(input.concurrency ?? 64);
  const rows = await Promise.all(targets.map((t) => limiter.run(() => probeTarget(t, input)).then((r) => [t.binding, r] as const)));
  const out: Record<string, TargetRow[]> = {};
  for (const b of Object.keys(input.plan.bindings)) if (input.self.addresses[b]) out[b] = [];
  for (const [b, r] of rows) out[b]!.push(r);
  if (!input.only) input.history?.endRound();
  return out;
}

// The fleet benchmark's pure parts (test/bench/fleet-ws.ts): the inventory, the synthetic healthy rows a
// simulated agent sends for a plan, /proc and /metrics parsing, percentiles and the table. No sockets here.
import type { Inventory, InventoryNode } from '../../agent/contract/inventory.js';
import type { DnsCheck, HelloMsg, ProbePlan, ResponderInfo, TargetRow } from '../../agent/contract/wire.js';
import { wantedResponders } from '../../agent/responders.js';
import { splitResponders } from '../../agent/contract/listening.js';
import type { LinkFact } from '../../agent/contract/link-wire.js';
import { dfSizeFor, targetsOf } from '../../agent/round.js';
import { AGENT_VERSION } from '../../agent/contract/version.js';
import { WIRE_VERSION } from '../../agent/contract/wire.js';

/** Six of the openstack profile's bindings: one with an MTU check, the others TCP ports. */
export const benchBindings = ['internal', 'public', 'admin', 'shared-db', 'ceph-public', 'ceph-cluster', 'amqp', 'ovn'];

/** 198.18.0.0/15 (benchmarking range): binding j, node i -> 198.18.0.0 + j * 4096 + i + 1. Strings only. */
export function benchAddress(binding: number, node: number): string {
  const n = binding * 4096 + node + 1;
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

export function fleetInventory(nodes: number, bindings: number): Inventory {
  if (nodes < 2 || nodes > 4000) throw new Error(`--nodes must be 2..4000, got ${nodes}`);
  if (bindings < 1 || bindings > benchBindings.length) throw new Error(`--bindings must be 1..${benchBindings.length}, got ${bindings}`);
  const names = benchBindings.slice(0, bindings);
  return {
    bindings: [...names].sort(),
    spaces: {},
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `node-${i + 1}`,
      addresses: Object.fromEntries(names.map((b, j) => [b, [benchAddress(j, i)]])),
    })),
  };
}

/** The pinglist size of a plan (`plan.pinglist.perRound`); 0 = every peer. */
export function pinglistOf(plan: ProbePlan): number {
  return plan.pinglist?.perRound ?? 0;
}

/** One healthy row toward `addr`, shaped as agent/round.ts shapes it for the plan's binding. */
export function healthyRow(plan: ProbePlan, binding: string, peer: string, addr: string, rttMs: number): TargetRow {
  const req = plan.bindings[binding]!;
  const row: TargetRow = { peer, addr };
  if (plan.icmpCount > 0) row.icmp = { sent: plan.icmpCount, recv: plan.icmpCount, rtt: [rttMs, rttMs, rttMs, rttMs, rttMs], outcome: 'ok' };
  if (req.tcp.length) row.tcp = Object.fromEntries(req.tcp.map((p) => [String(p), 'ok' as const]));
  if (req.udp.length) row.udp = Object.fromEntries(req.udp.map((p) => [String(p), 'ok' as const]));
  if (req.mtu) row.mtu = { size: dfSizeFor(req.mtu, addr), outcome: 'ok' };
  return row;
}

/**
 * Healthy rows of the whole fleet per binding and address for one plan, shared by every simulated agent of a
 * process: a healthy row depends only on the peer, so no agent holds a copy of its own.
 */
export class RowTable {
  private key = '';
  private byBinding = new Map<string, Map<string, TargetRow>>();
  // The key is computed once per plan object and node list, not per row (600 rows a round at 1,000 nodes: a
  // ~1 KB string built and compared per row was a fifth of the simulator's CPU).
  private keyOf = new WeakMap<ProbePlan, string>();
  private last: { plan: ProbePlan; nodes: number } | undefined;

  row(plan: ProbePlan, nodes: readonly InventoryNode[], binding: string, peer: string, addr: string): TargetRow {
    if (this.last?.plan !== plan || this.last.nodes !== nodes.length) {
      let key = this.keyOf.get(plan);
      if (key === undefined) this.keyOf.set(plan, (key = JSON.stringify(plan.bindings) + plan.icmpCount));
      key += nodes.length;
      this.last = { plan, nodes: nodes.length };
      if (key !== this.key) {
        this.key = key;
        this.byBinding = new Map();
      }
    }
    let m = this.byBinding.get(binding);
    if (!m) this.byBinding.set(binding, (m = new Map()));
    let r = m.get(addr);
    if (!r) m.set(addr, (r = healthyRow(plan, binding, peer, addr, 0.2)));
    return r;
  }

  /** The same row with a slower round: max 4x, p99 3x (an echo that waited); what a delta round must re-send. */
  spiked(row: TargetRow): TargetRow {
    let s = this.spikes.get(row);
    if (!s) {
      const ic = row.icmp;
      const t = ic?.rtt;
      s = t && ic ? { ...row, icmp: { ...ic, rtt: [t[0], t[1], t[2] * 4, t[3], t[4] * 3] } } : row;
      this.spikes.set(row, s);
    }
    return s;
  }
  private spikes = new WeakMap<TargetRow, TargetRow>();
}

/**
 * What agent `self` sends for a round: the targets agent/round.ts's targetsOf() picks (every peer, or with
 * the plan's pinglist this round's window of each binding's peers; `only` those peers for a catch-up or a
 * trimmed first round, which probe no window), grouped by binding as runRound() groups them.
 */
export function roundRows(
  table: RowTable,
  plan: ProbePlan,
  nodes: readonly InventoryNode[],
  self: InventoryNode,
  round: number,
  only?: ReadonlySet<string>,
  changing = 0,
): Record<string, TargetRow[]> {
  const peers = only ? nodes.filter((p) => only.has(p.name)) : nodes;
  const out: Record<string, TargetRow[]> = {};
  for (const b of Object.keys(plan.bindings)) if (self.addresses[b]) out[b] = [];
  for (const t of targetsOf(self, peers, plan, only ? undefined : round)) {
    const r = table.row(plan, nodes, t.binding, t.peer, t.addr);
    // A share `changing` of rows had a slow echo this round (every row stays healthy).
    out[t.binding]!.push(changing > 0 && Math.random() < changing ? table.spiked(r) : r);
  }
  return out;
}

/** The hello a healthy agent sends: interfaces found; with a plan, its responders listening; DNS when asked. */
export function simHello(self: InventoryNode, plan?: ProbePlan, withDns = false, withLinks = false): HelloMsg {
  const interfaces = Object.entries(self.addresses).flatMap(([binding, addrs]) =>
    addrs.map((address) => ({ binding, address, iface: `eth-${binding}`.slice(0, 15), mtu: 9000, link: 'up' as const })),
  );
  const responders: ResponderInfo[] = plan ? wantedResponders(plan, self.addresses).map((r) => ({ ...r, state: 'listening' as const })) : [];
  const dns: DnsCheck[] = Object.entries(self.addresses).flatMap(([binding, addrs]) =>
    addrs.map((a) => ({ kind: 'address' as const, binding, query: a, names: [self.name], addresses: [a], ok: true })),
  );
  dns.push({ kind: 'hostname', query: self.name, names: [self.name], addresses: Object.values(self.addresses).flat(), ok: true });
  return {
    v: WIRE_VERSION,
    type: 'hello',
    node: self.name,
    agentVersion: AGENT_VERSION,
    hostname: self.name,
    icmp: 'available',
    interfaces,
    ...splitResponders(responders),
    ...(withDns ? { dns } : {}),
    ...(withLinks && plan ? { links: simLinks(self), lldp: 'ok' as const } : {}),
  };
}

/**
 * Link facts as a real agent reads them on a bonded node: each binding a VLAN on an 802.3ad bond of two 10G
 * members, with the LACP partner and one LLDP neighbour a member (~1 KB a binding).
 */
export function simLinks(self: InventoryNode): LinkFact[] {
  const lacp = (systemMac: string, key: number) => ({ systemMac, key, portState: 61 });
  const up = { duplex: 'full' as const, carrier: true, mtu: 9000, operstate: 'up' };
  const n = Number(/\d+$/.exec(self.name)?.[0] ?? 0);
  return Object.keys(self.addresses).map((binding, k) => ({
    binding,
    iface: `bond0.${100 + k}`,
    kind: 'vlan' as const,
    speedMbps: 20000,
    ...up,
    bond: { mode: '802.3ad', mii: 'up', aggregatorId: 1, ports: 2, actorKey: 15, partnerKey: 8, partnerMac: '58:6a:b1:c7:02:fa' },
    ports: ['eno1', 'eno2'].map((iface, i) => ({
      iface,
      speedMbps: 10000,
      ...up,
      mii: 'up',
      aggregatorId: 1,
      linkFailures: 0,
      actor: lacp('74:85:c4:17:a5:48', 15),
      partner: lacp('58:6a:b1:c7:02:fa', 8),
      lldp: [{ chassis: `leaf-${(n >> 5) + 1}`, chassisId: '58:6a:b1:c7:02:fa', port: `swp${((n * 2 + i) % 64) + 1}`, portDescr: `${self.name} ${iface}` }],
    })),
  }));
}

/** utime + stime of /proc/PID/stat, in seconds (fields 14 and 15, counted after the command's parenthesis). */
export function cpuSecondsOf(stat: string, ticksPerSecond = 100): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / ticksPerSecond;
}

/** A field of /proc/PID/status in MiB (VmHWM: peak RSS, VmRSS), or NaN. */
export function statusMiB(status: string, field = 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Series (sample lines) in a Prometheus text exposition, and the values of the named unlabelled series. */
export function parseMetrics(
  text: string,
  names: readonly string[] = ['nodejs_eventloop_lag_p99_seconds'],
): { series: number; values: Record<string, number> } {
  let series = 0;
  const values: Record<string, number> = {};
  const wanted = new Set(names);
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    series++;
    const name = line.slice(0, line.indexOf(' '));
    if (wanted.has(name)) values[name] = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return { series, values };
}

/** Nearest-rank percentile (p in 0..100) of the finite values; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return undefined;
  const rank = Math.ceil((p / 100) * v.length);
  return v[Math.min(v.length - 1, Math.max(0, rank - 1))];
}

export const median = (values: readonly number[]) => percentile(values, 50);

/** One round of the fleet benchmark as reported (table row and --json element). */
export interface RoundStats {
  round: number;
  /** Agents whose results for this round went out. */
  agentsSent: number;
  /** When the last results message of the round was written to its socket, compressed (ms since the epoch). */
  lastSentAt?: number;
  /** The simulator: how late the round's last send was against its schedule (ms). */
  sendLagMs?: number;
  /** Aggregator utime+stime over this round's window (s), all its threads. */
  aggCpuS: number;
  /**
   * Of aggCpuS, the main (JavaScript) thread's: the rest is V8's helper threads (the optimising compiler,
   * concurrent marking, parallel scavenges) and libuv's pool, which no change to the aggregator's own code reaches.
   */
  aggMainCpuS?: number;
  /** Write system calls the aggregator made over the window (/proc/PID/io syscw; --json only). */
  aggWrites?: number;
  /** The simulator's worker processes, summed, over the same window (s). */
  simCpuS: number;
  rssPeakMiB: number;
  /** V8 heap in use at the window's end (MiB); committed; memory outside the heap (ArrayBuffers, Buffers). */
  heapMiB?: number;
  heapTotalMiB?: number;
  externalMiB?: number;
  dropped: number;
  closeCodes: Record<string, number>;
  loopP99Ms?: number;
  /** Result rows the aggregator took in over the window (pinger_result_rows_total). */
  rowsIn?: number;
  /** Pairs reported unchanged over the window (pinger_result_pairs_unchanged_total): measured, not re-sent. */
  unchangedIn?: number;
  /** Results messages over the window that named their peers instead of indexing the offered peer set. */
  namedIn?: number;
  verdict?: string;
  /** From lastSentAt to the first report whose verdict covers this round on every node (s). */
  verdictDelayS?: number;
  metricsMs?: number;
  series?: number;
  reportKiB?: number;
  reportMs?: number;
}

const fix = (v: number | undefined, d: number) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));

/** The human table: one line per round, fixed columns. */
export function formatTable(rows: readonly RoundStats[]): string {
  const head = [
    'round',
    'sent',
    'agg CPU s',
    'JS thread s',
    'sim CPU s',
    'RSS peak MiB',
    'heap MiB',
    'rows in',
    'unchanged',
    'dropped',
    'loop p99 ms',
    'verdict',
    'after last msg s',
    'send lag ms',
    '/metrics ms',
    'series',
    'report KiB',
    'report ms',
  ];
  const lines = rows.map((r) => [
    String(r.round),
    String(r.agentsSent),
    fix(r.aggCpuS, 2),
    fix(r.aggMainCpuS, 2),
    fix(r.simCpuS, 2),
    fix(r.rssPeakMiB, 0),
    fix(r.heapMiB, 0),
    r.rowsIn === undefined ? '-' : `${(r.rowsIn / 1e6).toFixed(2)}M`,
    r.unchangedIn === undefined ? '-' : `${(r.unchangedIn / 1e6).toFixed(2)}M`,
    r.dropped
      ? `${r.dropped} (${Object.entries(r.closeCodes)
          .map(([c, n]) => `${c}x${n}`)
          .join(' ')})`
      : '0',
    fix(r.loopP99Ms, 1),
    r.verdict ?? '-',
    r.verdictDelayS === undefined ? 'never' : fix(r.verdictDelayS, 2),
    fix(r.sendLagMs, 0),
    fix(r.metricsMs, 1),
    r.series === undefined ? '-' : String(r.series),
    fix(r.reportKiB, 0),
    fix(r.reportMs, 0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  return [fmt(head), `|${widths.map((w) => `${'-'.repeat(w + 1)}:`).join('|')}|`, ...lines.map(fmt)].join('\n');
}

/** Over the rounds after the first (round 0 is the connection ramp; all of them when there is only one). */
export interface FleetSummary {
  aggCpuMedianS?: number;
  verdictDelayMedianS?: number;
  verdictDelayMaxS?: number;
  /** Rounds whose verdict never came within the run. */
  verdictMissing: number;
  loopP99MaxMs?: number;
  rssPeakMiB?: number;
  dropped: number;
}

export function summarise(rounds: readonly RoundStats[]): FleetSummary {
  const steady = rounds.length > 1 ? rounds.slice(1) : rounds;
  const delays = steady.flatMap((r) => (r.verdictDelayS === undefined ? [] : [r.verdictDelayS]));
  const opt = (k: string, v: number | undefined) => (v === undefined ? {} : { [k]: v });
  return {
    ...opt('aggCpuMedianS', median(steady.map((r) => r.aggCpuS))),
    ...opt('verdictDelayMedianS', median(delays)),
    ...opt('verdictDelayMaxS', percentile(delays, 100)),
    verdictMissing: steady.length - delays.length,
    ...opt(
      'loopP99MaxMs',
      percentile(
        steady.flatMap((r) => (r.loopP99Ms === undefined ? [] : [r.loopP99Ms])),
        100,
      ),
    ),
    ...opt(
      'rssPeakMiB',
      percentile(
        rounds.map((r) => r.rssPeakMiB),
        100,
      ),
    ),
    dropped: rounds.reduce((a, r) => a + r.dropped, 0),
  };
}

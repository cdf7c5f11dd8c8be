// Synthetic fleets for metrics tests and the series benchmark: an AggregatorState fed hello and results
// messages directly (no network, no processes). Addresses are documentation ranges and are never contacted.
import type { Inventory } from '../../agent/contract/inventory.js';
import { WIRE_VERSION, type HelloMsg, type ResultsMsg, type TargetRow } from '../../agent/contract/wire.js';
import { packRows } from '../../agent/contract/wire-packed.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { AggregatorState } from '../../aggregator/state.js';

const demoProfile = builtinProfile('demo');

export type Fault = 'unreachable' | 'loss' | 'port' | 'mtu';
/** Says what goes wrong from -> to on a binding; undefined = healthy. */
export type FaultFn = (binding: string, from: string, to: string) => Fault | undefined;

export const sixBindings = ['internal', 'public', 'admin', 'shared-db', 'ceph-public', 'ceph-cluster'];

export function synthInventory(nodes: number, bindings: string[] = sixBindings): Inventory {
  return {
    bindings: [...bindings].sort(),
    spaces: {},
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `node-${i + 1}`,
      addresses: Object.fromEntries(bindings.map((b, j) => [b, [`2001:db8:${j + 1}::${(i + 1).toString(16)}`]])),
    })),
  };
}

export function helloFor(inv: Inventory, node: string, icmp: HelloMsg['icmp'] = 'available'): HelloMsg {
  const n = inv.nodes.find((x) => x.name === node)!;
  return {
    v: 3,
    type: 'hello',
    node,
    agentVersion: 'test',
    hostname: node,
    icmp,
    interfaces: Object.entries(n.addresses).flatMap(([binding, addrs]) => addrs.map((address) => ({ binding, address, iface: 'eth0', mtu: 1500 }))),
    responders: [],
  };
}

function row(peer: string, addr: string, fault: Fault | undefined, rttMs: number): TargetRow {
  switch (fault) {
    case 'unreachable':
      return { peer, addr, icmp: { sent: 3, recv: 0, rtt: null, outcome: 'filtered' }, tcp: { '5000': 'filtered' } };
    case 'loss':
      return { peer, addr, icmp: { sent: 3, recv: 2, rtt: [rttMs, rttMs, rttMs, rttMs, rttMs], outcome: 'filtered' }, tcp: { '5000': 'ok' } };
    case 'port':
      return { peer, addr, icmp: { sent: 3, recv: 3, rtt: [rttMs, rttMs, rttMs, rttMs, rttMs], outcome: 'ok' }, tcp: { '5000': 'refused' } };
    case 'mtu':
      return {
        peer,
        addr,
        icmp: { sent: 3, recv: 3, rtt: [rttMs, rttMs, rttMs, rttMs, rttMs], outcome: 'ok' },
        tcp: { '5000': 'ok' },
        mtu: { size: 8972, outcome: 'filtered' },
      };
    default:
      return { peer, addr, icmp: { sent: 3, recv: 3, rtt: [rttMs, rttMs, rttMs, rttMs, rttMs], outcome: 'ok' }, tcp: { '5000': 'ok' } };
  }
}

/** One node's rows of a full round, per binding. */
export function rowsFor(inv: Inventory, from: string, fault: FaultFn = () => undefined, rttMs = 0.3): Record<string, TargetRow[]> {
  const bindings: Record<string, TargetRow[]> = {};
  for (const b of inv.bindings) {
    bindings[b] = inv.nodes
      .filter((p) => p.name !== from)
      .flatMap((p) => (p.addresses[b] ?? []).map((addr) => row(p.name, addr, fault(b, from, p.name), rttMs)));
  }
  return bindings;
}

/** One node's full round as one results message (packed tables, wire v2). */
export function roundFor(inv: Inventory, from: string, round: number, fault: FaultFn = () => undefined, rttMs = 0.3): ResultsMsg {
  const bindings = Object.fromEntries(Object.entries(rowsFor(inv, from, fault, rttMs)).map(([b, rows]) => [b, packRows(rows)]));
  return { v: WIRE_VERSION, type: 'results', node: from, round, durationMs: 100, final: true, bindings };
}

export interface SynthFleet {
  state: AggregatorState;
  inv: Inventory;
  clock: { t: number };
  /** Every node (for which `connected` holds) says hello, then a second later reports `rounds` full rounds. */
  feed(opts?: { fault?: FaultFn; rounds?: number; connected?: (node: string) => boolean }): void;
}

/** A fresh state for a synthetic fleet; attach listeners (metrics, a server) before calling feed(). */
export function synthFleet(nodes: number, bindings?: string[]): SynthFleet {
  const inv = synthInventory(nodes, bindings);
  const clock = { t: 1_000_000 };
  const state = new AggregatorState({ inventory: inv, profile: demoProfile, now: () => clock.t });
  let round = 0;
  return {
    state,
    inv,
    clock,
    feed(opts = {}) {
      const up = inv.nodes.filter((n) => opts.connected?.(n.name) ?? true);
      for (const n of up) state.hello(helloFor(inv, n.name));
      for (let r = 0; r < (opts.rounds ?? 1); r++) {
        clock.t += 1000;
        for (const n of up) state.results(roundFor(inv, n.name, round, opts.fault));
        round++;
      }
    },
  };
}

// Findings: what is wrong, one per cause, with the nodes, the binding and a few example pairs.
// The finding kinds live in ONE table below: the type, the report order, the metrics' zero-initialised
// series and the README's table all come from it.
export type Severity = 'error' | 'warning';

/** Every finding kind, in the order they are reported (causes that explain others first), with what it means. */
export const findingKindTable = {
  'agent-missing': 'an expected agent is not connected (past the start-up grace)',
  'agent-stale': 'an agent is connected but nothing (no heartbeat, no round) came from it for a while',
  'agent-stalled': 'an agent sends heartbeats but no probe rounds',
  'address-missing': 'an inventory address is no longer held by any interface of its node',
  'switch-fault': 'every node behind one switch (LLDP) fails alike on a binding: the switch, not the nodes',
  'node-isolated': 'a node reaches no peer on a binding and no peer reaches it',
  partition: 'a binding is split into groups that reach each other inside and nothing across',
  asymmetric: 'pairs that work in one direction only',
  unreachable: 'pairs that cannot reach each other while both reach other peers',
  'mtu-mismatch': 'an interface MTU below the profile (or differing), or full-size DF packets not getting through',
  'link-speed-low': "a physical port under a node's binding interface negotiated less than the profile's link_speed",
  'bond-degraded': 'a bond member is down, or its LACP partner is missing, out of sync or not the same on every member',
  'speed-mismatch': 'peers on one binding negotiated different link speeds',
  'bandwidth-low': "sampled TCP throughput between pairs is below the profile's bandwidth minimum; names the slow side",
  'port-description-mismatch': "a switch port's LLDP description does not name the node cabled to it",
  'port-filtered': 'a TCP port gets no answer while ping works',
  'port-refused': 'a TCP port is refused (RST)',
  'port-in-use': "a port is held by another process, not the agent's responder",
  'udp-blocked': 'UDP echoes do not come back while ping works',
  loss: 'some packets are lost on the way',
  'high-latency': 'round trips over the profile bound',
  'dns-mismatch': 'forward and reverse DNS disagree',
  'clock-skew': "a node's clock is off the aggregator's by more than the profile allows",
} as const;
export type FindingKind = keyof typeof findingKindTable;
export const findingKinds = Object.keys(findingKindTable) as FindingKind[];

export type Family = 'ipv4' | 'ipv6';
export const familyOf = (address: string): Family => (address.includes(':') ? 'ipv6' : 'ipv4');

type FamilyInventory = { nodes: readonly { addresses: Record<string, readonly string[]> }[] };
/** Per inventory object (a reload makes a new one): a snapshot asks for every binding's, 6,000 addresses a time at 1,000 x 6. */
const familiesKnown = new WeakMap<FamilyInventory, Map<string, Family[]>>();

/** The address families a binding's inventory addresses use, IPv4 first. */
export function addressFamilies(inv: FamilyInventory, binding: string): Family[] {
  let known = familiesKnown.get(inv);
  if (!known) familiesKnown.set(inv, (known = new Map()));
  let out = known.get(binding);
  if (!out) {
    const fams = new Set<Family>();
    for (const n of inv.nodes) for (const a of n.addresses[binding] ?? []) fams.add(familyOf(a));
    known.set(binding, (out = (['ipv4', 'ipv6'] as const).filter((f) => fams.has(f))));
  }
  return out;
}
/** How a family is written in summaries: "internal IPv6". */
export const familyText = (f: Family | undefined): string => (f === 'ipv6' ? ' IPv6' : f === 'ipv4' ? ' IPv4' : '');

export interface Evidence {
  from: string;
  to: string;
  detail: string;
}

export interface Finding {
  severity: Severity;
  kind: FindingKind;
  binding?: string;
  /** Present when the finding concerns one address family only (the other works, or is not used there). */
  family?: Family;
  nodes: string[];
  summary: string;
  /** One line in plain words: what to check ("node-3's ceph-cluster interface has MTU 1500; the profile needs 9000"). */
  hint?: string;
  /** Up to MAX_EVIDENCE example pairs (node-level findings: from = the node, to = the node or "aggregator"). */
  evidence?: Evidence[];
  /** partition only: the groups that reach each other inside and nothing across, largest first. */
  groups?: string[][];
  /** switch-fault only: the switch (LLDP system name) and the ports the named nodes are cabled to. */
  switch?: { name: string; ports: { node: string; port: string; iface: string }[] };
}

export const MAX_EVIDENCE = 5;

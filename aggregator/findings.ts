// Findings: what is wrong, one per cause, with the nodes, the binding and a few example pairs.
export type Severity = 'error' | 'warning';

export interface Evidence {
  from: string;
  to: string;
  detail: string;
}

export interface Finding {
  severity: Severity;
  kind: string;
  binding?: string;
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

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
  hint?: string;
  evidence?: Evidence[];
}

export const MAX_EVIDENCE = 5;

// The one OpenStack-readiness verdict. Pure.
import type { Finding } from './findings.js';

export type Verdict = 'ready' | 'degraded' | 'not-ready' | 'pending';

export interface VerdictInput {
  /** Expected nodes that have not yet reported a full round (missing, stale or still on their first round). */
  waitingFor: number;
  findings: readonly Finding[];
}

/** pending until every expected node has reported a full round; then errors -> not-ready, warnings -> degraded. */
export function verdictOf(input: VerdictInput): Verdict {
  if (input.waitingFor > 0) return 'pending';
  if (input.findings.some((f) => f.severity === 'error')) return 'not-ready';
  if (input.findings.some((f) => f.severity === 'warning')) return 'degraded';
  return 'ready';
}

// The one OpenStack-readiness verdict. Pure.
import type { Finding } from './findings.js';

export type Verdict = 'ready' | 'degraded' | 'not-ready' | 'pending';

export interface VerdictInput {
  /** Expected nodes the verdict still waits for: starting up (not yet a full round), or away for less than the grace. */
  waitingFor: number;
  findings: readonly Finding[];
  /**
   * With a pinglist: the share of pairs with a current result (coverage.ts). Below 1 the verdict is pending,
   * but an error is reported at once: a fault found in the pairs measured so far is not held back.
   */
  coverage?: number;
}

/**
 * pending while agents are still starting (an agent away longer than the grace no longer counts as starting:
 * its agent-missing finding is an error); then errors -> not-ready; then pending while a pinglist has not yet
 * covered every pair; then warnings -> degraded.
 */
export function verdictOf(input: VerdictInput): Verdict {
  if (input.waitingFor > 0) return 'pending';
  if (input.findings.some((f) => f.severity === 'error')) return 'not-ready';
  if (input.coverage !== undefined && input.coverage < 1) return 'pending';
  if (input.findings.some((f) => f.severity === 'warning')) return 'degraded';
  return 'ready';
}

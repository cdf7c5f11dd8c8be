// The one OpenStack-readiness verdict. Pure.
import type { Finding } from './findings.js';

export type Verdict = 'ready' | 'degraded' | 'not-ready' | 'pending';

/** What a pending verdict waits for: agents to connect, first rounds, pairs to measure again. */
export interface Waiting {
  /** Expected agents not connected yet (within the grace). */
  connect: string[];
  /** Connected agents whose first full round is not in yet. */
  firstRound: string[];
  /** Nodes that came up (or changed their responders) since their peers last probed them. */
  remeasure: string[];
  /** Nodes whose ports began to fail after their agent was last heard: is it up, or is it a firewall? */
  heard: string[];
}

export interface VerdictInput {
  /** Expected nodes the verdict still waits for: starting up (not yet a full round), or away for less than the grace. */
  waitingFor: number;
  findings: readonly Finding[];
  /**
   * With a pinglist: the share of pairs with a current result (coverage.ts). Below 1 the verdict is pending,
   * but an error is reported at once: a fault found in the pairs measured so far is not held back.
   */
  coverage?: number;
  /**
   * Nodes toward which failing ports are held back until the node is heard from again (a stopped agent is not a
   * firewall). Without an error, the verdict waits for them rather than read ready while it hides a failure.
   */
  holding?: number;
}

/**
 * pending while agents are still starting (an agent away longer than the grace no longer counts as starting:
 * its agent-missing finding is an error); then errors -> not-ready; then pending while failing ports are held
 * back or a pinglist has not yet covered every pair; then warnings -> degraded.
 */
export function verdictOf(input: VerdictInput): Verdict {
  if (input.waitingFor > 0) return 'pending';
  if (input.findings.some((f) => f.severity === 'error')) return 'not-ready';
  if (input.holding) return 'pending';
  if (input.coverage !== undefined && input.coverage < 1) return 'pending';
  if (input.findings.some((f) => f.severity === 'warning')) return 'degraded';
  return 'ready';
}

/** Why the verdict waits for each node it waits for (`waiting`, `heard`: see `holding`), in the order of `nodes`. */
export function waitingReasons(
  nodes: readonly { record: { name: string; fullRounds: number }; state: string }[],
  waiting: ReadonlySet<string>,
  heard: ReadonlySet<string>,
): Waiting {
  const why: Waiting = { connect: [], firstRound: [], remeasure: [], heard: [] };
  for (const { record: n, state } of nodes) {
    if (heard.has(n.name)) why.heard.push(n.name);
    if (!waiting.has(n.name)) continue;
    if (state === 'missing') why.connect.push(n.name);
    else if (n.fullRounds === 0) why.firstRound.push(n.name);
    else why.remeasure.push(n.name);
  }
  return why;
}

// The state's shapes: its options, what a reload changed, the snapshot every reader shares and how stale it may be
// (kept apart so state.ts holds only the writer's logic).
import type { Inventory } from '../agent/contract/inventory.js';
import type { Coverage } from './coverage.js';
import { rejectCodes, type RejectCode } from './errors.js';
import type { Finding } from './findings.js';
import type { NodeRecord, NodeState } from './nodes.js';
import type { Profile } from './profile.js';
import type { Waiting } from './report.js';
import type { StateClock } from './state-clock.js';
import type { Verdict } from './verdict.js';

export interface StateOptions {
  inventory: Inventory;
  profile: Profile;
  /** Wall-clock ms of what agents report (default: the clock's). */
  now?: () => number;
  /** The debounces' clock and timers (default: realClock). */
  clock?: StateClock;
}

export interface ReloadSummary {
  generation: number;
  nodes: number;
  added: string[];
  removed: string[];
  /** Nodes still listed whose addresses changed. */
  changed: string[];
  /** Pair cells carried over unchanged, over every binding. */
  keptPairs: number;
  profile: string;
}

export interface Snapshot {
  verdict: Verdict;
  findings: Finding[];
  /** `lastRound`: the record's, as of this snapshot (the record itself moves on). */
  nodes: { record: NodeRecord; state: NodeState; lastRound: number }[];
  waitingFor: number;
  /** What a pending verdict waits for, by node (inventory order). */
  waiting: Waiting;
  /** Per binding: the pairs with a current result (coverage.ts). */
  coverage: Map<string, Coverage>;
  at: number;
}

/** How far a node's clock estimate moves before the snapshot shows it (unless it crosses the profile's bound). */
export const CLOCK_SHOWN_MS = 5;

/** How stale a changed snapshot may be served (ms): 1,000 nodes change many times a second, every reader shares one. */
export const snapshotMaxAgeMs = (nodes: number) => (nodes > 500 ? 1000 : nodes > 200 ? 500 : 0);

/** The state's counters, for metrics and health: each only ever grows. */
export function newCounters() {
  return {
    messages: 0,
    /** Refusals by code (every code of the closed set starts at 0). */
    rejectedByCode: Object.fromEntries(rejectCodes.map((c) => [c, 0])) as Record<RejectCode, number>,
    hellos: 0,
    results: 0,
    /** Results naming peers by index into the offered peer set (agent/contract/peer-set.ts). */
    resultsIndexed: 0,
    rows: 0,
    unchanged: 0, // pairs delta rounds reported as unchanged (wire-packed.ts `same`)
    unknownPeers: 0,
  };
}

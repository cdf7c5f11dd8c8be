// The results messages of one round (pure): what the agent sends, and what the fleet benchmark's simulated
// agents send, so the benchmark measures the protocol the agent speaks.
import { WIRE_VERSION, type ResultsMsg, type TargetRow } from './contract/wire.js';

export interface RoundOut {
  node: string;
  round: number;
  durationMs: number;
  /** Agent clock (ms since the epoch) when the round began. */
  startedAt: number;
  /** A catch-up (rows for the peers a run-now named), with the run-now's `at` when it had one. */
  catchUp?: { requestedAt?: number };
  bindings: Record<string, TargetRow[]>;
}

/** Splits a round into messages of at most `batchRows` rows; the last says final. */
export function resultsMessages(out: RoundOut, batchRows = 5000): ResultsMsg[] {
  const { catchUp } = out;
  const asked = catchUp?.requestedAt !== undefined ? { requestedAt: catchUp.requestedAt } : {};
  const msgs: ResultsMsg[] = [];
  let cur: Record<string, TargetRow[]> = {};
  let n = 0;
  const flush = (final: boolean) => {
    msgs.push({
      v: WIRE_VERSION,
      type: 'results',
      node: out.node,
      round: out.round,
      durationMs: out.durationMs,
      startedAt: out.startedAt,
      final,
      ...(catchUp ? { catchUp: true, ...asked } : {}),
      bindings: cur,
    });
    cur = {};
    n = 0;
  };
  for (const [b, list] of Object.entries(out.bindings)) {
    for (let i = 0; i < list.length; i += batchRows) {
      const part = list.slice(i, i + batchRows);
      if (n + part.length > batchRows) flush(false);
      (cur[b] ??= []).push(...part);
      n += part.length;
    }
    if (!cur[b] && list.length === 0) cur[b] = [];
  }
  flush(true);
  return msgs;
}

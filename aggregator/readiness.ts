// Since when each destination's responders count, per binding matrix, by the matrix's own index: a results
// message's rows are checked against it one by one (rows from a round begun before are set aside), and a lookup
// by name for each row was ~0.2 s of a full round's ~1 s at 1,000 x 6 (test/bench/aggregator-ingest.ts). The state
// sets a node's time wherever it changes (hello, disconnect, start, reload). Pure.
import type { BindingMatrix, ReadyAt } from './matrix.js';

export class Readiness {
  private readonly cols = new Map<BindingMatrix, Float64Array>();
  private readonly fns = new Map<BindingMatrix, ReadyAt>();

  constructor(matrices: readonly BindingMatrix[]) {
    for (const m of matrices) {
      const col = new Float64Array(m.n);
      this.cols.set(m, col);
      this.fns.set(m, (_peer, d) => col[d]!);
    }
  }

  /** Since when `node`'s responders count, in every matrix that has it (+Infinity: not up at all). */
  set(node: string, at: number): void {
    for (const [m, col] of this.cols) {
      const d = m.indexOf(node);
      if (d !== undefined) col[d] = at;
    }
  }

  /** `m`'s readiness, for its `apply` and `applySame`. */
  of(m: BindingMatrix): ReadyAt {
    return this.fns.get(m)!;
  }
}

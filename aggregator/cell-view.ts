// What a reader sees of one matrix cell (matrix.ts builds it from its typed arrays and sparse maps).
import type { TargetRow } from '../agent/contract/wire.js';
import type { CellState } from './cell-states.js';

export interface CellView {
  from: string;
  to: string;
  state: CellState;
  /** ms; NaN when unknown */
  rttAvg: number;
  rttP99: number;
  /** 0..1 */
  loss: number;
  updatedAt: number;
  /**
   * When the cell's state was first measured (ms, to the second), for cells that keep rows: a failure measured
   * again each round keeps the time it began (the diagnosis asks whether its destination was heard since).
   */
  since?: number;
  /** Full rows, kept only for cells that are not ok. */
  rows?: readonly TargetRow[];
}

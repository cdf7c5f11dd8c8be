// When each cell of a matrix was last measured, in 2 bytes a cell (pure): seconds after an epoch, where a Uint32 of
// seconds since 1970 took 4 (12 MiB more at 1,000 nodes x 6 bindings). Times are passed in.

/** Half the seconds a Uint16 offset spans (~9 h): the first stamp sits mid-span, so older ones fit too. */
const HALF_SPAN = 0x8000;

export class CellStamps {
  private readonly offsets: Uint16Array;
  /** Seconds since 1970 that offset 0 stands for; NaN until the first stamp. 0 itself means never measured. */
  private epoch = Number.NaN;

  constructor(cells: number) {
    this.offsets = new Uint16Array(cells);
    this.offsets.fill(0); // faults the pages in now, not on the first round's writes
  }

  /** A stamp (seconds since 1970) as the offset `set` takes: at least 1. Past the span, the epoch moves on. */
  offsetOf(s: number): number {
    if (Number.isNaN(this.epoch)) this.epoch = s - HALF_SPAN;
    else if (s - this.epoch > 0xffff) this.rebase(s - HALF_SPAN);
    return Math.max(1, s - this.epoch);
  }

  set(cell: number, offset: number): void {
    this.offsets[cell] = offset;
  }

  /** When the cell was last measured, in seconds since 1970 (0: never). */
  at(cell: number): number {
    const v = this.offsets[cell]!;
    return v ? this.epoch + v : 0;
  }

  /** Cell `from` of `old` (a matrix before a reload) as this one's cell `cell`. */
  copy(old: CellStamps, from: number, cell: number): void {
    const v = old.offsets[from]!;
    if (v && Number.isNaN(this.epoch)) this.epoch = old.epoch;
    this.offsets[cell] = v === 0 ? 0 : this.epoch === old.epoch ? v : this.offsetOf(old.epoch + v);
  }

  /**
   * Moves the epoch on (once every ~9 h of running). A cell last measured before the new epoch keeps offset 1: it
   * reads as measured at the epoch, 9 h or more ago. Only a pair nobody probed for that long gets there: each
   * pair is probed every round (every K rounds with a pinglist) while both agents are up.
   */
  private rebase(epoch: number): void {
    const shift = epoch - this.epoch;
    const u = this.offsets;
    for (let i = 0; i < u.length; i++) {
      const v = u[i]!;
      if (v) u[i] = v > shift ? v - shift : 1;
    }
    this.epoch = epoch;
  }
}

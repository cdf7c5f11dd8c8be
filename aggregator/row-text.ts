// A matrix's report rows as text (pure): one string per source row, one character per cell, and the same rows
// through the report's encoder (run-length), each kept until a cell of its row changes state. A healthy fleet's
// report then allocates no row; at 1,000 x 6 they were 6 MB of strings, built again for every new snapshot.

export class RowTexts {
  private readonly text: (string | undefined)[];
  private readonly encoded: (string | undefined)[];
  private encoder: ((row: string) => string) | undefined;

  constructor(
    private readonly n: number,
    /** Builds source row `row`'s text from the cells. */
    private readonly build: (row: number) => string,
  ) {
    this.text = new Array<string | undefined>(n).fill(undefined);
    this.encoded = new Array<string | undefined>(n).fill(undefined);
  }

  /** A cell of source row `row` changed state: its texts are built again when next asked for. */
  invalidate(row: number): void {
    this.text[row] = undefined;
    this.encoded[row] = undefined;
  }

  rows(): string[] {
    const out: string[] = [];
    for (let s = 0; s < this.n; s++) out.push(this.rowOf(s));
    return out;
  }

  /** The rows through `encode`; another encoder than last time starts afresh. */
  encodedRows(encode: (row: string) => string): string[] {
    if (this.encoder !== encode) {
      this.encoder = encode;
      this.encoded.fill(undefined);
    }
    const out: string[] = [];
    for (let s = 0; s < this.n; s++) {
      let e = this.encoded[s];
      if (e === undefined) this.encoded[s] = e = encode(this.rowOf(s));
      out.push(e);
    }
    return out;
  }

  private rowOf(s: number): string {
    let t = this.text[s];
    if (t === undefined) this.text[s] = t = this.build(s);
    return t;
  }
}

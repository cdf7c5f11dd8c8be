// A matrix's report rows as text (pure): one string per source row, one character per cell, the same rows
// through the report's encoder (run-length), and each row as JSON bytes, each kept until a cell of its row
// changes state. A healthy fleet's report then allocates no row; at 1,000 x 6 they were 6 MB of strings, built
// again for every new snapshot, and encoded again into the report's bytes for every report.

/**
 * The rows arrays `rows()` gave out, each with how to get its rows' JSON bytes (kept per row like the text), for
 * the report's bytes (report-bytes.ts): a reader that never writes them costs nothing.
 */
export const rowsJson = new WeakMap<readonly string[], () => readonly Buffer[]>();

export class RowTexts {
  private readonly text: (string | undefined)[];
  private readonly encoded: (string | undefined)[];
  private readonly json: (Buffer | undefined)[];
  private encoder: ((row: string) => string) | undefined;

  constructor(
    private readonly n: number,
    /** Builds source row `row`'s text from the cells. */
    private readonly build: (row: number) => string,
  ) {
    this.text = new Array<string | undefined>(n).fill(undefined);
    this.encoded = new Array<string | undefined>(n).fill(undefined);
    this.json = new Array<Buffer | undefined>(n).fill(undefined);
  }

  /** A cell of source row `row` changed state: its texts are built again when next asked for. */
  invalidate(row: number): void {
    this.text[row] = undefined;
    this.encoded[row] = undefined;
    this.json[row] = undefined;
  }

  rows(): string[] {
    const out: string[] = [];
    for (let s = 0; s < this.n; s++) out.push(this.rowOf(s));
    rowsJson.set(out, () => this.jsonOf(out));
    return out;
  }

  /**
   * The bytes of `rows` (an array rows() gave) as JSON strings: a row's kept bytes while it is still the row's
   * text, else its own (a cell changed since: the array is what its report holds, and stays so).
   */
  private jsonOf(rows: readonly string[]): Buffer[] {
    return rows.map((t, s) => {
      if (this.text[s] !== t) return Buffer.from(JSON.stringify(t));
      let b = this.json[s];
      if (b === undefined) this.json[s] = b = Buffer.from(JSON.stringify(t));
      return b;
    });
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

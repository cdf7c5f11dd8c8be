// Pinglist coverage (pure): the share of a binding's ordered pairs that have a current result, i.e. one
// measured since the destination's agent (re)announced its responders. With a pinglist each agent probes a
// rotating window of its peers, so coverage rises round by round to 100% within K rounds; a pair's last result
// is kept (the matrix only overwrites the cells a round names) until the pair is measured again.

export interface Coverage {
  /** Ordered pairs of binding members with a current result. */
  covered: number;
  /** Every ordered pair of binding members (nodes holding an address on the binding): m x (m - 1). */
  pairs: number;
  /** covered / pairs; 1 when there is no pair. */
  ratio: number;
}

/**
 * Coverage of one binding's matrix: `current` holds n x n cells, row-major (source x destination), bit 0 set where
 * the pair's result is current and 0 where not (the matrix's currency cells); `member(i)` says whether node i holds an address on the binding.
 */
export function coverageOf(n: number, current: ArrayLike<number>, member: (i: number) => boolean): Coverage {
  const mask = maskOf(n, member);
  let covered = 0;
  for (let s = 0; s < n; s++) covered += rowCovered(n, current, mask, s);
  return coverageFrom(covered, mask);
}

function maskOf(n: number, member: (i: number) => boolean): Uint8Array {
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (member(i)) mask[i] = 1;
  return mask;
}

/** The current pairs of source row s among members. */
function rowCovered(n: number, current: ArrayLike<number>, mask: Uint8Array, s: number): number {
  // Typed arrays, index loops, no branch per cell: 1,000 nodes x 6 bindings is 6M cells on a full count.
  if (!mask[s]) return 0;
  const base = s * n;
  let covered = 0;
  for (let d = 0; d < n; d++) covered += current[base + d]! & mask[d]!; // bit 0 is currency, mask 0 or 1: no branch to mispredict
  return covered - (current[base + s]! & 1); // the diagonal is no pair
}

function coverageFrom(covered: number, mask: Uint8Array): Coverage {
  let members = 0;
  for (const m of mask) members += m;
  const pairs = members > 1 ? members * (members - 1) : 0;
  return { covered, pairs, ratio: pairs ? covered / pairs : 1 };
}

/** What coverage is counted from: a matrix's currency cells, and versions that move when any of them changes. */
export interface CurrencySource {
  readonly n: number;
  readonly currencyVersion: number;
  /** Per source row, the currencyVersion of its last change: only rows past the counted version are recounted. */
  readonly rowCurrency: ArrayLike<number>;
  currentCells(): ArrayLike<number>;
}

interface Counted {
  version: number;
  mask: Uint8Array;
  rows: Int32Array;
  coverage: Coverage;
}

/**
 * Each matrix's coverage as of its currency version. While a fleet's first rounds fill the matrices, currency
 * changes between any two snapshots, but only in the rows of the agents heard since: those rows are recounted,
 * not all 6M cells (a full count again when who holds an address on the binding changes).
 */
export class CoverageCache {
  private readonly byMatrix = new WeakMap<CurrencySource, Counted>();
  of(m: CurrencySource, member: (i: number) => boolean): Coverage {
    const c = this.byMatrix.get(m);
    const mask = maskOf(m.n, member);
    const same = c !== undefined && c.mask.length === mask.length && c.mask.every((v, i) => v === mask[i]);
    if (same && c.version === m.currencyVersion) return c.coverage;
    const cells = m.currentCells();
    const rows = same ? c.rows : new Int32Array(m.n);
    const since = same ? c.version : -1;
    let covered = same ? c.coverage.covered : 0;
    for (let s = 0; s < m.n; s++) {
      if (same && !(m.rowCurrency[s]! > since)) continue;
      const now = rowCovered(m.n, cells, mask, s);
      covered += now - (same ? rows[s]! : 0);
      rows[s] = now;
    }
    const coverage = coverageFrom(covered, mask);
    this.byMatrix.set(m, { version: m.currencyVersion, mask, rows, coverage });
    return coverage;
  }
}

/** The pairs of several bindings together. */
export function totalCoverage(list: readonly Coverage[]): Coverage {
  let covered = 0;
  let pairs = 0;
  for (const c of list) {
    covered += c.covered;
    pairs += c.pairs;
  }
  return { covered, pairs, ratio: pairs ? covered / pairs : 1 };
}

/** A percentage that says 100% only when every pair is covered (99.95% is "99%", one pair of many is "<1%"). */
export function percentOf(c: Coverage): string {
  if (c.covered >= c.pairs) return '100%';
  if (c.covered === 0) return '0%';
  const p = Math.floor((c.covered / c.pairs) * 100);
  return p === 0 ? '<1%' : `${p}%`;
}

/** "coverage 43% of pairs (pinglist: full coverage every 10 rounds)" for the report's summary. */
export function coverageText(c: Coverage, rounds?: number): string {
  const every = rounds === undefined ? '' : ` (pinglist: full coverage every ${rounds === 1 ? 'round' : `${rounds} rounds`})`;
  return `coverage ${percentOf(c)} of pairs${every}`;
}

/** The report's figure: the ratio to 4 decimals, floored so a binding short of a pair never shows 1. */
export function reportRatio(c: Coverage): number {
  return c.covered >= c.pairs ? 1 : Math.floor(c.ratio * 10_000) / 10_000;
}

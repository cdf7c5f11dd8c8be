// @ts-check
// The cell states on the page: the report's definitions (name, code, colour, label; the page keeps no copy of
// its own), run-length rows decoded, and rows painted into a matrix image's pixels. No DOM but the CSS colours.

/** @typedef {import('../cell-states.js').CellState} CellState */
/** @typedef {import('../cell-states.js').CellStateInfo} CellStateInfo */

/**
 * The cell states as the report gives them (aggregator/cell-states.ts is the one definition): the page keeps
 * no copy of its own. Set from every report; also sets the CSS colours (--ok, --loss, ...) the legend uses.
 * @type {Map<string, CellStateInfo>}
 */
export const cellStates = new Map();

/** @param {readonly CellStateInfo[]} list */
export function useCellStates(list) {
  cellStates.clear();
  const root = document.documentElement.style;
  for (const s of list) {
    cellStates.set(s.name, s);
    root.setProperty(`--${s.name}`, s.colour);
    root.setProperty(`--${s.name}-ink`, s.ink);
  }
}

/** A state's words (its name when the report did not say). @param {string} name */
export const stateLabel = (name) => cellStates.get(name)?.label ?? name;

/** "o3-o2" -> "ooo-oo" (the report's ?matrix=runs rows). @param {string} run */
export function decodeRuns(run) {
  let out = '';
  for (let i = 0; i < run.length; ) {
    const ch = /** @type {string} */ (run[i]);
    let j = i + 1;
    let k = 0;
    for (; j < run.length; j++) {
      const d = run.charCodeAt(j) - 48;
      if (d < 0 || d > 9) break;
      k = k * 10 + d;
    }
    out += j > i + 1 ? ch.repeat(k) : ch;
    i = j;
  }
  return out;
}

/** @param {string} hex @returns {[number, number, number]} */
export function rgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** Packs a colour as the little-endian RGBA word an ImageData's Uint32 view expects. */
export const word = (/** @type {[number, number, number]} */ [r, g, b]) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;

/**
 * Healthy pairs shade from light (fast) to dark green (slow) by RTT p99 on a fixed log scale, 0.1 ms to
 * 20 ms: absolute, so a uniformly fast cluster looks uniformly light instead of exaggerating microseconds.
 */
const fast = rgb('#a5d6a7');
const slow = rgb('#1b5e20');
const LO = Math.log10(0.1);
const HI = Math.log10(20);
/** @param {number} ms */
export function okShade(ms) {
  const t = Math.min(1, Math.max(0, (Math.log10(Math.max(ms, 1e-3)) - LO) / (HI - LO)));
  const mix = (/** @type {0|1|2} */ k) => Math.round(fast[k] + (slow[k] - fast[k]) * t);
  return word([mix(0), mix(1), mix(2)]);
}

/** Black or white, whichever reads better on a packed cell colour. @param {number} w */
export function ink(w) {
  const lum = 0.299 * (w & 255) + 0.587 * ((w >> 8) & 255) + 0.114 * ((w >> 16) & 255);
  return lum > 150 ? '#000' : '#fff';
}

/**
 * Each code's packed colour, and which codes are problems (neither ok, self nor unknown).
 * @param {Record<string, string>} legend code -> state
 */
export function palette(legend) {
  /** @type {Record<string, {w: number, problem: boolean, ok: boolean}>} */
  const out = {};
  for (const [ch, st] of Object.entries(legend)) {
    out[ch] = { w: word(rgb(cellStates.get(st)?.colour ?? '#000000')), problem: st !== 'ok' && st !== 'self' && st !== 'none', ok: st === 'ok' };
  }
  return out;
}

/** Paints one run-length row into its pixels; returns the columns of its problem cells. @param {string} run @param {Uint32Array} px @param {ReturnType<typeof palette>} pal */
export function paintRuns(run, px, pal) {
  /** @type {number[]} */
  const problems = [];
  let j = 0;
  for (let i = 0; i < run.length; ) {
    const ch = /** @type {string} */ (run[i]);
    let k = i + 1;
    let count = 0;
    for (; k < run.length; k++) {
      const d = run.charCodeAt(k) - 48;
      if (d < 0 || d > 9) break;
      count = count * 10 + d;
    }
    if (k === i + 1) count = 1;
    const p = pal[ch];
    px.fill(p?.w ?? 0xff000000, j, j + count);
    if (p?.problem) for (let c = j; c < j + count; c++) problems.push(c);
    j += count;
    i = k;
  }
  return problems;
}

/**
 * Paints one row cell by cell (ok cells shaded by RTT when the report has RTTs); returns its problem columns.
 * @param {string} row @param {(number|null)[]|undefined} rttRow @param {Uint32Array} px @param {ReturnType<typeof palette>} pal
 */
export function paintCells(row, rttRow, px, pal) {
  /** @type {number[]} */
  const problems = [];
  for (let j = 0; j < px.length; j++) {
    const p = pal[row[j] ?? '?'];
    let w = p?.w ?? 0xff000000;
    const v = rttRow?.[j];
    if (p?.ok && v !== null && v !== undefined) w = okShade(v);
    px[j] = w;
    if (p?.problem) problems.push(j);
  }
  return problems;
}

// @ts-check
// One binding's node x node matrix on a canvas: one pixel per pair in an offscreen image, scaled up without
// smoothing, so 1,000 x 1,000 cells draw in one drawImage. Colour is never alone: big cells carry the state
// letter, and the pair under the pointer or the keyboard focus is spelled out in text.

import { cellStates, decodeRuns, ink, paintCells, paintRuns, palette, stateLabel } from './cells.js';

/** @typedef {import('./cells.js').CellState} CellState */
/** @typedef {import('../report.js').ReportBinding} Binding */

/** Problem cells enlarged on tiny matrices, at most (beyond that the matrix is mostly red anyway). */
const MAX_MARKED = 50_000;

export class Heatmap {
  /**
   * @param {HTMLElement} host where the canvas and its text alternative go
   * @param {{onSelect: (node: string|null) => void, onHover: (b: string, from: string, to: string, x: number, y: number) => void,
   *          onLeave: () => void, onFocusCell: (b: string, from: string, to: string) => void}} cb
   */
  constructor(host, cb) {
    this.cb = cb;
    this.canvas = document.createElement('canvas');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.canvas.className = 'heatmap';
    host.append(this.canvas);
    /** @type {Binding|null} */
    this.b = null;
    /** @type {string|null} */
    this.selected = null;
    /** Keyboard focus cell [row, col]. @type {number[]} */
    this.focus = [0, 1];
    this.cell = 1;
    this.margin = 0;
    this.off = document.createElement('canvas');
    /** @type {Uint32Array|undefined} the packed colour of every cell, for the letters' ink */
    this.px = undefined;
    /** @type {number[]} cells that are neither ok, self nor unknown (row * n + col), drawn larger when cells are tiny */
    this.problems = [];
    /** Per row: the columns of its problem cells. @type {number[][]} */
    this.rowProblems = [];
    /** The decoded state rows as last painted (undefined: not decoded yet, see rowAt). @type {(string|undefined)[]} */
    this.rows = [];
    /** Per row: what it was painted from (its state or run string and RTTs), to repaint only rows that changed. @type {string[]} */
    this.painted = [];
    /** Rows painted since the page loaded (`data-painted-total`; `data-painted-rows` is the last update's). */
    this.paintedTotal = 0;
    /** What a full repaint depends on (nodes, legend, colours). */
    this.paintedKey = '';
    /** @type {ImageData|undefined} */
    this.img = undefined;
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => cb.onLeave());
    this.canvas.addEventListener('click', (e) => this.click(e));
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('focus', () => this.announceFocus());
  }

  /** @param {Binding} b */
  update(b) {
    this.b = b;
    const n = b.nodes.length;
    // Cells as big as fit in ~640 px, at least 1 px; labels only when there is room to read them.
    this.cell = Math.max(1, Math.min(40, Math.floor(640 / Math.max(n, 1))));
    this.margin = this.cell >= 12 ? Math.min(120, 8 + 7 * Math.max(...b.nodes.map((x) => x.length))) : 0;
    // Geometry for tests and tools that point at a pair.
    this.canvas.dataset.cell = String(this.cell);
    this.canvas.dataset.margin = String(this.margin);
    this.paintImage();
    this.draw();
    const c = b.counts;
    const bad = ['unreachable', 'mtu', 'port', 'udp', 'loss']
      .filter((s) => c[/** @type {CellState} */ (s)])
      .map((s) => `${c[/** @type {CellState} */ (s)]} ${stateLabel(s)}`);
    this.canvas.setAttribute(
      'aria-label',
      `Matrix of ${b.name}, ${n} nodes: ${c.ok ?? 0} pairs ok${bad.length ? ', ' + bad.join(', ') : ''}${c.none ? `, ${c.none} without result` : ''}. Arrow keys move between pairs, Enter highlights a node.`,
    );
  }

  /**
   * The n x n image, one pixel per pair. Only rows whose states (or RTTs) changed since the last paint are
   * repainted and put back; `data-painted-rows` on the canvas says how many were.
   */
  paintImage() {
    const b = this.b;
    if (!b?.matrix) return;
    const n = b.nodes.length;
    const src = b.matrix.runs ?? b.matrix.states;
    const colours = [...cellStates.values()].map((x) => x.colour).join();
    const key = `${n}|${b.nodes.join()}|${JSON.stringify(b.matrix.legend)}|${colours}`;
    const ctx = /** @type {CanvasRenderingContext2D} */ (this.off.getContext('2d'));
    if (key !== this.paintedKey || !this.img) {
      this.off.width = n;
      this.off.height = n;
      this.img = n > 0 ? ctx.createImageData(n, n) : undefined;
      this.px = this.img ? new Uint32Array(this.img.data.buffer) : undefined;
      this.painted = [];
      this.rows = [];
      this.rowProblems = [];
      this.paintedKey = key;
    }
    const img = this.img;
    const px = this.px;
    if (!img || !px) return void (this.canvas.dataset.paintedRows = '0');
    const pal = palette(b.matrix.legend);
    const rtt = b.matrix.rttP99Ms;
    let lo = n;
    let hi = -1;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const rttRow = rtt?.[i];
      const from = `${src[i] ?? ''}|${rttRow ? rttRow.join() : ''}`;
      if (this.painted[i] === from) continue;
      this.painted[i] = from;
      // Run-length rows fill whole runs at once (a healthy row of 1,000 is three fills), unless RTTs shade it.
      if (b.matrix.runs && !rttRow) {
        this.rows[i] = undefined;
        this.rowProblems[i] = paintRuns(src[i] ?? '', px.subarray(i * n, (i + 1) * n), pal);
      } else {
        const row = b.matrix.runs ? decodeRuns(src[i] ?? '') : (src[i] ?? '');
        this.rows[i] = row;
        this.rowProblems[i] = paintCells(row, rttRow, px.subarray(i * n, (i + 1) * n), pal);
      }
      lo = Math.min(lo, i);
      hi = i;
      count++;
    }
    this.canvas.dataset.paintedRows = String(count);
    this.paintedTotal += count;
    this.canvas.dataset.paintedTotal = String(this.paintedTotal);
    if (hi < 0) return;
    this.problems = [];
    for (let i = 0; i < n && this.problems.length < MAX_MARKED; i++) for (const j of this.rowProblems[i] ?? []) this.problems.push(i * n + j);
    ctx.putImageData(img, 0, 0, 0, lo, n, hi - lo + 1);
  }

  /** Row i's state codes, one per column. @param {number} i */
  rowAt(i) {
    let row = this.rows[i];
    if (row === undefined) {
      const m = this.b?.matrix;
      row = m ? (m.runs ? decodeRuns(m.runs[i] ?? '') : (m.states[i] ?? '')) : '';
      this.rows[i] = row;
    }
    return row;
  }

  // size: one canvas pass: grid, labels and cells drawn in order over shared geometry
  draw() {
    const b = this.b;
    if (!b) return;
    const n = b.nodes.length;
    const { cell: cs, margin: m } = this;
    const size = m + n * cs;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(size * dpr)) {
      this.canvas.width = Math.round(size * dpr);
      this.canvas.height = Math.round(size * dpr);
      this.canvas.style.width = `${size}px`;
      this.canvas.style.height = `${size}px`;
    }
    const ctx = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext('2d'));
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size, size);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.off, m, m, n * cs, n * cs);
    // At 1-2 px a cell, one failing pair or column would vanish in a sea of green: problems get 3 x 3 px.
    if (cs < 3 && this.px) {
      for (const c of this.problems) {
        const w = this.px[c] ?? 0;
        ctx.fillStyle = `rgb(${w & 255},${(w >> 8) & 255},${(w >> 16) & 255})`;
        ctx.fillRect(m + (c % n) * cs + cs / 2 - 1.5, m + Math.floor(c / n) * cs + cs / 2 - 1.5, 3, 3);
      }
    }
    if (cs >= 6) {
      ctx.strokeStyle = 'rgba(255,255,255,0.8)';
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let k = 0; k <= n; k++) {
        ctx.moveTo(m + k * cs + 0.5, m);
        ctx.lineTo(m + k * cs + 0.5, m + n * cs);
        ctx.moveTo(m, m + k * cs + 0.5);
        ctx.lineTo(m + n * cs, m + k * cs + 0.5);
      }
      ctx.stroke();
    }
    if (cs >= 16 && b.matrix) {
      ctx.font = `${Math.min(16, cs - 6)}px ui-monospace, monospace`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      for (let i = 0; i < n; i++) {
        const row = this.rowAt(i);
        for (let j = 0; j < n; j++) {
          const ch = row[j] ?? '?';
          if (ch === '-') continue;
          ctx.fillStyle = ink(this.px?.[i * n + j] ?? 0);
          ctx.fillText(ch, m + j * cs + cs / 2, m + i * cs + cs / 2 + 1);
        }
      }
    }
    if (m > 0) {
      ctx.fillStyle = '#222';
      ctx.font = '12px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'right';
      b.nodes.forEach((name, i) => {
        ctx.font = `${name === this.selected ? 'bold ' : ''}12px system-ui, sans-serif`;
        ctx.fillText(name, m - 4, m + i * cs + cs / 2, m - 6);
      });
      ctx.save();
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'left';
      b.nodes.forEach((name, j) => {
        ctx.font = `${name === this.selected ? 'bold ' : ''}12px system-ui, sans-serif`;
        ctx.fillText(name, -m + 4, m + j * cs + cs / 2, m - 6);
      });
      ctx.restore();
    }
    const s = this.selected === null ? -1 : b.nodes.indexOf(this.selected);
    if (s >= 0) {
      ctx.fillStyle = 'rgba(255, 235, 59, 0.35)';
      ctx.fillRect(m, m + s * cs, n * cs, cs);
      ctx.fillRect(m + s * cs, m, cs, n * cs);
      ctx.strokeStyle = '#000';
      ctx.lineWidth = Math.max(1, Math.min(2, cs / 4));
      ctx.strokeRect(m, m + s * cs, n * cs, cs);
      ctx.strokeRect(m + s * cs, m, cs, n * cs);
    }
    if (document.activeElement === this.canvas) {
      const [i = 0, j = 0] = this.focus;
      ctx.strokeStyle = '#000';
      ctx.lineWidth = 2;
      const f = Math.max(cs, 4);
      ctx.strokeRect(m + j * cs - (f - cs) / 2, m + i * cs - (f - cs) / 2, f, f);
    }
  }

  /** @param {string|null} node */
  select(node) {
    this.selected = node;
    this.draw();
  }

  /** Canvas point -> [row, col], with -1 for the label margin; undefined outside. @param {MouseEvent} e */
  at(e) {
    const r = this.canvas.getBoundingClientRect();
    const size = this.margin + (this.b?.nodes.length ?? 0) * this.cell;
    const x = ((e.clientX - r.left) * size) / r.width - this.margin;
    const y = ((e.clientY - r.top) * size) / r.height - this.margin;
    const n = this.b?.nodes.length ?? 0;
    const i = y < 0 ? -1 : Math.floor(y / this.cell);
    const j = x < 0 ? -1 : Math.floor(x / this.cell);
    if (i >= n || j >= n || (i < 0 && j < 0)) return undefined;
    return [i, j];
  }

  /** @param {MouseEvent} e */
  hover(e) {
    const p = this.at(e);
    const b = this.b;
    if (!p || !b || p[0] < 0 || p[1] < 0 || p[0] === p[1]) return this.cb.onLeave();
    this.cb.onHover(b.name, /** @type {string} */ (b.nodes[p[0]]), /** @type {string} */ (b.nodes[p[1]]), e.clientX, e.clientY);
  }

  /** A click on a label selects that node; on a cell, the row's (source) node. @param {MouseEvent} e */
  click(e) {
    const p = this.at(e);
    const b = this.b;
    if (!p || !b) return;
    const name = b.nodes[p[0] >= 0 ? p[0] : p[1]] ?? null;
    this.cb.onSelect(name === this.selected ? null : name);
  }

  /** @param {KeyboardEvent} e */
  key(e) {
    const b = this.b;
    if (!b || b.nodes.length < 2) return;
    const n = b.nodes.length;
    let [i = 0, j = 0] = this.focus;
    const step = e.shiftKey ? Math.max(1, Math.round(n / 10)) : 1;
    switch (e.key) {
      case 'ArrowUp':
        i = Math.max(0, i - step);
        break;
      case 'ArrowDown':
        i = Math.min(n - 1, i + step);
        break;
      case 'ArrowLeft':
        j = Math.max(0, j - step);
        break;
      case 'ArrowRight':
        j = Math.min(n - 1, j + step);
        break;
      case 'Home':
        j = 0;
        break;
      case 'End':
        j = n - 1;
        break;
      case 'Enter':
      case ' ': {
        const name = b.nodes[i] ?? null;
        this.cb.onSelect(name === this.selected ? null : name);
        e.preventDefault();
        return;
      }
      case 'Escape':
        this.cb.onSelect(null);
        return;
      default:
        return;
    }
    e.preventDefault();
    this.focus = [Math.min(i, n - 1), Math.min(j, n - 1)];
    this.draw();
    this.announceFocus();
  }

  announceFocus() {
    const b = this.b;
    if (!b || b.nodes.length < 2) return;
    const n = b.nodes.length;
    this.focus = [Math.min(this.focus[0], n - 1), Math.min(this.focus[1], n - 1)];
    this.draw();
    const [i = 0, j = 0] = this.focus;
    this.cb.onFocusCell(b.name, /** @type {string} */ (b.nodes[i]), /** @type {string} */ (b.nodes[j]));
  }
}

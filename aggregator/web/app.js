// @ts-check
// The readiness report page: fetches /api/v1/report, renders verdict, findings, one heatmap per binding and
// the node list, and stays live through Server-Sent Events (/api/v1/events), polling when they fail.
import { cellStates, stateLabel, useCellStates } from './cells.js';
import { Heatmap } from './heatmap.js';
import { nodeButtonHtml, renderNodes } from './nodes.js';
import { fetchLinks, linksTag, withLinks } from './links.js';
import { esc, pairLines, pairText } from './text.js';

/** @typedef {import('./text.js').Pair} Pair */

/** @typedef {import('./heatmap.js').Binding} Binding */
// The report's shape comes from the aggregator's own types (report.ts, findings.ts): one definition, checked
// against this page by test/browser/web-routes.test.ts's tsc run.
/** @typedef {import('../findings.js').Evidence} Evidence */
/** @typedef {import('../findings.js').Finding} Finding */
/** @typedef {import('../report.js').ReportNode} ReportNode */
/** @typedef {import('../report.js').Report} Report */
/** @typedef {NonNullable<ReportNode['links']>[number]} LinkFact */
/** @typedef {LinkFact['ports'][number]} LinkPort */

const POLL_MS = 3000;

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Same words as aggregator/export.ts verdictText. @param {Report} r */
export function verdictText(r) {
  if (r.verdict === 'ready') return 'Ready';
  if (r.verdict === 'degraded') return 'Degraded';
  if (r.verdict === 'not-ready') return 'Not ready';
  const missing = r.expected - r.reporting;
  return missing > 0 ? `Waiting for ${missing} of ${r.expected} agents` : 'Waiting for the first full round';
}

const verdictLead = {
  ready: 'OpenStack can go ahead: every pair on every binding is reachable.',
  degraded: 'OpenStack can go ahead, but read the warnings below first.',
  'not-ready': 'Do not deploy OpenStack yet: see the findings below.',
  pending: 'Not every agent has reported a full round yet.',
};

/** @type {Report|null} */
let report = null;
/** @type {string|null} */
let selected = null;
/** @type {Map<string, {section: HTMLElement, map: Heatmap, pairs: HTMLElement, counts: HTMLElement}>} */
const maps = new Map();
let shownFindings = '';
let shownNodes = '';
let shownStates = '';
let firstRender = true;

async function fetchReport() {
  // Run-length rows: a tenth of the plain rows at 1,000 nodes (and the RTTs for small fleets, as by default).
  // no-cache: the browser revalidates with the report's ETag, and a report that did not change costs a 304.
  // Without the nodes' link facts (~6 MB at 1,000 bonded nodes, changed only by a hello): fetchLinks has them.
  const res = await fetch('/api/v1/report?matrix=runs&links=none', { cache: 'no-cache' });
  if (!res.ok) throw new Error(`report: HTTP ${res.status}`);
  return /** @type {Promise<Report>} */ (res.json());
}

// One fetch at a time; changes that arrive meanwhile collapse into one more fetch.
let inFlight = false;
let again = false;
let lastFetchMs = 0;
async function refresh() {
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  const t0 = performance.now();
  try {
    const r = await fetchReport();
    if (firstRender) performance.mark('pinger-report-fetched');
    render(r);
    // The link facts after the first render, not before it: the matrix and verdict do not wait for them.
    if (await fetchLinks()) {
      renderNodeTable(r);
      if (!performance.getEntriesByName('pinger-links-rendered').length) performance.mark('pinger-links-rendered');
    }
    $('error').hidden = true;
  } catch (err) {
    $('error').hidden = false;
    $('error').textContent = `Cannot load the report (${err instanceof Error ? err.message : String(err)}); retrying.`;
  } finally {
    lastFetchMs = performance.now() - t0;
    inFlight = false;
    // A big report is not fetched back to back: the server stays idle at least twice as long as it worked.
    if (again) {
      again = false;
      setTimeout(refresh, Math.max(250, 2 * lastFetchMs));
    }
  }
}

/** @param {Report} r */
function render(r) {
  report = r;
  const banner = $('banner');
  banner.className = `banner v-${r.verdict}`;
  const words = verdictText(r);
  if ($('verdict').textContent !== words) {
    $('verdict').textContent = words;
    $('announce').textContent = `Verdict: ${words}. ${r.summary}`;
    document.title = `${words}: Pinger readiness report`;
  }
  $('lead').textContent = verdictLead[r.verdict];
  $('summary').textContent = r.summary;
  $('profile').textContent = r.profile;
  $('agents').textContent = `${r.reporting} of ${r.expected}`;
  const upd = /** @type {HTMLTimeElement} */ ($('updated'));
  upd.dateTime = r.generatedAt;
  upd.textContent = new Date(r.generatedAt).toLocaleTimeString();
  tickAge();
  const sKey = JSON.stringify(r.cellStates ?? []);
  if (r.cellStates && sKey !== shownStates) {
    shownStates = sKey;
    useCellStates(r.cellStates);
    renderLegend();
  }
  const fKey = JSON.stringify([r.findings, r.lldp?.note]);
  if (fKey !== shownFindings) {
    shownFindings = fKey;
    renderFindings(r.findings, r.lldp?.note);
  }
  const t0 = performance.now();
  renderBindings(r.bindings);
  performance.measure('pinger-bindings', { start: t0 });
  renderNodeTable(r);
  if (firstRender) {
    firstRender = false;
    performance.mark('pinger-first-render');
    document.body.dataset.rendered = 'true';
  }
  document.body.dataset.generatedAt = r.generatedAt;
}

/** The node table, with each node's link facts as last fetched; redrawn only when either changed. @param {Report} r */
function renderNodeTable(r) {
  const nKey = `${linksTag()} ${JSON.stringify(r.nodes)}`;
  if (nKey === shownNodes) return;
  shownNodes = nKey;
  const t1 = performance.now();
  $('nodes-body').innerHTML = renderNodes({ ...r, nodes: withLinks(r.nodes) }, selected);
  performance.measure('pinger-nodes', { start: t1 });
}

function tickAge() {
  if (!report) return;
  const s = Math.max(0, Math.round((Date.now() - Date.parse(report.generatedAt)) / 1000));
  $('age').textContent = s < 2 ? '(just now)' : `(${s} s ago)`;
}

/** A node name that highlights the node everywhere when pressed. @param {string} n */
const nodeButton = (n) => nodeButtonHtml(n, selected);

/** @param {Finding[]} findings @param {string} [lldpNote] */
function renderFindings(findings, lldpNote) {
  const out = [];
  // Not a finding: without LLDP the page just cannot say which switch is to blame.
  if (lldpNote) out.push(`<p class="lldp-note" data-lldp="none">${esc(lldpNote)}</p>`);
  if (findings.length === 0) out.push('<p class="none">No findings: nothing is wrong that Pinger can see.</p>');
  for (const [sev, title] of /** @type {const} */ ([
    ['error', 'Errors'],
    ['warning', 'Warnings'],
  ])) {
    const fs = findings.filter((f) => f.severity === sev);
    if (!fs.length) continue;
    out.push(`<section class="sev-group sev-${sev}" aria-labelledby="h-${sev}"><h3 id="h-${sev}">${title} (${fs.length})</h3>`);
    for (const f of fs) {
      out.push(`<article class="finding ${sev}" data-kind="${esc(f.kind)}"><h4><span class="sev-tag">${sev}</span> ${esc(f.summary)}</h4>`);
      out.push(
        `<p class="what"><code>${esc(f.kind)}</code>${f.binding ? ` on binding <b>${esc(f.binding)}</b>` : ''}${f.family ? ` <span class="family" data-family="${esc(f.family)}">${f.family === 'ipv6' ? 'IPv6' : 'IPv4'} only</span>` : ''}</p>`,
      );
      if (f.hint) out.push(`<p class="hint"><b>What to do:</b> ${esc(f.hint)}</p>`);
      if (f.nodes.length) out.push(`<p class="nodes">Nodes: ${f.nodes.map(nodeButton).join(' ')}</p>`);
      if (f.switch)
        out.push(
          `<p class="switch">Switch <b>${esc(f.switch.name)}</b>, ports: ${f.switch.ports.map((p) => `${esc(p.port)} (${esc(p.node)} ${esc(p.iface)})`).join(', ')}</p>`,
        );
      if (f.evidence?.length) {
        out.push(
          '<table class="evidence"><caption>Evidence (example pairs)</caption><thead><tr><th scope="col">from</th><th scope="col">to</th><th scope="col">what was seen</th></tr></thead><tbody>',
        );
        for (const e of f.evidence) out.push(`<tr><td>${esc(e.from)}</td><td>${esc(e.to)}</td><td>${esc(e.detail)}</td></tr>`);
        out.push('</tbody></table>');
      }
      out.push('</article>');
    }
    out.push('</section>');
  }
  $('findings-body').innerHTML = out.join('');
}

/** @param {Binding[]} bindings */
function renderBindings(bindings) {
  const host = $('bindings-body');
  const names = new Set(bindings.map((b) => b.name));
  for (const [name, m] of maps) if (!names.has(name)) m.section.remove(), maps.delete(name);
  for (const b of bindings) {
    let m = maps.get(b.name);
    if (!m) {
      const section = document.createElement('section');
      section.className = 'binding';
      section.dataset.binding = b.name;
      const hid = `h-b-${maps.size}`;
      section.setAttribute('aria-labelledby', hid);
      section.innerHTML = `<h3 id="${hid}">${esc(b.name)}${b.space ? ` <span class="space">space ${esc(b.space)}</span>` : ''}</h3><p class="counts"></p><div class="canvas-host"></div><p class="focus-text" aria-live="polite"></p><details><summary>Problem pairs as text</summary><div class="pairs"></div></details>`;
      host.append(section);
      const focusText = /** @type {HTMLElement} */ (section.querySelector('.focus-text'));
      const map = new Heatmap(/** @type {HTMLElement} */ (section.querySelector('.canvas-host')), {
        onSelect: select,
        onHover: hoverPair,
        onLeave: hideTip,
        onFocusCell: async (bn, from, to) => {
          focusText.textContent = `${from} → ${to}: …`;
          const d = await pairDetails(bn, from, to);
          focusText.textContent = `${from} → ${to}: ${d ? pairText(d) : 'no details'}`;
        },
      });
      map.canvas.addEventListener('blur', () => (focusText.textContent = ''));
      m = {
        section,
        map,
        pairs: /** @type {HTMLElement} */ (section.querySelector('.pairs')),
        counts: /** @type {HTMLElement} */ (section.querySelector('.counts')),
      };
      maps.set(b.name, m);
    }
    const c = b.counts;
    const parts = [...cellStates.values()].filter((s) => s.name !== 'self' && c[s.name]).map((s) => `${chip(s.name)}${esc(s.label)}: ${c[s.name]}</span>`);
    // A pinglist still covering (README "Pinglists"): how many pairs have a current result.
    const cov = b.coverage && b.coverage.covered < b.coverage.pairs ? `; ${b.coverage.covered} of ${b.coverage.pairs} pairs covered` : '';
    m.counts.innerHTML = `${b.nodes.length} nodes${cov}. ${parts.join(' ')}`;
    m.map.selected = selected;
    m.map.update(b);
    if (m.map.canvas.dataset.paintedRows !== '0') m.pairs.innerHTML = problemList(m.map);
  }
}

/** The opening of a legend or count chip: its swatch in the state's colour. @param {string} name */
const chip = (name) => `<span class="chip s-${esc(name)}"><span class="swatch" style="background:var(--${esc(name)})" aria-hidden="true"></span>`;

/** The legend, from the report's cell states: code, colour, label. */
function renderLegend() {
  $('legend').innerHTML = [...cellStates.values()]
    .filter((s) => s.name !== 'self')
    .map((s) => `<li>${chip(s.name)}${esc(s.code)} ${esc(s.label)}${s.name === 'ok' ? ' (darker = slower RTT, 0.1 to 20 ms)' : ''}</span></li>`)
    .join('');
}

/** The text alternative of a heatmap: its problem pairs (at most 200). @param {Heatmap} map */
function problemList(map) {
  const b = map.b;
  if (!b?.matrix) return '<p>No matrix in this report.</p>';
  /** @type {string[]} */
  const items = [];
  let total = 0;
  map.rowProblems.forEach((cols, i) => {
    total += cols.length;
    for (const j of cols) {
      if (items.length >= 200) return;
      const st = b.matrix?.legend[map.rowAt(i)[j] ?? '?'] ?? '?';
      items.push(`<li>${esc(b.nodes[i])} → ${esc(b.nodes[j])}: ${esc(stateLabel(st))}</li>`);
    }
  });
  if (!total) return '<p>No problem pairs.</p>';
  return `<p>${total > items.length ? `First ${items.length} of ${total}` : `${total}`} problem pair(s):</p><ul>${items.join('')}</ul>`;
}

/** Highlights a node's row and column in every heatmap, and its row in the node list. @param {string|null} node */
function select(node) {
  selected = node;
  for (const m of maps.values()) m.map.select(node);
  for (const b of document.querySelectorAll('button.node')) b.setAttribute('aria-pressed', String(b.getAttribute('data-node') === node));
  for (const tr of document.querySelectorAll('table.nodes tr[data-node]')) tr.classList.toggle('selected', tr.getAttribute('data-node') === node);
  $('selection').textContent = node ? `Highlighted: ${node} (its row and column in every matrix). Press Escape on a matrix or the node again to clear.` : '';
}

document.addEventListener('click', (e) => {
  const t = /** @type {HTMLElement} */ (e.target);
  const btn = t.closest?.('button.node');
  if (btn) {
    const n = btn.getAttribute('data-node');
    select(n === selected ? null : n);
  }
});

// ---- pair details (hover tooltip and keyboard focus text) ----

/** @type {Map<string, Promise<Pair|null>>} */
const pairCache = new Map();

/** Fetched once per pair and report: details change only when the report does. */
function pairDetails(/** @type {string} */ b, /** @type {string} */ from, /** @type {string} */ to) {
  const key = `${report?.generatedAt}|${b}|${from}|${to}`;
  let p = pairCache.get(key);
  if (!p) {
    if (pairCache.size > 500) pairCache.clear();
    const q = new URLSearchParams({ binding: b, from, to });
    p = fetch(`/api/v1/pair?${q}`)
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null);
    pairCache.set(key, p);
  }
  return p;
}

let hoverKey = '';
let hoverTimer = 0;
function hoverPair(/** @type {string} */ b, /** @type {string} */ from, /** @type {string} */ to, /** @type {number} */ x, /** @type {number} */ y) {
  const tip = $('tooltip');
  tip.style.left = `${Math.min(x + 14, window.innerWidth - 340)}px`;
  tip.style.top = `${y + 14}px`;
  const key = `${b}|${from}|${to}`;
  if (key === hoverKey) return;
  hoverKey = key;
  tip.hidden = false;
  tip.innerHTML = `<b>${esc(from)} → ${esc(to)}</b> <span class="dim">${esc(b)}</span><div class="dim">loading…</div>`;
  clearTimeout(hoverTimer);
  // A short wait, so sweeping the pointer over 1,000 cells does not fire 1,000 requests.
  hoverTimer = window.setTimeout(async () => {
    const d = await pairDetails(b, from, to);
    if (hoverKey !== key) return;
    tip.innerHTML =
      `<b>${esc(from)} → ${esc(to)}</b> <span class="dim">${esc(b)}</span>` +
      (d
        ? `<dl>${pairLines(d)
            .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
            .join('')}</dl>`
        : '<div>no details</div>');
    tip.dataset.pair = key;
  }, 60);
}

function hideTip() {
  hoverKey = '';
  clearTimeout(hoverTimer);
  $('tooltip').hidden = true;
}

// ---- live channel ----

let pollTimer = 0;
function startPolling() {
  if (pollTimer) return;
  $('live').textContent = 'live (polling)';
  pollTimer = window.setInterval(refresh, POLL_MS);
}
function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = 0;
}

/** Same as liveSummary's key in aggregator/routes/web.ts. @param {Report} r */
function reportKey(r) {
  return `${r.verdict}|${r.reporting}|${r.findings.map((f) => `${f.kind}:${f.binding ?? ''}:${f.family ?? ''}:${f.nodes.join(',')}`).join(';')}`;
}

function connectLive() {
  if (typeof EventSource !== 'function') return startPolling();
  const es = new EventSource('/api/v1/events');
  es.addEventListener('change', () => refresh());
  // Ticks catch what no change event announces (an agent going stale) without refetching a big report.
  es.addEventListener('tick', (e) => {
    try {
      if (!report || JSON.parse(/** @type {MessageEvent} */ (e).data).key !== reportKey(report)) refresh();
    } catch {
      refresh();
    }
  });
  es.addEventListener('open', () => {
    stopPolling();
    $('live').textContent = 'live';
  });
  // The browser reconnects by itself; poll meanwhile so the page keeps up.
  es.addEventListener('error', () => startPolling());
}

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') hideTip();
});
setInterval(tickAge, 1000);
refresh();
connectLive();

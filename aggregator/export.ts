// The report as a file a person attaches to a change ticket: Markdown or one self-contained HTML page
// (inline CSS, no script, no external resource). Pure: report in, text out.
import { cellStateDefs, inkOn, legendOrder, type CellState } from './cell-states.js';
import type { Report, ReportBinding } from './report.js';

/** Above this many nodes a binding's matrix is summarised as its problem pairs instead of a grid. */
export const GRID_MAX_NODES = 40;
/** At most this many problem pairs are listed per binding (the counts always cover all of them). */
export const MAX_PAIRS_LISTED = 200;

const verdictWords: Record<Report['verdict'], string> = {
  ready: 'Ready',
  degraded: 'Degraded',
  'not-ready': 'Not ready',
  pending: 'Waiting',
};

/** The verdict in plain words, as the page's banner says it. */
export function verdictText(r: Pick<Report, 'verdict' | 'expected' | 'reporting'>): string {
  if (r.verdict !== 'pending') return verdictWords[r.verdict];
  const missing = r.expected - r.reporting;
  return missing > 0 ? `Waiting for ${missing} of ${r.expected} agents` : 'Waiting for the first full round';
}

/** The state letters' meanings (cell-states.ts). */
const stateName = (s: CellState): string => cellStateDefs[s].label;

export interface ProblemPair {
  from: string;
  to: string;
  state: CellState;
}

/** Pairs whose state is neither ok, self nor none (no result yet), from the compact rows; at most `limit`. */
export function problemPairs(b: ReportBinding, limit = MAX_PAIRS_LISTED): ProblemPair[] {
  const out: ProblemPair[] = [];
  const legend = b.matrix?.legend ?? {};
  for (let i = 0; i < (b.matrix?.states.length ?? 0) && out.length < limit; i++) {
    const row = b.matrix!.states[i]!;
    for (let j = 0; j < row.length && out.length < limit; j++) {
      const st = legend[row[j]!];
      if (st && st !== 'ok' && st !== 'self' && st !== 'none') out.push({ from: b.nodes[i]!, to: b.nodes[j]!, state: st });
    }
  }
  return out;
}

/** While a pinglist is still covering (README "Pinglists"): how many pairs have a current result. */
function coverageNote(b: ReportBinding): string {
  const c = b.coverage;
  return c && c.covered < c.pairs ? `; ${c.covered} of ${c.pairs} pairs covered` : '';
}

function countsLine(b: ReportBinding): string {
  return (
    legendOrder
      .filter((s) => s !== 'self' && (b.counts[s] ?? 0) > 0)
      .map((s) => `${stateName(s)}: ${b.counts[s]}`)
      .join(', ') || 'no pairs'
  );
}

function problemTotal(b: ReportBinding): number {
  return (['unreachable', 'mtu', 'port', 'udp', 'loss'] as const).reduce((a, s) => a + (b.counts[s] ?? 0), 0);
}

const md = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function addresses(n: Report['nodes'][number]): string {
  return Object.entries(n.bindings)
    .map(([b, as]) => `${b}: ${as.map((a) => `${a.address}${a.iface ? ` (${a.iface}, MTU ${a.mtu ?? '?'})` : ' (no interface)'}`).join(', ')}`)
    .join('; ');
}

const clock = (n: Report['nodes'][number]) => (n.clockOffsetMs === undefined ? '' : `${n.clockOffsetMs.toFixed(1)} ms`);

export function reportToMarkdown(r: Report): string {
  const L: string[] = [];
  L.push(`# Pinger readiness report: ${verdictText(r)}`, '');
  L.push(`- Verdict: **${r.verdict}** (${md(r.summary)})`);
  L.push(`- Profile: ${md(r.profile)}`);
  L.push(`- Generated: ${r.generatedAt}`);
  L.push(`- Agents reporting: ${r.reporting} of ${r.expected}`, '');
  L.push('## Findings', '');
  if (r.findings.length === 0) L.push('None.', '');
  for (const sev of ['error', 'warning'] as const) {
    const fs = r.findings.filter((f) => f.severity === sev);
    if (!fs.length) continue;
    L.push(`### ${sev === 'error' ? 'Errors' : 'Warnings'} (${fs.length})`, '');
    for (const f of fs) {
      L.push(
        `- **${md(f.summary)}** (\`${f.kind}\`${f.binding ? `, binding ${md(f.binding)}` : ''}${f.family ? `, ${f.family === 'ipv6' ? 'IPv6' : 'IPv4'} only` : ''})`,
      );
      if (f.hint) L.push(`  - Hint: ${md(f.hint)}`);
      if (f.nodes.length) L.push(`  - Nodes: ${f.nodes.map(md).join(', ')}`);
      for (const e of f.evidence ?? []) L.push(`  - ${md(e.from)} -> ${md(e.to)}: ${md(e.detail)}`);
    }
    L.push('');
  }
  L.push('## Bindings', '');
  for (const b of r.bindings) {
    L.push(`### ${md(b.name)}${b.space ? ` (space ${md(b.space)})` : ''}`, '');
    L.push(`${b.nodes.length} nodes; ${countsLine(b)}${coverageNote(b)}.`, '');
    if (!b.matrix) continue;
    if (b.nodes.length <= GRID_MAX_NODES) {
      L.push('Row = from, column = to. ' + legendLine(b), '');
      L.push(`| from → to | ${b.nodes.map(md).join(' | ')} |`, `|---|${b.nodes.map(() => '---').join('|')}|`);
      b.matrix.states.forEach((row, i) => L.push(`| ${md(b.nodes[i]!)} | ${[...row].map((c) => (c === '|' ? '\\|' : c)).join(' | ')} |`));
      L.push('');
    } else {
      const pairs = problemPairs(b);
      L.push(
        pairs.length ? `Problem pairs${problemTotal(b) > pairs.length ? ` (first ${pairs.length} of ${problemTotal(b)})` : ''}:` : 'No problem pairs.',
        '',
      );
      for (const p of pairs) L.push(`- ${md(p.from)} -> ${md(p.to)}: ${stateName(p.state)}`);
      L.push('');
    }
  }
  L.push('## Nodes', '');
  L.push('| node | state | agent | ICMP | clock offset | addresses (interface, MTU) | responder problems |', '|---|---|---|---|---|---|---|');
  for (const n of r.nodes) {
    const probs = n.responderProblems.map((p) => `${p.proto}/${p.port} on ${p.address}: ${p.state}`).join(', ');
    L.push(`| ${md(n.name)} | ${n.state} | ${md(n.agentVersion ?? '')} | ${n.icmp ?? ''} | ${clock(n)} | ${md(addresses(n))} | ${md(probs)} |`);
  }
  L.push('');
  return L.join('\n');
}

function legendLine(b: ReportBinding): string {
  return (
    'Legend: ' +
    Object.entries(b.matrix?.legend ?? {})
      .map(([c, s]) => `\`${c}\` ${stateName(s)}`)
      .join(', ') +
    '.'
  );
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

// size: one HTML document written top to bottom
export function reportToHtml(r: Report): string {
  const H: string[] = [];
  const title = `Pinger readiness report: ${verdictText(r)} (${r.generatedAt})`;
  H.push('<!doctype html>', '<html lang="en"><head><meta charset="utf-8">', `<title>${esc(title)}</title>`);
  H.push(`<style>${exportCss}</style></head><body>`);
  H.push(`<header class="banner v-${esc(r.verdict)}"><h1>${esc(verdictText(r))}</h1>`);
  H.push(
    `<p>${esc(r.summary)}</p><p>Profile <b>${esc(r.profile)}</b>; ${r.reporting} of ${r.expected} agents reporting; generated <time datetime="${esc(r.generatedAt)}">${esc(r.generatedAt)}</time>.</p></header>`,
  );
  H.push('<main><section><h2>Findings</h2>');
  if (r.findings.length === 0) H.push('<p>None.</p>');
  for (const sev of ['error', 'warning'] as const) {
    const fs = r.findings.filter((f) => f.severity === sev);
    if (!fs.length) continue;
    H.push(`<h3>${sev === 'error' ? 'Errors' : 'Warnings'} (${fs.length})</h3>`);
    for (const f of fs) {
      H.push(
        `<article class="finding ${sev}"><h4>${esc(f.summary)}</h4><p><code>${esc(f.kind)}</code>${f.binding ? `, binding <b>${esc(f.binding)}</b>` : ''}${f.family ? `, ${f.family === 'ipv6' ? 'IPv6' : 'IPv4'} only` : ''}</p>`,
      );
      if (f.hint) H.push(`<p>Hint: ${esc(f.hint)}</p>`);
      if (f.nodes.length) H.push(`<p>Nodes: ${f.nodes.map(esc).join(', ')}</p>`);
      if (f.evidence?.length) {
        H.push('<table><thead><tr><th scope="col">from</th><th scope="col">to</th><th scope="col">detail</th></tr></thead><tbody>');
        for (const e of f.evidence) H.push(`<tr><td>${esc(e.from)}</td><td>${esc(e.to)}</td><td>${esc(e.detail)}</td></tr>`);
        H.push('</tbody></table>');
      }
      H.push('</article>');
    }
  }
  H.push('</section><section><h2>Bindings</h2>');
  for (const b of r.bindings) {
    H.push(`<h3>${esc(b.name)}${b.space ? ` (space ${esc(b.space)})` : ''}</h3><p>${b.nodes.length} nodes; ${esc(countsLine(b) + coverageNote(b))}.</p>`);
    if (!b.matrix) continue;
    if (b.nodes.length <= GRID_MAX_NODES) {
      H.push(
        `<p>${esc(legendLine(b).replace(/`/g, ''))}</p><table class="grid"><caption>${esc(b.name)}: row = from, column = to</caption><thead><tr><th scope="col">from → to</th>`,
      );
      for (const n of b.nodes) H.push(`<th scope="col">${esc(n)}</th>`);
      H.push('</tr></thead><tbody>');
      b.matrix.states.forEach((row, i) => {
        H.push(`<tr><th scope="row">${esc(b.nodes[i]!)}</th>`);
        for (const c of row) {
          const st = b.matrix!.legend[c] ?? 'none';
          H.push(`<td style="background:${cellStateDefs[st].colour};color:${inkOn(cellStateDefs[st].colour)}" title="${esc(stateName(st))}">${esc(c)}</td>`);
        }
        H.push('</tr>');
      });
      H.push('</tbody></table>');
    } else {
      const pairs = problemPairs(b);
      if (!pairs.length) H.push('<p>No problem pairs.</p>');
      else {
        H.push(`<p>Problem pairs${problemTotal(b) > pairs.length ? ` (first ${pairs.length} of ${problemTotal(b)})` : ''}:</p><ul>`);
        for (const p of pairs) H.push(`<li>${esc(p.from)} &rarr; ${esc(p.to)}: ${esc(stateName(p.state))}</li>`);
        H.push('</ul>');
      }
    }
  }
  H.push('</section><section><h2>Nodes</h2><table><thead><tr>');
  for (const h of ['node', 'state', 'agent', 'ICMP', 'clock offset', 'addresses (interface, MTU)', 'responder problems']) H.push(`<th scope="col">${h}</th>`);
  H.push('</tr></thead><tbody>');
  for (const n of r.nodes) {
    const probs = n.responderProblems.map((p) => `${p.proto}/${p.port} on ${p.address}: ${p.state}`).join(', ');
    H.push(
      `<tr><th scope="row">${esc(n.name)}</th><td>${esc(n.state)}</td><td>${esc(n.agentVersion ?? '')}</td><td>${esc(n.icmp ?? '')}</td><td>${esc(clock(n))}</td><td>${esc(addresses(n))}</td><td>${esc(probs)}</td></tr>`,
    );
  }
  H.push('</tbody></table></section></main></body></html>', '');
  return H.join('\n');
}

const exportCss = [
  'body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#111}',
  '.banner{padding:.8em 1.2em;border-radius:6px;color:#fff}.banner h1{margin:.1em 0}',
  `.v-ready{background:${cellStateDefs.ok.colour}}.v-degraded{background:#8a6d00}.v-not-ready{background:#b71c1c}.v-pending{background:#455a64}`,
  `.finding{border-left:6px solid #b71c1c;padding:.2em .8em;margin:.6em 0;background:#fafafa}.finding.warning{border-color:${cellStateDefs.loss.colour}}`,
  '.finding h4{margin:.3em 0}table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}',
  '.grid td{text-align:center;color:#fff;font-family:monospace;min-width:1.4em}',
].join('');

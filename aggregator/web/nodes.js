// @ts-check
// The page's node list: one table row per node, problem nodes first (HTML text; app.js puts it in place).
import { esc, linksText } from './text.js';

/** @typedef {import('../report.js').Report} Report */

/** A node name that highlights the node everywhere when pressed. @param {string} n @param {string|null} selected */
export const nodeButtonHtml = (n, selected) => `<button type="button" class="node" data-node="${esc(n)}" aria-pressed="${n === selected}">${esc(n)}</button>`;

/** The node table's HTML. @param {Report} r @param {string|null} selected */
export function renderNodes(r, selected) {
  const bindings = r.bindings.map((b) => b.name);
  const head = [
    'Node',
    'State',
    'Hostname',
    'Agent',
    'ICMP',
    'Clock offset',
    ...bindings.map((b) => `${b}: address (interface, MTU)`),
    'Links (speed, bond members, switch port)',
    'Responder problems',
  ];
  const rank = { missing: 0, stale: 1, stalled: 1, reporting: 2 };
  const nodes = [...r.nodes].sort(
    (a, b) =>
      (rank[/** @type {keyof typeof rank} */ (a.state)] ?? 3) - (rank[/** @type {keyof typeof rank} */ (b.state)] ?? 3) ||
      a.name.localeCompare(b.name, undefined, { numeric: true }),
  );
  const rows = nodes.map((n) => {
    const addr = bindings.map(
      (b) =>
        (n.bindings[b] ?? [])
          .map((a) => `${esc(a.address)} <span class="dim">(${a.iface ? `${esc(a.iface)}, MTU ${a.mtu ?? '?'}` : 'no interface'})</span>`)
          .join('<br>') || '<span class="dim">none</span>',
    );
    const probs = n.responderProblems.map((p) => `${esc(p.proto)}/${p.port} on ${esc(p.address)}: ${esc(p.state)}`).join('<br>');
    const clock = n.clockOffsetMs === undefined ? '<span class="dim">not yet</span>' : `${n.clockOffsetMs.toFixed(1)} ms`;
    return `<tr data-node="${esc(n.name)}"${n.name === selected ? ' class="selected"' : ''}><th scope="row">${nodeButtonHtml(n.name, selected)}</th><td><span class="st st-${esc(n.state)}">${esc(n.state)}</span></td><td>${esc(n.hostname ?? '')}</td><td>${esc(n.agentVersion ?? '')}</td><td>${esc(n.icmp ?? '')}</td><td>${clock}</td>${addr.map((a) => `<td>${a}</td>`).join('')}<td class="links">${linksText(n)}</td><td>${probs}</td></tr>`;
  });
  return `<table class="nodes"><caption class="sr-only">Nodes, problem nodes first</caption><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

// @ts-check
// The page's text for a node's links and a pair's details (pure: no DOM, no fetch), and HTML escaping.
import { stateLabel } from './cells.js';

/** @typedef {import('./app.js').ReportNode} ReportNode */

export const esc = (/** @type {unknown} */ s) =>
  String(s).replace(/[&<>"']/g, (c) => /** @type {Record<string, string>} */ ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** A speed as people say it. @param {number|null} mbps */
const rate = (mbps) => (mbps === null ? 'speed unknown' : mbps >= 1000 ? `${mbps / 1000}G` : `${mbps}M`);

/** Per binding: the interface, its speed or bond mode, each physical port with its switch port (LLDP). @param {ReportNode} n */
export function linksText(n) {
  // The bandwidth sample: this node's median as sender per binding (README "Bandwidth sample").
  const bw = Object.entries(n.bandwidthMbps ?? {}).map(
    ([b, m]) => `<span class="bandwidth" data-binding="${esc(b)}">${esc(b)}: sends ${rate(m)}b/s (median)</span>`,
  );
  if (!n.links?.length) return bw.length ? bw.join('<br>') : '<span class="dim">not reported</span>';
  return [
    ...n.links.map((l) => {
      const ports = l.ports
        .filter((p) => p.iface !== l.iface || p.lldp?.length)
        .map((p) => {
          const nb = p.lldp?.[0];
          const sw = nb ? ` -> ${esc(nb.chassis)} ${esc(nb.port)}${nb.stale ? ' (not heard now)' : ''}` : '';
          return `${esc(p.iface)} ${rate(p.speedMbps)}${p.mii && p.mii !== 'up' ? ` <b>${esc(p.mii)}</b>` : ''}${sw}`;
        });
      const head = `${esc(l.binding)}: ${esc(l.iface)} ${l.bond ? `bond ${esc(l.bond.mode)}` : l.ports.length === 1 && l.ports[0]?.iface === l.iface ? rate(l.speedMbps) : esc(l.kind)}`;
      return ports.length ? `${head} (${ports.join('; ')})` : head;
    }),
    ...bw,
  ].join('<br>');
}

/** @typedef {{binding: string, from: string, to: string, state: import('./cells.js').CellState, rttAvg: number|null, rttP99: number|null,
 *   loss: number|null, updatedAt: string|null, rows?: {addr: string, icmp?: {sent: number, recv: number, rtt: number[]|null, outcome: string},
 *   tcp?: Record<string, string>, udp?: Record<string, string>, mtu?: {size: number, outcome: string}}[],
 *   expected?: {tcp: number[], udp: number[], mtu?: number}}} Pair */

const ms = (/** @type {number|null|undefined} */ v) => (v === null || v === undefined ? '?' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`);

/** The pair's details as lines: [label, value]. @param {Pair} d @returns {[string, string][]} */
export function pairLines(d) {
  /** @type {[string, string][]} */
  const out = [['State', stateLabel(d.state)]];
  if (d.state === 'none') return [...out, ['Details', 'no result yet']];
  const rows = d.rows ?? [];
  const icmp = rows.map((r) => r.icmp).filter((x) => x && x.outcome !== 'not-measured');
  if (d.loss === null && rows.length && !icmp.length) out.push(['ICMP', 'not measured (no CAP_NET_RAW)']);
  else if (d.loss === null && !rows.length) out.push(['ICMP', 'not measured']);
  else out.push(['ICMP', `loss ${Math.round((d.loss ?? 0) * 100)}%, RTT avg ${ms(d.rttAvg)}, p99 ${ms(d.rttP99)}`]);
  const exp = d.expected ?? { tcp: [], udp: [] };
  // Rows are kept only for pairs that are not ok; an ok pair had every planned port open.
  const perPort = (/** @type {'tcp'|'udp'} */ proto) => {
    if (!rows.length) return exp[proto].map((p) => `${p} ${proto === 'tcp' ? 'open' : 'ok'}`).join(', ');
    return rows
      .map((r) => {
        const ports = Object.entries(r[proto] ?? {}).map(([p, o]) => `${p} ${o === 'ok' && proto === 'tcp' ? 'open' : o}`);
        return ports.length ? (rows.length > 1 ? `${r.addr}: ` : '') + ports.join(', ') : '';
      })
      .filter(Boolean)
      .join('; ');
  };
  const tcp = perPort('tcp');
  if (tcp || exp.tcp.length) out.push(['TCP', tcp || 'not probed']);
  const udp = perPort('udp');
  if (udp || exp.udp.length) out.push(['UDP', udp || 'not probed']);
  const mtu = rows.filter((r) => r.mtu).map((r) => `${rows.length > 1 ? `${r.addr}: ` : ''}${r.mtu?.size} bytes DF ${r.mtu?.outcome}`);
  if (mtu.length) out.push(['MTU', mtu.join('; ')]);
  else if (exp.mtu) out.push(['MTU', rows.length ? 'not checked' : `${exp.mtu} ok`]);
  else out.push(['MTU', 'not required by the profile']);
  if (d.updatedAt) out.push(['Measured', new Date(d.updatedAt).toLocaleTimeString()]);
  return out;
}

export const pairText = (/** @type {Pair} */ d) =>
  pairLines(d)
    .map(([k, v]) => `${k}: ${v}`)
    .join('. ');

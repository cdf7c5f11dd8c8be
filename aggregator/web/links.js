// @ts-check
// The nodes' link facts, fetched apart from the report (GET /api/v1/links): ~6 MB at 1,000 bonded nodes, changed
// only by an agent's hello, so the page polls the report without them and reads these only when their tag moves.

/** @typedef {import('../report.js').ReportNode} ReportNode */
/** @typedef {NonNullable<ReportNode['links']>[number]} LinkFact */

/** Each node's link facts, by name, as last fetched, and the tag they came with. @type {Map<string, LinkFact[]>} */
let byNode = new Map();
let tag = '';

/** The tag of the link facts shown (changes when they do). */
export const linksTag = () => tag;

/** Fetches the link facts when they changed (a 304 keeps the tag: nothing is read); true when they did. */
export async function fetchLinks() {
  const res = await fetch('/api/v1/links', { cache: 'no-cache' });
  if (!res.ok) throw new Error(`links: HTTP ${res.status}`);
  const t = res.headers.get('etag') ?? '';
  if (t && t === tag) return false;
  const body = /** @type {{nodes: {name: string, links: LinkFact[]}[]}} */ (await res.json());
  byNode = new Map(body.nodes.map((n) => [n.name, n.links]));
  tag = t;
  return true;
}

/** The report's nodes with their link facts put back. @param {ReportNode[]} nodes */
export function withLinks(nodes) {
  return nodes.map((n) => {
    const links = byNode.get(n.name);
    return links ? { ...n, links } : n;
  });
}

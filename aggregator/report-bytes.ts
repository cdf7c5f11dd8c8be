// A report as UTF-8 JSON bytes (pure), with each node's link facts encoded once per hello rather than once per
// report. A bonded node's facts are ~6 KB (a bond's members, LACP partners, LLDP neighbours per binding): at 1,000
// nodes every report, the pollers' `?matrix=none` ones too, carried 6 MB of them, re-encoded for each new
// snapshot (~0.5 s a round: BENCHMARKS.md "AFTER 9"). The bytes parse to the same report as JSON.stringify's;
// only a node's `links` key comes last in its object.
import { randomBytes } from 'node:crypto';
import type { LinkFact } from '../agent/contract/link-wire.js';
import type { Report, ReportNode } from './report.js';
import { rowsJson } from './row-text.js';

/** The link facts of one hello (the same array until the next hello), as JSON bytes. */
const linkBytes = new WeakMap<readonly LinkFact[], Buffer>();
function linksJson(links: readonly LinkFact[]): Buffer {
  let b = linkBytes.get(links);
  if (!b) linkBytes.set(links, (b = Buffer.from(JSON.stringify(links))));
  return b;
}

/**
 * Where the nodes go: a string no report can hold by chance (random per process, so an agent cannot put it in
 * a hostname or an LLDP name either), quoted as JSON.stringify writes it.
 */
const mark = `"pinger-nodes-${randomBytes(12).toString('hex')}"`;
/**
 * A node entry's JSON as UTF-8 bytes, written once per entry object (report.ts reuses an entry while the node is
 * unchanged); with link facts, up to and including the `links` key, whose bytes follow from linksJson. Without them
 * (a report asked for with `links=none`), the entry's JSON with its other keys only. Bytes, not text: a poll's body
 * is then one copy of bytes already encoded, where joining the texts made a ~650 KB string at 1,000 nodes, copied
 * it flat and encoded it again on every rebuild (~4 ms and 1.3 MB of garbage a poll: test/bench/poll-cost.ts).
 */
const entryJson = new WeakMap<ReportNode, Buffer>();
const entryJsonNoLinks = new WeakMap<ReportNode, Buffer>();
function entryBytes(n: ReportNode, withLinks: boolean): Buffer {
  const cache = withLinks || !n.links ? entryJson : entryJsonNoLinks;
  let b = cache.get(n);
  if (b !== undefined) return b;
  let s: string;
  if (n.links) {
    const { links: _, ...rest } = n;
    s = withLinks ? `${JSON.stringify(rest).slice(0, -1)},"links":` : JSON.stringify(rest);
  } else s = JSON.stringify(n);
  cache.set(n, (b = Buffer.from(s)));
  return b;
}

const comma = Buffer.from(',');
const close = Buffer.from('}');
const open = Buffer.from('[');
const end = Buffer.from(']');

/** The report's JSON; `withLinks` false leaves the nodes' link facts out (GET /api/v1/links serves them). */
export function reportBytes(report: Report, withLinks = true): Buffer {
  // A matrix's state rows (`bindings[].matrix.states`) come with their JSON bytes, kept per row until a cell of
  // the row changes (row-text.ts): the default report at 1,000 x 6 is 6 MB of them. Written into one string with
  // the rest, searched for the nodes' place and encoded again, they cost ~33 ms and ~30 MB of garbage a report
  // (test/bench/poll-cost.ts 1000 30 states); in place of a mark of their own, as the nodes are, a copy of bytes.
  const rows: (readonly Buffer[])[] = [];
  const rowsMark = (k: number) => `${mark.slice(0, -1)}-${k}"`;
  const bindings = report.bindings.map((b) => {
    const bytes = b.matrix && rowsJson.get(b.matrix.states)?.();
    if (!bytes) return b;
    rows.push(bytes);
    return { ...b, matrix: { ...b.matrix!, states: JSON.parse(rowsMark(rows.length - 1)) as string[] } };
  });
  const text = JSON.stringify({ ...report, nodes: JSON.parse(mark), bindings });
  // Where each mark is, in the order the text has them (the report's own key order).
  const places: { at: number; len: number; fill: (parts: Buffer[]) => void }[] = [
    {
      at: text.indexOf(mark),
      len: mark.length,
      fill: (parts: Buffer[]) =>
        report.nodes.forEach((n, i) => {
          if (i) parts.push(comma);
          parts.push(entryBytes(n, withLinks));
          if (n.links && withLinks) parts.push(linksJson(n.links), close);
        }),
    },
    ...rows.map((list, k) => ({
      at: text.indexOf(rowsMark(k)),
      len: rowsMark(k).length,
      fill: (parts: Buffer[]) =>
        list.forEach((b, i) => {
          if (i) parts.push(comma);
          parts.push(b);
        }),
    })),
  ].sort((a, b) => a.at - b.at);
  const parts: Buffer[] = [];
  let from = 0;
  for (const p of places) {
    parts.push(Buffer.from(text.slice(from, p.at)), open);
    p.fill(parts);
    parts.push(end);
    from = p.at + p.len;
  }
  parts.push(Buffer.from(text.slice(from)));
  return Buffer.concat(parts);
}

/** `{"nodes":[{"name":..,"links":[..]},..]}`: the link facts of the nodes that sent them, in the report's order. */
export function linksBytes(nodes: readonly ReportNode[]): Buffer {
  const parts: Buffer[] = [];
  let pending = '{"nodes":[';
  for (const n of nodes) {
    if (!n.links) continue;
    pending += `${parts.length ? ',' : ''}{"name":${JSON.stringify(n.name)},"links":`;
    parts.push(Buffer.from(pending), linksJson(n.links));
    pending = '}';
  }
  parts.push(Buffer.from(`${pending}]}`));
  return Buffer.concat(parts);
}

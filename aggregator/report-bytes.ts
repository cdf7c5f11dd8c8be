// A report as UTF-8 JSON bytes (pure), with each node's link facts encoded once per hello rather than once per
// report. A bonded node's facts are ~6 KB (a bond's members, LACP partners, LLDP neighbours per binding): at 1,000
// nodes every report, the pollers' `?matrix=none` ones too, carried 6 MB of them, re-encoded for each new
// snapshot (~0.5 s a round: BENCHMARKS.md "AFTER 9"). The bytes parse to the same report as JSON.stringify's;
// only a node's `links` key comes last in its object.
import { randomBytes } from 'node:crypto';
import type { LinkFact } from '../agent/contract/link-wire.js';
import type { Report, ReportNode } from './report.js';

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
 * A node entry's JSON, written once per entry object (report.ts reuses an entry while the node is unchanged); with
 * link facts, up to and including the `links` key, whose bytes follow from linksJson. Without them (a report
 * asked for with `links=none`), the entry's JSON with its other keys only.
 */
const entryJson = new WeakMap<ReportNode, string>();
const entryJsonNoLinks = new WeakMap<ReportNode, string>();
function entryText(n: ReportNode, withLinks: boolean): string {
  const cache = withLinks || !n.links ? entryJson : entryJsonNoLinks;
  let s = cache.get(n);
  if (s !== undefined) return s;
  if (n.links) {
    const { links: _, ...rest } = n;
    s = withLinks ? `${JSON.stringify(rest).slice(0, -1)},"links":` : JSON.stringify(rest);
  } else s = JSON.stringify(n);
  cache.set(n, s);
  return s;
}

/** The report's JSON; `withLinks` false leaves the nodes' link facts out (GET /api/v1/links serves them). */
export function reportBytes(report: Report, withLinks = true): Buffer {
  const text = JSON.stringify({ ...report, nodes: JSON.parse(mark) });
  const at = text.indexOf(mark);
  // Text between two nodes' link facts is gathered and encoded once, not one buffer per node.
  const parts: Buffer[] = [];
  let pending = `${text.slice(0, at)}[`;
  report.nodes.forEach((n, i) => {
    if (i) pending += ',';
    pending += entryText(n, withLinks);
    if (!n.links || !withLinks) return;
    parts.push(Buffer.from(pending), linksJson(n.links));
    pending = '}';
  });
  parts.push(Buffer.from(`${pending}]${text.slice(at + mark.length)}`));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
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

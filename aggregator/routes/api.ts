// The JSON API people and tools read: the report, one pair's details, health.
import type { FastifyInstance } from 'fastify';
import type { LinkFact } from '../../agent/contract/link-wire.js';
import type { MatrixDetail, Report, ReportNode } from '../report.js';
import { linksBytes, reportBytes } from '../report-bytes.js';
import { tokenMatches } from './agent-ws.js';
import type { AggregatorState } from '../state.js';

const details: readonly MatrixDetail[] = ['none', 'states', 'runs', 'full'];

/**
 * Each report's JSON as UTF-8 bytes, encoded once: the state shares one report object per snapshot among its
 * readers. Bytes, not the string: a string body is encoded again into a new buffer on every write (6.4 MiB a
 * poll of the default report at 1,000 x 6), and the V8 string would stay alive beside the bytes. Nodes' link
 * facts are encoded once per hello (report-bytes.ts).
 */
const serialized = new WeakMap<Report, Buffer>();
const serializedNoLinks = new WeakMap<Report, Buffer>();
export function reportBody(report: Report, withLinks = true): Buffer {
  const cache = withLinks ? serialized : serializedNoLinks;
  let b = cache.get(report);
  if (b === undefined) cache.set(report, (b = reportBytes(report, withLinks)));
  return b;
}

/**
 * The nodes' link facts (GET /api/v1/links), encoded again only when a node's facts changed (a new hello's array)
 * or the node list did: the page polls it beside a report without them, and gets 304 while they stand.
 */
let linksCache: { facts: readonly (readonly LinkFact[] | undefined)[]; names: readonly string[]; body: Buffer; etag: string } | undefined;
function linksBody(nodes: readonly ReportNode[]): { body: Buffer; etag: string } {
  const c = linksCache;
  if (c && c.facts.length === nodes.length && nodes.every((n, i) => n.links === c.facts[i] && n.name === c.names[i])) return c;
  linksCache = { facts: nodes.map((n) => n.links), names: nodes.map((n) => n.name), body: linksBytes(nodes), etag: `"${bootId}-links-${++tagSeq}"` };
  return linksCache;
}

/**
 * An entity tag per report object (one per snapshot and matrix detail): pollers that send it back get 304 while
 * the snapshot stands (it is rebuilt at most every 500 ms above 200 nodes), so a page or script polling every
 * 250 ms costs a 720 KB write only when there is something new. The boot id keeps tags unique across restarts.
 */
const bootId = Math.random().toString(36).slice(2, 10);
let tagSeq = 0;
const tags = new WeakMap<object, string>();
function etagOf(report: object): string {
  let t = tags.get(report);
  if (t === undefined) tags.set(report, (t = `"${bootId}-${++tagSeq}"`));
  return t;
}

/** GET /api/v1/links: every node's link facts, `{"nodes": [{"name", "links"}]}`, under a tag of their own. */
function linksRoute(app: FastifyInstance, state: AggregatorState): void {
  app.get('/api/v1/links', async (req, reply) => {
    const { body, etag } = linksBody(state.report('none').nodes);
    reply.header('etag', etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('application/json; charset=utf-8').send(body);
  });
}

export async function apiRoutes(app: FastifyInstance, opts: { state: AggregatorState; startedAt: number; token: string }): Promise<void> {
  const { state } = opts;

  app.get<{ Querystring: { matrix?: string; links?: string } }>('/api/v1/report', async (req, reply) => {
    const m = req.query.matrix ?? (state.inventory.nodes.length <= 100 ? 'full' : 'states');
    if (!details.includes(m as MatrixDetail)) {
      return reply.code(400).send({ code: 'PINGER_ERR_HTTP_BAD_QUERY', error: `matrix must be one of ${details.join(', ')}; got ${JSON.stringify(m)}` });
    }
    const links = req.query.links ?? 'all';
    if (links !== 'all' && links !== 'none') {
      return reply.code(400).send({ code: 'PINGER_ERR_HTTP_BAD_QUERY', error: `links must be all or none; got ${JSON.stringify(links)}` });
    }
    const report = state.report(m as MatrixDetail);
    // The same report without the link facts is other bytes: another tag.
    const etag = links === 'all' ? etagOf(report) : `${etagOf(report).slice(0, -1)}-nolinks"`;
    reply.header('etag', etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('application/json; charset=utf-8').send(reportBody(report, links === 'all'));
  });

  linksRoute(app, state);

  app.get<{ Querystring: { binding?: string; from?: string; to?: string } }>('/api/v1/pair', async (req, reply) => {
    const { binding, from, to } = req.query;
    const m = state.matrices.find((x) => x.binding === binding);
    const cell = m && from && to ? m.cell(from, to) : undefined;
    if (!cell) {
      return reply.code(404).send({ code: 'PINGER_ERR_HTTP_NOT_FOUND', error: `no pair ${from} -> ${to} on binding ${JSON.stringify(binding)}` });
    }
    const num = (v: number) => (Number.isNaN(v) ? null : v);
    return {
      binding,
      ...cell,
      rttAvg: num(cell.rttAvg),
      rttP99: num(cell.rttP99),
      loss: num(cell.loss),
      updatedAt: cell.updatedAt ? new Date(cell.updatedAt).toISOString() : null,
      expected: state.plan.bindings[binding!],
    };
  });

  // Makes every agent probe at once: only for holders of the cluster secret (the charm's run-check action),
  // not for an agent's node credential nor the read token.
  app.post('/api/v1/run-check', async (req, reply) => {
    if (!tokenMatches(req, opts.token)) return reply.code(401).send({ code: 'PINGER_ERR_AUTH_TOKEN', error: 'missing or wrong cluster secret' });
    return { requested: state.requestRound() };
  });

  app.get('/healthz', async () => {
    const s = state.snapshot();
    return {
      status: 'ok',
      uptimeSeconds: Math.round((Date.now() - opts.startedAt) / 1000),
      verdict: s.verdict,
      agentsExpected: state.inventory.nodes.length,
      agentsConnected: s.nodes.filter((n) => n.record.connected).length,
    };
  });
}

// The report in the browser: the page and its assets at /, a live channel (Server-Sent Events) that tells
// pages when the state changed, and the report as files to download (JSON, Markdown, self-contained HTML).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { reportToHtml, reportToMarkdown } from '../export.js';
import type { AggregatorState } from '../state.js';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page's folder: next to this file in the sources; from dist/ (tsc copies no assets) the source tree's. */
export function webDir(): string {
  // Beside this file (a checkout), from dist/aggregator/routes/ (tsc) or from dist/bundle/ (the bundle).
  const candidates = ['../web/', '../../../aggregator/web/', '../../aggregator/web/'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const dir = candidates.find((d) => existsSync(`${d}index.html`));
  if (!dir) throw new Error(`the report page is missing: no index.html in ${candidates.join(' or ')}`);
  return dir;
}

/**
 * What a page needs to decide whether to fetch the report again. `key` is built the same way by the page
 * from a report (aggregator/web/app.js reportKey): equal keys, nothing a reader would see has changed.
 */
export function liveSummary(state: AggregatorState) {
  const s = state.snapshot();
  const reporting = s.nodes.filter((n) => n.state === 'reporting').length;
  return {
    verdict: s.verdict,
    reporting,
    expected: state.inventory.nodes.length,
    findings: s.findings.length,
    key: `${s.verdict}|${reporting}|${s.findings.map((f) => `${f.kind}:${f.binding ?? ''}:${f.nodes.join(',')}`).join(';')}`,
    at: new Date(s.at).toISOString(),
  };
}

export interface WebOptions {
  state: AggregatorState;
  /** How often an idle live channel gets a tick (keeps proxies from closing it; lets pages see staleness). */
  tickMs?: number;
}

// size: the routes and the live channel share the stream set and the tick timer
export async function webRoutes(app: FastifyInstance, opts: WebOptions): Promise<void> {
  const { state } = opts;
  const dir = webDir();
  // Read once: a handful of small files, and no path from a request ever reaches the file system.
  const assets = new Map(
    readdirSync(dir)
      .filter((f) => types[extname(f)])
      .map((f) => [f, { body: readFileSync(`${dir}${f}`), type: types[extname(f)]! }]),
  );
  const send = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const a = assets.get(name)!;
    return reply.header('content-type', a.type).header('cache-control', 'no-cache').send(a.body);
  };
  app.get('/', send('index.html'));
  for (const name of assets.keys()) if (name !== 'index.html') app.get(`/web/${name}`, send(name));

  // The live channel. A 'change' says only that something changed: pages fetch the report themselves, and
  // the state's findings (costly at 1,000 nodes) are not recomputed per page or per change. A shared 'tick'
  // carries the summary so pages notice what no change announces (an agent going stale); it is spaced by
  // ten times what computing it cost, so a big fleet's diagnosis never keeps the server busy.
  const streams = new Set<ServerResponse>();
  let seq = 0;
  const broadcast = (event: string, data: string) => {
    const msg = `event: ${event}\ndata: ${data}\n\n`;
    for (const s of streams) s.write(msg);
  };
  const onChange = () => broadcast('change', JSON.stringify({ seq: ++seq }));
  state.on('change', onChange);
  let tickTimer: NodeJS.Timeout | undefined;
  const scheduleTick = (ms: number) => {
    if (tickTimer || streams.size === 0) return;
    tickTimer = setTimeout(() => {
      tickTimer = undefined;
      if (streams.size === 0) return;
      const t0 = performance.now();
      const data = JSON.stringify(liveSummary(state));
      broadcast('tick', data);
      scheduleTick(Math.max(opts.tickMs ?? 5000, 10 * (performance.now() - t0)));
    }, ms);
    tickTimer.unref();
  };
  app.get('/api/v1/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(`retry: 3000\n\nevent: change\ndata: ${JSON.stringify({ seq })}\n\n`);
    streams.add(res);
    scheduleTick(opts.tickMs ?? 5000);
    const done = () => streams.delete(res);
    req.raw.on('close', done);
    res.on('close', done);
  });
  // Open event streams would keep the server from closing.
  app.addHook('preClose', async () => {
    state.off('change', onChange);
    clearTimeout(tickTimer);
    for (const s of streams) s.end();
  });

  const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');
  app.get('/api/v1/export/report.json', async (_req, reply) => {
    reply.header('content-disposition', `attachment; filename="pinger-report-${stamp()}.json"`);
    return state.report('states');
  });
  app.get('/api/v1/export/report.md', async (_req, reply) => {
    reply.header('content-type', 'text/markdown; charset=utf-8').header('content-disposition', `attachment; filename="pinger-report-${stamp()}.md"`);
    return reportToMarkdown(state.report('states'));
  });
  app.get('/api/v1/export/report.html', async (_req, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8').header('content-disposition', `attachment; filename="pinger-report-${stamp()}.html"`);
    return reportToHtml(state.report('states'));
  });
}

// Builds the aggregator's HTTP + WebSocket server from its route plugins. No listening here (tests inject).
import { lstatSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { WebSocketServer } from 'ws';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { makeLogger } from '../agent/log.js';
import { MAX_MESSAGE_BYTES } from '../agent/contract/wire.js';
import { adminRoutes } from './routes/admin.js';
import { agentWsRoutes } from './routes/agent-ws.js';
import type { ReloadResult } from './reload.js';
import { apiRoutes } from './routes/api.js';
import { metricsRoutes } from './routes/metrics.js';
import { readAuth } from './routes/read-auth.js';
import { webRoutes } from './routes/web.js';
import type { MetricsOptions } from './metrics.js';
import type { AggregatorState } from './state.js';
import { installSyncInflate } from './ws-inflate.js';

export interface ServerOptions {
  state: AggregatorState;
  /** The cluster secret: node credentials derive from it; admin routes take it as Bearer. */
  token: string;
  /** Certificate and key (PEM): every listener serves https:// and wss://. Without: plain HTTP. */
  tls?: { cert: Buffer; key: Buffer };
  /** When set, the read routes need it (routes/read-auth.ts). */
  readToken?: string;
  logLevel?: string;
  pingIntervalMs?: number;
  /** Per-pair metric thresholds (defaults in metrics.ts). */
  metrics?: Partial<MetricsOptions>;
  /** Live inventory: re-reads inventory and profile (POST /api/v1/admin/reload; SIGHUP in main.ts). */
  reload?: () => ReloadResult;
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  // Request logging off: browsers poll the report, and a line per poll would bury the agents' events.
  // The one log format (agent/log.ts): the same fields as the agents' records.
  const app = Fastify({
    loggerInstance: makeLogger({ component: 'aggregator', level: opts.logLevel ?? 'info' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    ...(opts.tls ? { https: opts.tls } : {}),
  }) as unknown as FastifyInstance;
  if (opts.tls) tlsOf.set(app, opts.tls);
  // Before the routes: a root hook applies to every route registered after it.
  if (opts.readToken) readAuth(app, { readToken: opts.readToken, secret: opts.token });
  // perMessageDeflate: agents' result rounds are repetitive JSON, ~10x smaller compressed, so agents may send
  // them compressed (the aggregator inflates). The aggregator itself sends uncompressed (threshold): its messages
  // are few and small, and a deflate stream per connection, kept for the connection's life, was ~220 MB of
  // RSS at 1,000 agents (BENCHMARKS.md, fleet over real WebSockets). ws honours `threshold` only with
  // server_no_context_takeover negotiated (otherwise it compresses every message), hence both. Agents that compress
  // are asked for a 2 KiB window, not 32: the aggregator keeps an inflate window per connection (~30 MB less RSS at
  // 1,000 agents), and a results frame is 10x smaller deflated, not 13x (BENCHMARKS.md AFTER 6). They are asked for
  // client_no_context_takeover too: each message then inflates alone, in one synchronous call (ws-inflate.ts), not
  // through a zlib stream kept per connection (~0.2 ms of CPU less a results frame, and no inflate state kept).
  if (!installSyncInflate()) app.log.warn("ws's PerMessageDeflate was not found: compressed agent messages go through ws's zlib stream (slower)");
  const perMessageDeflate = { threshold: MAX_MESSAGE_BYTES + 1, serverNoContextTakeover: true, clientNoContextTakeover: true, clientMaxWindowBits: 11 };
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate });
  wssOf.set(app, wss);
  await app.register(agentWsRoutes, { state: opts.state, token: opts.token, pingIntervalMs: opts.pingIntervalMs, wss });
  await app.register(apiRoutes, { state: opts.state, startedAt: Date.now(), token: opts.token });
  await app.register(metricsRoutes, { state: opts.state, metrics: opts.metrics });
  await app.register(webRoutes, { state: opts.state });
  await app.register(adminRoutes, { token: opts.token, ...(opts.reload ? { reload: opts.reload } : {}) });
  app.addHook('onClose', async () => opts.state.close());
  return app;
}

const tlsOf = new WeakMap<FastifyInstance, { cert: Buffer; key: Buffer }>();
const wssOf = new WeakMap<FastifyInstance, WebSocketServer>();

/** The agents' WebSocket server of an app buildServer made (its `clients`: every agent connection). */
export function agentSockets(app: FastifyInstance): WebSocketServer | undefined {
  return wssOf.get(app);
}

/**
 * Serves the same app on one more address (TCP or a unix socket): fastify listens on one, so this server
 * hands its requests and WebSocket upgrades to fastify's. Closed with the app. Returns the address.
 * A TLS app's extra listeners speak TLS too, unix sockets included: one rule, and the lab's agents (which
 * reach the aggregator only through its socket) test wss:// end to end.
 */
export async function listenAlso(app: FastifyInstance, to: { host: string; port: number } | { path: string }): Promise<string> {
  const tls = tlsOf.get(app);
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => app.server.emit('request', req, res);
  const extra = tls ? createTlsServer(tls, handler) : createServer(handler);
  extra.on('upgrade', (req, socket, head) => app.server.emit('upgrade', req, socket, head));
  // A socket file left by a killed aggregator would make listen fail with EADDRINUSE; only a socket is removed.
  if ('path' in to) {
    try {
      if (lstatSync(to.path).isSocket()) unlinkSync(to.path);
    } catch {
      // not there
    }
  }
  await new Promise<void>((resolve, reject) => {
    extra.once('error', reject);
    extra.listen('path' in to ? { path: to.path } : { host: to.host, port: to.port }, () => resolve());
  });
  // Hooks cannot be added once fastify listens: follow its server's close instead.
  app.server.once('close', () => {
    extra.close();
    extra.closeAllConnections();
  });
  const a = extra.address();
  return typeof a === 'string' ? `unix:${a}` : `${tls ? 'https' : 'http'}://${a!.family === 'IPv6' ? `[${a!.address}]` : a!.address}:${a!.port}`;
}

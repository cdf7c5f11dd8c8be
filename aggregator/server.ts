// Builds the aggregator's HTTP + WebSocket server from its route plugins. No listening here (tests inject).
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { MAX_MESSAGE_BYTES } from '../agent/wire.js';
import { agentWsRoutes } from './routes/agent-ws.js';
import { apiRoutes } from './routes/api.js';
import type { AggregatorState } from './state.js';

export interface ServerOptions {
  state: AggregatorState;
  token: string;
  logLevel?: string;
  pingIntervalMs?: number;
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  // Request logging off: browsers poll the report, and a line per poll would bury the agents' events.
  const app = Fastify({ logger: { level: opts.logLevel ?? 'info' }, logController: new LogController({ disableRequestLogging: true }) });
  // perMessageDeflate: result rounds are repetitive JSON; compressed they are ~10x smaller on the wire.
  await app.register(websocket, { options: { maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: true } });
  await app.register(agentWsRoutes, { state: opts.state, token: opts.token, pingIntervalMs: opts.pingIntervalMs });
  await app.register(apiRoutes, { state: opts.state, startedAt: Date.now(), token: opts.token });
  app.addHook('onClose', async () => opts.state.close());
  return app;
}

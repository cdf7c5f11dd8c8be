// An aggregator in the test's own process, listening on 127.0.0.1 (a free port), demo profile over loopback nodes:
// for tests that talk to its HTTP and WebSocket endpoints and also read its state or its agents' sockets.
import type { FastifyInstance } from 'fastify';
import { builtinProfile } from '../../aggregator/profile.js';
import { buildServer } from '../../aggregator/server.js';
import { AggregatorState } from '../../aggregator/state.js';
import { loopbackInventory } from './cluster.js';

export interface InProcess {
  state: AggregatorState;
  app: FastifyInstance;
  /** http://127.0.0.1:PORT */
  at: string;
  close(): Promise<void>;
}

export async function startInProcess(o: { nodes: number; token: string; logLevel?: string; pingIntervalMs?: number }): Promise<InProcess> {
  const state = new AggregatorState({ inventory: loopbackInventory(o.nodes, ['internal']), profile: builtinProfile('demo') });
  const app = await buildServer({ state, token: o.token, logLevel: o.logLevel ?? 'error', ...(o.pingIntervalMs ? { pingIntervalMs: o.pingIntervalMs } : {}) });
  const at = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    state,
    app,
    at,
    async close() {
      await app.close();
      state.close();
    },
  };
}

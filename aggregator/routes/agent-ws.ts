// The agents' WebSocket endpoint: authenticate, validate every message, feed the state.
// A bad message closes only that agent's connection, with a logged reason and a close code.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type {} from '@fastify/websocket';
import { AGENT_WS_PATH, WIRE_VERSION, decodeAgentMessage, encode } from '../../agent/wire.js';
import { aggregatorErrors, type AggregatorErrorCode } from '../errors.js';
import type { AggregatorState } from '../state.js';

export interface AgentWsOptions {
  state: AggregatorState;
  token: string;
  /** ms between WebSocket pings; an agent that misses one pong is terminated. */
  pingIntervalMs?: number;
}

export function tokenMatches(req: FastifyRequest, token: string): boolean {
  const h = req.headers.authorization ?? '';
  const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7).trim() : '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export async function agentWsRoutes(app: FastifyInstance, opts: AgentWsOptions): Promise<void> {
  const { state, token } = opts;
  const live = new Map<string, WebSocket>();

  app.get(
    AGENT_WS_PATH,
    {
      websocket: true,
      preValidation: async (req, reply) => {
        if (!tokenMatches(req, token)) {
          req.log.warn({ remote: req.ip }, 'PINGER_ERR_AUTH_TOKEN: agent refused: missing or wrong token');
          await reply.code(401).send({ code: 'PINGER_ERR_AUTH_TOKEN', error: aggregatorErrors.PINGER_ERR_AUTH_TOKEN.message });
        }
      },
    },
    (socket, req) => {
      let node: string | undefined;
      let alive = true;
      const reject = (code: AggregatorErrorCode, why: string) => {
        state.counters.rejected++;
        const e = aggregatorErrors[code];
        req.log.warn({ remote: req.ip, node, code }, `${code}: ${why}`);
        // Close reasons are limited to 123 bytes by the protocol.
        socket.close('close' in e ? e.close : 4400, `${code}: ${why}`.slice(0, 120));
      };
      const helloTimer = setTimeout(() => {
        if (!node) reject('PINGER_ERR_WS_HELLO_TIMEOUT', aggregatorErrors.PINGER_ERR_WS_HELLO_TIMEOUT.message);
      }, 10_000);
      const pinger = setInterval(() => {
        if (!alive) return socket.terminate();
        alive = false;
        socket.ping();
      }, opts.pingIntervalMs ?? 15_000);
      socket.on('pong', () => (alive = true));

      socket.on('message', (data: Buffer, isBinary: boolean) => {
        alive = true;
        state.counters.messages++;
        if (isBinary) return reject('PINGER_ERR_WS_BAD_MESSAGE', 'binary frames are not part of the protocol');
        const d = decodeAgentMessage(data);
        if (!d.ok) {
          const code = d.error.startsWith('unsupported wire version') ? 'PINGER_ERR_WS_VERSION' : 'PINGER_ERR_WS_BAD_MESSAGE';
          return reject(code, d.error);
        }
        const msg = d.msg;
        if (msg.type === 'clock') {
          const t1 = Date.now();
          socket.send(encode({ v: WIRE_VERSION, type: 'clock', t0: msg.t0, t1, t2: Date.now() }));
          return;
        }
        if (msg.type === 'hello') {
          if (node && node !== msg.node) return reject('PINGER_ERR_WS_NODE_MISMATCH', `hello for ${msg.node} on ${node}'s connection`);
          if (!state.isExpected(msg.node)) return reject('PINGER_ERR_WS_UNKNOWN_NODE', `node ${JSON.stringify(msg.node)} is not in the inventory`);
          if (!node) {
            const old = live.get(msg.node);
            if (old && old !== socket) old.close(4409, 'PINGER_ERR_WS_REPLACED: a newer connection for this node');
            live.set(msg.node, socket);
            node = msg.node;
            clearTimeout(helloTimer);
            socket.send(encode({ v: WIRE_VERSION, type: 'welcome', plan: state.plan, serverTime: Date.now(), up: state.upNodes(msg.node) }));
            // After a live reload the agent's own inventory file may predate ours: send the peer set too.
            if (state.generation > 0) socket.send(planText());
            req.log.info({ node, remote: req.ip, agentVersion: msg.agentVersion, icmp: msg.icmp }, 'agent connected');
          }
          state.hello(msg);
          return;
        }
        if (!node) return reject('PINGER_ERR_WS_BAD_MESSAGE', `${msg.type} before hello`);
        if (msg.node !== node) return reject('PINGER_ERR_WS_NODE_MISMATCH', `${msg.type} for ${msg.node} on ${node}'s connection`);
        if (msg.type === 'results') state.results(msg);
        else state.heartbeat(msg);
      });

      socket.on('close', (code: number) => {
        clearTimeout(helloTimer);
        clearInterval(pinger);
        if (node && live.get(node) === socket) {
          live.delete(node);
          state.disconnected(node);
          req.log.info({ node, code }, 'agent disconnected');
        }
      });
      socket.on('error', (err: Error) => req.log.warn({ node, err: err.message }, 'agent socket error'));
    },
  );

  // The charm's run-check action (and the API) ask the state for a fresh round; joins ask for a catch-up of
  // the peers that joined. Every live agent gets it.
  const runNow = (peers: string[] | undefined, at?: number) => {
    const text = encode({ v: WIRE_VERSION, type: 'run-now', ...(peers ? { peers, ...(at !== undefined ? { at } : {}) } : {}) });
    for (const s of live.values()) s.send(text);
  };
  state.on('run-now', runNow);

  // Live inventory: every agent still listed gets the new plan and peer set over its connection; one whose
  // node was removed is closed as unknown (a final code: it stops instead of reconnecting in a loop).
  const planText = () => encode({ v: WIRE_VERSION, type: 'plan', plan: state.plan, peers: state.inventory.nodes });
  const onReload = () => {
    const text = planText();
    for (const [n, s] of live) {
      if (state.isExpected(n)) s.send(text);
      else s.close(aggregatorErrors.PINGER_ERR_WS_UNKNOWN_NODE.close, `PINGER_ERR_WS_UNKNOWN_NODE: ${n} was removed from the inventory`.slice(0, 120));
    }
  };
  state.on('reload', onReload);
  app.addHook('onClose', async () => {
    state.off('run-now', runNow);
    state.off('reload', onReload);
    for (const s of live.values()) s.close(1001, 'aggregator shutting down');
  });
}

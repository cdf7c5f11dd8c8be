// The agents' WebSocket endpoint: authenticate each agent as one node, validate every message, feed the state.
// A bad message closes only that agent's connection, with a logged reason and a close code. Nothing a peer
// sends can throw out of the handler, and what a peer makes us log is rate-limited per peer (log-limit.ts).
import { timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket, WebSocketServer } from 'ws';
import { credentialMatches, parseAgentAuthorization } from '../../agent/credential.js';
import { udpEchoKey } from '../../agent/probes/udp.js';
import { AGENT_WS_PATH, WIRE_VERSION, encode, limits, type DecodeFailure } from '../../agent/contract/wire.js';
import { decodeFromAgent } from '../../agent/contract/agent-check.js';
import { decodeResultsFrame } from '../../agent/contract/wire-binary.js';
import { resolvePeerSet } from '../../agent/contract/peer-set.js';
import { aggregatorErrors, type RejectCode } from '../errors.js';
import { LogLimiter, summaryLine, defaultLogLimit, type LogLimitOptions } from '../log-limit.js';
import type { AggregatorState } from '../state.js';
import { closeReason } from '../ws-close.js';

export interface AgentWsOptions {
  state: AggregatorState;
  /**
   * The WebSocket server agents upgrade into (`noServer`): the aggregator's HTTP server hands it the upgrades of
   * AGENT_WS_PATH straight from its 'upgrade' event, not through fastify's router and hooks (~0.15 ms of CPU an
   * upgrade less, 1,000 of them as a fleet starts: BENCHMARKS.md AFTER 12).
   */
  wss: WebSocketServer;
  token: string;
  /** Liveness ticks (ms): an agent silent for one tick is pinged, and terminated when silent through the next. */
  pingIntervalMs?: number;
  /** Lines a peer may cause per window (defaults in log-limit.ts). */
  logLimit?: Partial<Omit<LogLimitOptions, 'now'>>;
}

const codeOf: Record<DecodeFailure, RejectCode> = {
  size: 'PINGER_ERR_WS_TOO_LARGE',
  depth: 'PINGER_ERR_WS_TOO_LARGE',
  version: 'PINGER_ERR_WS_VERSION',
  json: 'PINGER_ERR_WS_BAD_MESSAGE',
  schema: 'PINGER_ERR_WS_BAD_MESSAGE',
};

/** Whether the request carries the cluster secret as Bearer (admin routes). */
export function tokenMatches(req: FastifyRequest, token: string): boolean {
  const h = req.headers.authorization ?? '';
  const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7).trim() : '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

// size: the route and its per-connection handler share the agent table and limits
export async function agentWsRoutes(app: FastifyInstance, opts: AgentWsOptions): Promise<void> {
  const { state, token } = opts;
  const live = new Map<string, WebSocket>();
  const limiter = new LogLimiter(opts.logLimit);
  type Level = 'info' | 'warn' | 'error';
  /** A line a peer caused: the first ones each window, then one summary of how many were left out. */
  const peerLog = (log: FastifyBaseLogger, peer: string, level: Level, obj: Record<string, unknown>, msg: string) => {
    const a = limiter.admit(peer);
    if (a.summary) log.warn({ peer, suppressed: a.summary.count }, summaryLine(a.summary));
    if (a.log) log[level](obj, msg);
  };
  const sweeper = setInterval(() => {
    for (const s of limiter.sweep()) app.log.warn({ peer: s.peer, suppressed: s.count }, summaryLine(s));
  }, opts.logLimit?.windowMs ?? defaultLogLimit.windowMs);
  sweeper.unref();
  const remoteOf = new WeakMap<WebSocket, string>();
  const udpKey = udpEchoKey(token).toString('hex');
  const countReject = (code: RejectCode) => {
    state.counters.rejectedByCode[code]++;
  };

  const onUpgrade = (req: IncomingMessage, sock: Duplex, head: Buffer) => {
    // Node takes its error listener off a socket before 'upgrade': one stays until ws puts on its own.
    sock.on('error', destroyOnError);
    const remote = req.socket.remoteAddress ?? 'local';
    if (pathOf(req.url) !== AGENT_WS_PATH) return refuse(sock, 404, { error: `no WebSocket endpoint here; agents connect to ${AGENT_WS_PATH}` });
    const auth = parseAgentAuthorization(req.headers.authorization);
    if (!auth || !credentialMatches(token, auth.node, auth.credential)) {
      countReject('PINGER_ERR_AUTH_TOKEN');
      peerLog(app.log, remote, 'warn', { remote, claimed: auth?.node?.slice(0, 64) }, 'PINGER_ERR_AUTH_TOKEN: agent refused: missing or wrong node credential');
      return refuse(sock, 401, { code: 'PINGER_ERR_AUTH_TOKEN', error: aggregatorErrors.PINGER_ERR_AUTH_TOKEN.message });
    }
    sock.removeListener('error', destroyOnError);
    // ws answers a malformed upgrade itself (400, 405, 426), as it did behind fastify.
    opts.wss.handleUpgrade(req, sock, head, (socket) => connection(socket, sock, remote, auth.node));
  };
  app.server.on('upgrade', onUpgrade);

  // size: one agent connection's life (credential, hello, results, close) over its per-socket state
  const connection = (socket: WebSocket, raw: Duplex, remote: string, authenticated: string) => {
    const log = app.log;
    // Replies made in one tick leave in one write: an agent's hello and its clock request come in one read (957 of
    // 1,000 as a fleet starts), and each write to a socket is a system call (~50 us here; BENCHMARKS.md AFTER 15).
    let corked = false;
    const uncork = () => {
      corked = false;
      raw.uncork();
    };
    const reply = (text: string) => {
      if (!corked) {
        corked = true;
        raw.cork();
        process.nextTick(uncork);
      }
      socket.send(text);
    };
    remoteOf.set(socket, remote);
    let node: string | undefined;
    // Liveness. An agent heard within an interval (it sends a heartbeat every 5 s) is alive and is not pinged: a
    // ping to every agent every 15 s was 1,000 writes and 1,000 pongs to read for nothing at 1,000 nodes
    // (BENCHMARKS.md AFTER 17). One silent for an interval is pinged; silent through the next too, it goes
    // (20-30 s of silence, as 15-30 s before).
    let heard = true;
    let pinged = false;
    const alive = () => {
      heard = true;
      pinged = false;
    };
    /** Set once we close: frames already on their way are dropped, not judged (or counted) again. */
    let closing = false;
    const peer = () => (node ? `${node}@${remote}` : remote);
    const reject = (code: RejectCode, why: string, close = true) => {
      if (closing) return;
      closing = true;
      countReject(code);
      peerLog(log, peer(), 'warn', { remote, node, code }, `${code}: ${why}`);
      const e = aggregatorErrors[code];
      if (close) socket.close('close' in e ? e.close : 4400, closeReason(`${code}: ${why}`));
    };
    const helloTimer = setTimeout(() => {
      if (!node) reject('PINGER_ERR_WS_HELLO_TIMEOUT', aggregatorErrors.PINGER_ERR_WS_HELLO_TIMEOUT.message);
    }, 10_000);
    const pinger = setInterval(() => {
      if (heard) {
        heard = false;
        return;
      }
      if (pinged) return socket.terminate();
      pinged = true;
      socket.ping();
    }, opts.pingIntervalMs ?? 10_000);
    socket.on('pong', alive);

    const onMessage = (data: Buffer, isBinary: boolean) => {
      alive();
      state.counters.messages++;
      // Binary frames carry results only (wire v3), so none is valid before the hello.
      if (isBinary && !node) return reject('PINGER_ERR_WS_BAD_MESSAGE', 'a binary frame before hello (only results travel as binary)');
      // Before a hello only a hello or a clock request is valid: neither needs more than the control bound.
      const d = isBinary ? decodeResultsFrame(data) : decodeFromAgent(data, node ? {} : { maxBytes: limits.controlBytes });
      if (!d.ok) return reject(codeOf[d.why], d.error);
      const msg = d.msg;
      if (msg.type === 'clock') {
        const t1 = Date.now();
        // Sent at the tick's end: a wait there counts as round trip, and the agent keeps its fastest samples.
        reply(encode({ v: WIRE_VERSION, type: 'clock', t0: msg.t0, t1, t2: Date.now() }));
        return;
      }
      if (msg.type === 'hello') {
        if (msg.node !== authenticated) return reject('PINGER_ERR_WS_NODE_MISMATCH', `hello for ${msg.node} with ${authenticated}'s credential`);
        if (!state.isExpected(msg.node)) return reject('PINGER_ERR_WS_UNKNOWN_NODE', `node ${JSON.stringify(msg.node)} is not in the inventory`);
        if (!node) {
          // Only a holder of this node's credential gets here: the newer connection (a restarted agent whose
          // old TCP connection is not yet dead) takes over, and it is logged, as a second process would be.
          const old = live.get(msg.node);
          if (old && old !== socket) {
            peerLog(
              log,
              `${msg.node}@${remote}`,
              'warn',
              { node: msg.node, remote, previousRemote: remoteOf.get(old) },
              "agent takeover: a new connection with this node's credential replaces the connected one",
            );
            old.close(4409, 'PINGER_ERR_WS_REPLACED: a newer connection for this node');
          }
          live.set(msg.node, socket);
          node = msg.node;
          clearTimeout(helloTimer);
          // `up` trims a first round to the peers up now; with a pinglist the agent probes its window instead, so
          // the list (O(N) to build and ~10 KB a welcome at 1,000 nodes, 1,000 welcomes as a fleet starts) is left out.
          const up = state.plan.pinglist ? {} : { up: state.upNodes(msg.node) };
          const peerSet = state.peerSets.offered;
          reply(encode({ v: WIRE_VERSION, type: 'welcome', plan: state.plan, serverTime: Date.now(), ...up, udpKey, ...(peerSet ? { peerSet } : {}) }));
          // After a live reload the agent's own inventory file may predate ours: send the peer set too.
          if (state.generation > 0) reply(planText());
          peerLog(log, peer(), 'info', { node, remote, agentVersion: msg.agentVersion, icmp: msg.icmp }, 'agent connected');
        }
        state.hello(msg);
        return;
      }
      if (!node) return reject('PINGER_ERR_WS_BAD_MESSAGE', `${msg.type} before hello`);
      if (msg.node !== node) return reject('PINGER_ERR_WS_NODE_MISMATCH', `${msg.type} for ${msg.node} on ${node}'s connection`);
      if (msg.type !== 'results') return state.heartbeat(msg);
      // Peers named by index: checked against the set it names, then its tables carry that set's names.
      const why = resolvePeerSet(msg, msg.peerSet === undefined ? undefined : state.peerSets.get(msg.peerSet));
      if (why) return reject('PINGER_ERR_WS_BAD_MESSAGE', why);
      state.results(msg);
    };

    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (closing) return;
      try {
        onMessage(data, isBinary);
      } catch (err) {
        // A bug, not the peer's fault as far as we know: this connection goes, the aggregator stays.
        if (closing) return;
        closing = true;
        countReject('PINGER_ERR_WS_INTERNAL');
        peerLog(
          log,
          peer(),
          'error',
          { remote, node, code: 'PINGER_ERR_WS_INTERNAL', err: String((err as Error)?.stack ?? err).slice(0, 2000) },
          'PINGER_ERR_WS_INTERNAL: handling a message failed',
        );
        try {
          socket.close(
            aggregatorErrors.PINGER_ERR_WS_INTERNAL.close,
            closeReason(`PINGER_ERR_WS_INTERNAL: ${aggregatorErrors.PINGER_ERR_WS_INTERNAL.message}`),
          );
        } catch {
          socket.terminate();
        }
      }
    });

    socket.on('close', (code: number) => {
      clearTimeout(helloTimer);
      clearInterval(pinger);
      if (node && live.get(node) === socket) {
        live.delete(node);
        state.disconnected(node);
        peerLog(log, peer(), 'info', { node, code }, 'agent disconnected');
      }
    });
    // ws found a bad frame (too large, invalid UTF-8, bad opcode or mask) and closes the connection itself.
    socket.on('error', (err: Error) => reject('PINGER_ERR_WS_PROTOCOL', `agent socket error: ${String(err.message).slice(0, 200)}`, false));
  };

  // The charm's run-check action (and the API) ask the state for a fresh round; joins ask for a catch-up of
  // the peers that joined. Every live agent gets it.
  const runNow = (peers: string[] | undefined, at?: number) => {
    const text = encode({ v: WIRE_VERSION, type: 'run-now', ...(peers ? { peers, ...(at !== undefined ? { at } : {}) } : {}) });
    for (const s of live.values()) s.send(text);
  };
  state.on('run-now', runNow);
  // Delta rounds: the peers whose "unchanged" this agent's rows could not refer to go whole next time.
  state.on('resend', (node: string, peers: string[]) => live.get(node)?.send(encode({ v: WIRE_VERSION, type: 'resend', peers })));

  // Live inventory: every agent still listed gets the new plan and peer set over its connection; one whose
  // node was removed is closed as unknown (a final code: it stops instead of reconnecting in a loop).
  const planText = () => {
    const peerSet = state.peerSets.offered;
    return encode({ v: WIRE_VERSION, type: 'plan', plan: state.plan, peers: state.inventory.nodes, ...(peerSet ? { peerSet } : {}) });
  };
  const onReload = () => {
    const text = planText();
    for (const [n, s] of live) {
      if (state.isExpected(n)) s.send(text);
      else s.close(aggregatorErrors.PINGER_ERR_WS_UNKNOWN_NODE.close, `PINGER_ERR_WS_UNKNOWN_NODE: ${n} was removed from the inventory`.slice(0, 120));
    }
  };
  state.on('reload', onReload);
  // Before the server closes (it waits for every connection): agents, and sockets not yet past their hello.
  app.addHook('preClose', async () => {
    app.server.off('upgrade', onUpgrade);
    for (const s of opts.wss.clients) s.close(1001, 'aggregator shutting down');
  });
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    state.off('run-now', runNow);
    state.off('reload', onReload);
  });
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function pathOf(url: string | undefined): string {
  const u = url ?? '';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}

/** An upgrade refused with an HTTP status and a JSON body, as fastify would have answered it. */
function refuse(sock: Duplex, status: number, body: object): void {
  const text = JSON.stringify(body);
  sock.once('finish', () => sock.destroy());
  sock.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

// The agent's WebSocket link to the aggregator: authenticates with its node credential, verifies the
// aggregator's certificate against the given CA (wss://, wss+unix://), reconnects with
// exponential backoff and full jitter (a restarted aggregator must not be hit by every agent at once),
// re-sends its current state on every (re)connect, and keeps an NTP-style clock offset estimate.
import { EventEmitter } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { finalCloseCodes } from './contract/close-codes.js';
import { encodeResultsFrame } from './contract/wire-binary.js';
import { decodeServerMessage, encode, WIRE_VERSION, type AgentMessage, type PeerSpec, type ProbePlan } from './contract/wire.js';
import { agentAuthorization } from './credential.js';
import { ClockFilter, type ClockEstimate } from './clock-filter.js';

export interface LinkOptions {
  url: string;
  /** The node credential (hex): sent as `Bearer <node>:<credential>`. */
  credential: string;
  /** CA the aggregator's certificate must chain to; without it, the system's CAs. */
  ca?: Buffer;
  node: string;
  /** Messages to send after every (re)connect: the hello first, then the last results. */
  currentState: () => AgentMessage[];
  log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  heartbeatMs?: number;
  /**
   * permessage-deflate on the link (default off). Delta rounds keep a steady round small (~13 KB an agent at
   * 1,000 nodes), while inflating every agent's messages cost the aggregator 0.8-1.3 s of CPU a 10 s round at
   * 1,000 nodes (BENCHMARKS.md); worth it only on a slow link to the aggregator (`pinger agent --compress`).
   */
  compression?: boolean;
}

export declare interface Link {
  /** `peerSet`: the id of the aggregator's peer set, when it offers one (agent/contract/peer-set.ts). */
  on(e: 'plan', l: (plan: ProbePlan, up: string[] | undefined, peers: PeerSpec[] | undefined, peerSet: string | undefined) => void): this;
  on(e: 'run-now', l: (peers: string[] | undefined, at: number | undefined) => void): this;
  on(e: 'resend', l: (peers: string[]) => void): this;
  on(e: 'udp-key', l: (key: Buffer) => void): this;
  on(e: 'connected', l: () => void): this;
  /** With the close code and reason the link ended with (1006: no close frame, e.g. missed pongs). */
  on(e: 'disconnected', l: (code: number, reason: string) => void): this;
}

/** Results go as binary frames (wire v3: the aggregator reads their ints in place), everything else as JSON text. */
const frameOf = (m: AgentMessage): string | Buffer => (m.type === 'results' ? (encodeResultsFrame(m) ?? encode(m)) : encode(m));

export class Link extends EventEmitter {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  private readonly clockFilter = new ClockFilter();
  private lastCloseWarn = '';

  constructor(private readonly opts: LinkOptions) {
    super();
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Best of the recent samples (clock-filter.ts). */
  get clock(): ClockEstimate | undefined {
    return this.clockFilter.best(Date.now());
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** `written`: called once the message is compressed and handed to the socket (or failed), as ws's send callback. */
  send(msg: AgentMessage, written?: (err?: Error) => void): boolean {
    if (!this.connected) return false;
    this.ws!.send(frameOf(msg), written);
    return true;
  }

  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.beatTimer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((r) => {
      ws.once('close', () => r());
      ws.close(1000, 'agent stopping');
      setTimeout(() => (ws.terminate(), r()), 2000).unref();
    });
  }

  // size: the socket's handlers (open, message, close, error) share this connection's local state
  private connect(): void {
    const { url, ...tls } = wsTarget(this.opts.url, this.opts.ca);
    const ws = new WebSocket(url, {
      headers: { authorization: agentAuthorization(this.opts.node, this.opts.credential) },
      perMessageDeflate: this.opts.compression ?? false,
      handshakeTimeout: 10_000,
      ...tls,
    });
    this.ws = ws;
    let openedAt = 0;
    ws.on('open', () => {
      openedAt = Date.now();
      this.opts.log('info', `connected to ${this.opts.url}`);
      for (const m of this.opts.currentState()) ws.send(frameOf(m));
      this.sendClock();
      clearInterval(this.beatTimer);
      this.beatTimer = setInterval(() => this.beat(), this.opts.heartbeatMs ?? 5000);
      this.emit('connected');
    });
    ws.on('message', (data: Buffer) => {
      const t3 = Date.now();
      const d = decodeServerMessage(data);
      if (!d.ok) return this.opts.log('warn', `ignoring a bad message from the aggregator: ${d.error}`);
      const m = d.msg;
      if (m.type === 'welcome') {
        if (m.udpKey) this.emit('udp-key', Buffer.from(m.udpKey, 'hex'));
        this.emit('plan', m.plan, m.up, undefined, m.peerSet);
      } else if (m.type === 'plan') this.emit('plan', m.plan, undefined, m.peers, m.peerSet);
      else if (m.type === 'run-now') this.emit('run-now', m.peers, m.at);
      else if (m.type === 'resend') this.emit('resend', m.peers);
      else if (m.type === 'clock') {
        // offset = agent clock - aggregator clock, from the four NTP timestamps.
        const rttMs = t3 - m.t0 - (m.t2 - m.t1);
        const offsetMs = -((m.t1 - m.t0 + (m.t2 - t3)) / 2);
        const first = this.clockFilter.add({ offsetMs, rttMs }, t3);
        // The aggregator dates our first rounds with this estimate: tell it now, not at the next heartbeat.
        if (first) this.send({ v: WIRE_VERSION, type: 'heartbeat', node: this.opts.node, at: Date.now(), clock: this.clock! });
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      const why =
        res.statusCode === 401
          ? `the aggregator refused our credential for ${this.opts.node} (401): check --credential-file (or --token-file)`
          : `HTTP ${res.statusCode}`;
      this.warnOnce(`${res.statusCode === 401 ? 'PINGER_ERR_AGENT_REJECTED: ' : ''}cannot connect to ${this.opts.url}: ${why}`);
      ws.terminate();
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      const tlsWhy = tlsVerifyCodes.has(err.code ?? '')
        ? `PINGER_ERR_AGENT_TLS: the aggregator's certificate does not verify against ${this.opts.ca ? '--ca-file' : "the system's CAs"} (${err.code}: ${err.message}): `
        : '';
      this.warnOnce(`${tlsWhy}cannot connect to ${this.opts.url}: ${err.message}`);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      clearInterval(this.beatTimer);
      if (code !== 1006 && code !== 1000) {
        this.warnOnce(`${finalCloseCodes.has(code) ? 'PINGER_ERR_AGENT_REJECTED: ' : ''}aggregator closed the link: ${code} ${reason.toString()}`);
      }
      this.emit('disconnected', code, reason.toString());
      if (this.stopped) return;
      // Backoff starts over only after a link that worked for a while; a link the aggregator closes at
      // once (bad message, refusal) keeps backing off, or a rejected agent would hammer it.
      if (openedAt && Date.now() - openedAt > 10_000 && code < 4000) {
        this.attempt = 0;
        this.lastCloseWarn = '';
      }
      // A final refusal (unknown node, version) will not fix itself soon: retry at the slowest pace.
      const final = finalCloseCodes.has(code);
      this.scheduleRetry(final);
    });
  }

  private scheduleRetry(slow: boolean): void {
    const min = this.opts.minBackoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? 30_000;
    const cap = slow ? max : Math.min(max, min * 2 ** this.attempt++);
    const delay = min / 2 + Math.random() * cap; // full jitter
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private warnOnce(msg: string): void {
    if (msg === this.lastCloseWarn) return;
    this.lastCloseWarn = msg;
    this.opts.log('warn', msg);
  }

  private sendClock(): void {
    if (this.connected) this.ws!.send(JSON.stringify({ v: WIRE_VERSION, type: 'clock', t0: Date.now() }));
  }

  private beat(): void {
    if (this.clockFilter.beat()) this.sendClock();
    const clock = this.clock;
    this.send({ v: WIRE_VERSION, type: 'heartbeat', node: this.opts.node, at: Date.now(), ...(clock ? { clock } : {}) });
  }
}

/** OpenSSL's verification failures, as Node names them: a wrong CA or a certificate for another host. */
const tlsVerifyCodes: ReadonlySet<string> = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The ws URL and TLS options for an aggregator URL. `wss+unix:///PATH:/api/v1/agent` is TLS over a unix
 * socket (the lab's agents in network namespaces): ws knows only `ws+unix:`, so the TLS socket is made here.
 * Over a unix socket the certificate's chain is verified, not its host name: the socket has no host name,
 * and who may open it is decided by the file's permissions.
 */
export function wsTarget(
  url: string,
  ca: Buffer | undefined,
): { url: string; ca?: Buffer; createConnection?: (o: { socketPath?: string }) => import('node:net').Socket } {
  if (url.startsWith('wss+unix:')) {
    return {
      url: `ws+unix:${url.slice('wss+unix:'.length)}`,
      createConnection: (o) => tlsConnect({ path: o.socketPath!, ...(ca ? { ca } : {}), checkServerIdentity: () => undefined }),
    };
  }
  return ca ? { url, ca } : { url };
}

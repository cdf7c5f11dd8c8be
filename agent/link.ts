// The agent's WebSocket link to the aggregator: authenticates with the shared token, reconnects with
// exponential backoff and full jitter (a restarted aggregator must not be hit by every agent at once),
// re-sends its current state on every (re)connect, and keeps an NTP-style clock offset estimate.
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { finalCloseCodes } from '../aggregator/errors.js';
import { decodeServerMessage, encode, WIRE_VERSION, type AgentMessage, type PeerSpec, type ProbePlan } from './wire.js';

export interface LinkOptions {
  url: string;
  token: string;
  node: string;
  /** Messages to send after every (re)connect: the hello first, then the last results. */
  currentState: () => AgentMessage[];
  log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  heartbeatMs?: number;
}

export interface ClockEstimate {
  offsetMs: number;
  rttMs: number;
}

export declare interface Link {
  on(e: 'plan', l: (plan: ProbePlan, up: string[] | undefined, peers?: PeerSpec[]) => void): this;
  on(e: 'run-now', l: (peers: string[] | undefined, at: number | undefined) => void): this;
  on(e: 'connected' | 'disconnected', l: () => void): this;
}

export class Link extends EventEmitter {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  private clockSamples: ClockEstimate[] = [];
  private lastCloseWarn = '';

  constructor(private readonly opts: LinkOptions) {
    super();
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Best of the recent samples: the lowest-RTT exchange has the least asymmetric delay in it. */
  get clock(): ClockEstimate | undefined {
    let best: ClockEstimate | undefined;
    for (const s of this.clockSamples) if (!best || s.rttMs < best.rttMs) best = s;
    return best;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  send(msg: AgentMessage): boolean {
    if (!this.connected) return false;
    this.ws!.send(encode(msg));
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

  private connect(): void {
    const ws = new WebSocket(this.opts.url, {
      headers: { authorization: `Bearer ${this.opts.token}` },
      perMessageDeflate: true,
      handshakeTimeout: 10_000,
    });
    this.ws = ws;
    let openedAt = 0;
    ws.on('open', () => {
      openedAt = Date.now();
      this.opts.log('info', `connected to ${this.opts.url}`);
      for (const m of this.opts.currentState()) ws.send(encode(m));
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
      if (m.type === 'welcome') this.emit('plan', m.plan, m.up);
      else if (m.type === 'plan') this.emit('plan', m.plan, undefined, m.peers);
      else if (m.type === 'run-now') this.emit('run-now', m.peers, m.at);
      else if (m.type === 'clock') {
        // offset = agent clock - aggregator clock, from the four NTP timestamps.
        const rttMs = t3 - m.t0 - (m.t2 - m.t1);
        const offsetMs = -((m.t1 - m.t0 + (m.t2 - t3)) / 2);
        const first = this.clockSamples.length === 0;
        this.clockSamples = [...this.clockSamples.slice(-7), { offsetMs, rttMs: Math.max(0, rttMs) }];
        // The aggregator dates our first rounds with this estimate: tell it now, not at the next heartbeat.
        if (first) this.send({ v: WIRE_VERSION, type: 'heartbeat', node: this.opts.node, at: Date.now(), clock: this.clock! });
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      const why = res.statusCode === 401 ? 'the aggregator refused our token (401): check --token-file' : `HTTP ${res.statusCode}`;
      this.warnOnce(`cannot connect to ${this.opts.url}: ${why}`);
      ws.terminate();
    });
    ws.on('error', (err) => this.warnOnce(`cannot connect to ${this.opts.url}: ${err.message}`));
    ws.on('close', (code: number, reason: Buffer) => {
      clearInterval(this.beatTimer);
      if (code !== 1006 && code !== 1000) this.warnOnce(`aggregator closed the link: ${code} ${reason.toString()}`);
      this.emit('disconnected');
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
    this.sendClock();
    const clock = this.clock;
    this.send({ v: WIRE_VERSION, type: 'heartbeat', node: this.opts.node, at: Date.now(), ...(clock ? { clock } : {}) });
  }
}

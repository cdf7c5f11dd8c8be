// The bandwidth sample's sending end and its scheduler (README "Bandwidth sample"). In its own slot only
// (bandwidth-schedule.ts), a node sends to a few rotating peers' sinks, one after the other, through a token
// bucket at the plan's rate cap, and keeps what each sink measured until the next results message carries it.
import { connect } from 'node:net';
import type { InventoryNode } from './contract/inventory.js';
import type { ProbePlan } from './contract/wire.js';
import { listenSink } from './bandwidth-sink.js';
import { encodeRequest, nextTurnStart, peersFor, rateOfReply, REPLY_BYTES, TokenBucket, turnAt, type BandwidthPlan } from './bandwidth-schedule.js';

const CHUNK = 64 * 1024;
const zeros = Buffer.alloc(CHUNK);

export interface Sample {
  mbps: number;
  ms: number;
}

export interface SendResult {
  sample?: Sample;
  /** Bytes handed to the kernel (the cost: an upper bound of what went on the wire). */
  sentBytes: number;
  error?: string;
}

/** One sample: `seconds` of rate-capped data to a sink, whose count is the measurement. */
export function sendSample(address: string, port: number, p: Pick<BandwidthPlan, 'rateMbps' | 'seconds'>, signal?: AbortSignal): Promise<SendResult> {
  return new Promise((resolve) => {
    const windowMs = Math.round(p.seconds * 1000);
    const bucket = new TokenBucket((p.rateMbps * 1e6) / 8 / 1000, Math.max(CHUNK, (p.rateMbps * 1e6) / 8 / 100), performance.now());
    let sent = 0;
    let reply = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const sock = connect({ host: address, port, noDelay: true });
    const finish = (r: Omit<SendResult, 'sentBytes'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(cap);
      signal?.removeEventListener('abort', onAbort);
      sock.resetAndDestroy();
      resolve({ ...r, sentBytes: sent });
    };
    const onAbort = () => finish({ error: 'aborted' });
    signal?.addEventListener('abort', onAbort);
    // Connect, window and reply: past that the sink is not answering.
    const cap = setTimeout(() => finish({ error: 'timeout' }), windowMs + 5000);
    const pump = () => {
      timer = undefined;
      if (done) return;
      let room = bucket.available(performance.now());
      while (room >= CHUNK) {
        bucket.take(CHUNK);
        room -= CHUNK;
        sent += CHUNK;
        if (!sock.write(zeros)) return void sock.once('drain', pump);
      }
      timer = setTimeout(pump, Math.max(1, bucket.waitFor(CHUNK)));
    };
    sock.on('connect', () => {
      sock.write(encodeRequest(windowMs));
      pump();
    });
    sock.on('data', (d: Buffer) => {
      reply = Buffer.concat([reply, d]);
      if (reply.length > REPLY_BYTES) return finish({ error: 'bad reply' });
      if (reply.length === REPLY_BYTES) {
        const s = rateOfReply(reply, sent);
        finish(s ? { sample: s } : { error: 'bad reply' });
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => finish({ error: e.code ?? 'error' }));
    sock.on('close', () => finish({ error: 'closed' }));
  });
}

export interface SamplerOptions {
  self: InventoryNode;
  nodes: readonly InventoryNode[];
  log: (level: 'info' | 'warn', msg: string) => void;
  now?: () => number;
}

/** The agent's sampler: sinks on its own addresses, samples in its slots, results kept for the next round. */
export class BandwidthSampler {
  private plan: BandwidthPlan | undefined;
  private bindings: string[] = [];
  private sinks = new Map<string, { close(): Promise<void> }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  /** binding -> "peer\0addr" -> the newest sample not yet sent. */
  private pending = new Map<string, Map<string, Sample>>();
  private running = false;
  /** Bytes sent, for the benchmark and the logs. */
  sentBytes = 0;

  constructor(private readonly o: SamplerOptions) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  async apply(plan: ProbePlan): Promise<void> {
    const bw = plan.bandwidth;
    const bindings = bw
      ? Object.entries(plan.bindings)
          .filter(([, b]) => b.bandwidth)
          .map(([b]) => b)
          .sort()
      : [];
    this.plan = bw;
    this.bindings = bindings;
    const want = new Map<string, { address: string; port: number }>();
    if (bw)
      for (const b of bindings)
        for (const address of this.o.self.addresses[b] ?? []) want.set(`${address}/${bw.port}/${bw.seconds}/${bw.rateMbps}`, { address, port: bw.port });
    for (const [k, s] of this.sinks) if (!want.has(k)) this.sinks.delete(k), await s.close();
    for (const [k, w] of want) {
      if (this.sinks.has(k)) continue;
      try {
        this.sinks.set(k, await listenSink({ ...w, maxMs: bw!.seconds * 1000, maxBytes: ((bw!.rateMbps * 1e6) / 8) * bw!.seconds * 2 + 1e6 }));
      } catch (err) {
        this.o.log('warn', `bandwidth sink on ${w.address}:${w.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    this.schedule();
  }

  /** The samples measured since the last call, for binding `b`: "peer\0addr" -> sample. */
  take(b: string): Map<string, Sample> | undefined {
    const m = this.pending.get(b);
    this.pending.delete(b);
    return m;
  }

  private members(b: string): InventoryNode[] {
    return this.o.nodes.filter((n) => (n.addresses[b] ?? []).length).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  }

  private schedule(): void {
    clearTimeout(this.timer);
    const p = this.plan;
    if (!p || !this.bindings.length || this.abort.signal.aborted) return;
    const members = this.members(this.bindings[0]!);
    const i = members.findIndex((n) => n.name === this.o.self.name);
    if (i < 0 || members.length < 2) return;
    const now = this.now();
    const at = nextTurnStart(now, i, members.length, p);
    this.timer = setTimeout(() => void this.turn(), at - now + 5);
    this.timer.unref();
  }

  /** One turn: one binding (they take turns), `peers` samples one after the other, all inside the slot. */
  private async turn(): Promise<void> {
    const p = this.plan;
    if (!p || this.running) return this.schedule();
    this.running = true;
    try {
      const members = this.members(this.bindings[0]!);
      const i = members.findIndex((n) => n.name === this.o.self.name);
      const t = turnAt(this.now(), i, members.length, p);
      if (!t) return;
      const b = this.bindings[t.turn % this.bindings.length]!;
      const on = this.members(b);
      const j = on.findIndex((n) => n.name === this.o.self.name);
      if (j < 0) return;
      const mine = this.o.self.addresses[b] ?? [];
      const v6 = mine[0]?.includes(':') ?? false;
      for (const k of peersFor(j, on.length, Math.floor(t.turn / this.bindings.length), p.peers)) {
        if (this.abort.signal.aborted) return;
        const peer = on[k]!;
        const addrs = peer.addresses[b] ?? [];
        const addr = addrs.find((a) => a.includes(':') === v6) ?? addrs[0];
        if (!addr) continue;
        const r = await sendSample(addr, p.port, p, this.abort.signal);
        this.sentBytes += r.sentBytes;
        if (r.sample) (this.pending.get(b) ?? this.pending.set(b, new Map()).get(b)!).set(`${peer.name}\0${addr}`, r.sample);
        else if (r.error !== 'aborted') this.o.log('warn', `bandwidth sample to ${peer.name} (${addr}:${p.port}) on ${b}: ${r.error}`);
      }
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    const all = [...this.sinks.values()];
    this.sinks.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}

// Message generators for the aggregator fuzz test: crafted messages a broken or hostile agent could send
// (valid but odd: out-of-order rounds, replays, unknown peers, unicode, values at the bounds) and mutations
// of them (bit flips, truncation, type swaps, huge and nested values, invalid UTF-8, binary frames).
// Deterministic for a seed, so a failure can be replayed: PINGER_FUZZ_SEED=<seed>.
import type { ResultsMsg, TargetRow } from '../../agent/contract/wire.js';
import { encodeResultsFrame } from '../../agent/contract/wire-binary.js';
import { packRows } from '../../agent/contract/wire-packed.js';

/** mulberry32: small, fast, good enough to pick mutations; the same seed gives the same run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Frame = string | Buffer | { binary: Buffer };

export class Gen {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = prng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }

  /** Text with the troublesome parts of Unicode: accents, CJK, emoji, RTL marks, NUL, escaped lone surrogates. */
  text(max: number): string {
    const parts = ['a', 'é', 'ü', '節', '🙂', '\u202e', '\u0000', '\ud800', '\udfff', '"', '\\', ' ', 'EADDRINUSE', '\n'];
    let s = '';
    const n = this.int(0, max);
    while (s.length < n) s += this.pick(parts);
    return s.slice(0, max);
  }

  number(): number {
    return this.pick([
      0,
      -0,
      1,
      -1,
      0.5,
      1e-300,
      1e300,
      -1e300,
      Number.MAX_SAFE_INTEGER,
      2 ** 53 + 2,
      Date.now(),
      this.r() * 1e6,
      -this.r() * 1e6,
      65535,
      65536,
      68,
      67,
    ]);
  }

  addr(): string {
    return this.pick([`198.18.${this.int(0, 255)}.${this.int(0, 255)}`, `2001:db8::${this.int(1, 0xffff).toString(16)}`, `127.0.0.${this.int(1, 254)}`, '::1']);
  }
}

export interface FuzzWorld {
  /** The node this connection says hello as (a fuzz node: never a real agent's). */
  node: string;
  /** Every node of the inventory, real and fuzz, and the bindings. */
  nodes: string[];
  bindings: string[];
}

/** At most this many distinct TCP port keys in one results message (the wire allows 256 a table). */
export const PORT_KEYS = 32;

const outcomes = ['ok', 'refused', 'filtered', 'unreachable', 'too-big', 'error', 'not-measured'];

export function hello(g: Gen, w: FuzzWorld, big = false): Record<string, unknown> {
  const n = big ? 4096 : g.int(0, 12);
  return {
    v: 3,
    type: 'hello',
    node: w.node,
    agentVersion: g.text(20),
    hostname: g.text(40),
    icmp: g.pick(['available', 'not-measured']),
    ...(g.chance(0.3) ? { icmpDetail: g.text(500) } : {}),
    interfaces: Array.from({ length: g.int(0, 4) }, () => ({
      binding: g.pick(w.bindings),
      address: g.addr(),
      iface: g.chance(0.2) ? null : g.text(15) || 'lo',
      mtu: g.chance(0.2) ? null : g.pick([68, 1500, 9000, 65536]),
    })),
    responders: Array.from({ length: n }, (_, i) => ({
      binding: g.pick(w.bindings),
      address: g.addr(),
      proto: g.pick(['tcp', 'udp']),
      port: 1 + ((i * 7919 + g.int(0, 65534)) % 65535),
      state: g.pick(['listening', 'in-use', 'denied', 'error']),
      ...(g.chance(0.5) ? { detail: g.text(200) } : {}),
    })),
    ...(g.chance(0.3)
      ? {
          dns: Array.from({ length: g.int(0, 4) }, () => ({
            kind: 'address',
            binding: g.pick(w.bindings),
            query: g.addr(),
            names: [g.text(30)],
            addresses: [g.addr()],
            ok: g.chance(0.5),
          })),
        }
      : {}),
  };
}

/**
 * One row. Its TCP port keys come from `ports`, the message's few (an agent's plan ports): a packed table has
 * one column per distinct key in every row, so keys drawn from all 65,535 ports would make a 5,000-row table
 * rows x thousands of ints (100-200 MB of JSON, a minute of this process's event loop to build, see
 * results()) instead of the large valid message it stands for.
 */
function row(g: Gen, w: FuzzWorld, ports: readonly string[]): Record<string, unknown> {
  const sent = g.int(0, 5);
  return {
    peer: g.chance(0.8) ? g.pick(w.nodes) : g.chance(0.5) ? 'ghost' : g.text(30) || 'x',
    addr: g.addr(),
    ...(g.chance(0.8)
      ? { icmp: { sent, recv: g.int(0, 6), rtt: g.chance(0.3) ? null : [g.r(), g.r(), g.r() * 10, g.r(), g.r() * 1e6], outcome: g.pick(outcomes) } }
      : {}),
    ...(g.chance(0.6) ? { tcp: Object.fromEntries(Array.from({ length: g.int(0, 5) }, () => [g.pick(ports), g.pick(outcomes)])) } : {}),
    ...(g.chance(0.2) ? { udp: { '6081': g.pick(outcomes) } } : {}),
    ...(g.chance(0.2) ? { mtu: { size: g.int(68, 65535), outcome: g.pick(outcomes) } } : {}),
  };
}

/**
 * A results message. With `rows` (5,000: what an agent sends a message) it stays a large message within the
 * wire's bounds (0.3-0.9 MB of 2 MiB, at most 32 of 256 port keys), as before wire v2: the aggregator's big-table path,
 * not a frame ws cuts off (the `oversize` mutation does that).
 */
export function results(g: Gen, w: FuzzWorld, round: number, rows?: number): Record<string, unknown> {
  const bindings: Record<string, unknown> = {};
  const nb = g.int(0, 2);
  const ports = Array.from({ length: g.int(1, PORT_KEYS) }, () => String(g.int(1, 65535)));
  for (let i = 0; i < nb; i++) {
    const b = g.chance(0.8) ? g.pick(w.bindings) : g.chance(0.5) ? 'not-a-binding' : g.text(20) || 'b';
    // Packed as the agent packs them (wire v2); rows toward ghosts and out-of-range values stay in.
    bindings[b] = packRows(Array.from({ length: rows ?? g.int(0, 6) }, () => row(g, w, ports)) as unknown as TargetRow[]);
  }
  const catchUp = g.chance(0.2);
  return {
    v: 3,
    type: 'results',
    node: w.node,
    round,
    durationMs: g.pick([0, g.r() * 5000, 86_400_000]),
    ...(g.chance(0.7) ? { startedAt: g.pick([Date.now(), Date.now() + 1e9, 0, -1e12]) } : {}),
    final: g.chance(0.7),
    ...(catchUp ? { catchUp: true, ...(g.chance(0.5) ? { requestedAt: g.pick([Date.now(), Date.now() + 1e9, 0]) } : {}) } : {}),
    bindings,
  };
}

export function heartbeat(g: Gen, w: FuzzWorld): Record<string, unknown> {
  return { v: 3, type: 'heartbeat', node: w.node, at: g.number(), ...(g.chance(0.5) ? { clock: { offsetMs: g.number(), rttMs: Math.abs(g.number()) } } : {}) };
}

export const clock = (g: Gen) => ({ v: 3, type: 'clock', t0: g.number() });

/** A valid message in a session after the hello: the state must take it (or ignore it) without harm. */
export class Session {
  private round: number;
  private readonly sent: string[] = [];
  constructor(
    private readonly g: Gen,
    private readonly w: FuzzWorld,
  ) {
    this.round = g.int(0, 1000);
  }

  crafted(): string {
    const g = this.g;
    const k = g.r();
    let m: Record<string, unknown>;
    if (k < 0.05 && this.sent.length) return g.pick(this.sent); // replay
    if (k < 0.55) {
      // Rounds out of order, repeated, far ahead.
      this.round = g.pick([Math.min(this.round + 1, Number.MAX_SAFE_INTEGER), Math.max(0, this.round - g.int(1, 5)), this.round, Number.MAX_SAFE_INTEGER, 0]);
      m = results(g, this.w, this.round, g.chance(0.0005) ? 5000 : undefined);
    } else if (k < 0.85) m = heartbeat(g, this.w);
    else if (k < 0.95) m = clock(g);
    else m = hello(g, this.w, g.chance(0.005));
    const s = JSON.stringify(m);
    if (this.sent.length < 20) this.sent.push(s);
    return s;
  }
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

/** Replaces one value somewhere in the message (chosen by walking down at random) with `make(old)`. */
function swapSomewhere(g: Gen, msg: unknown, make: (old: unknown) => unknown): unknown {
  if (msg === null || typeof msg !== 'object') return make(msg);
  const keys = Array.isArray(msg) ? msg.map((_, i) => i) : Object.keys(msg);
  if (keys.length === 0 || g.chance(0.25)) return make(msg);
  const k = g.pick(keys as (string | number)[]);
  const copy = (Array.isArray(msg) ? [...msg] : { ...(msg as Record<string, unknown>) }) as Record<string | number, unknown>;
  copy[k] = swapSomewhere(g, copy[k], make);
  return copy;
}

export type Mutation =
  | 'bitflip'
  | 'truncate'
  | 'typeswap'
  | 'huge'
  | 'nested'
  | 'unicode'
  | 'badutf8'
  | 'binary'
  | 'mismatch'
  | 'version'
  | 'unknown-node'
  | 'oversize';

/** A mutated or hostile frame built from a valid message. `oversize` frames are 16 MiB+: the caller rations them. */
export function mutate(g: Gen, w: FuzzWorld, valid: string, kind: Mutation): Frame {
  switch (kind) {
    case 'bitflip': {
      const b = Buffer.from(valid);
      for (let i = g.int(1, 8); i > 0; i--) b[g.int(0, b.length - 1)]! ^= 1 << g.int(0, 7);
      return b; // sent as a text frame: may not be UTF-8 any more
    }
    case 'truncate':
      return valid.slice(0, g.int(0, valid.length - 1));
    case 'typeswap':
      return JSON.stringify(
        swapSomewhere(g, JSON.parse(valid), () => g.pick<unknown>(['', 'x', 0, -1, 1.5, true, null, [], {}, [1, [2]], { a: { b: 1 } }, g.text(10)])),
      );
    case 'huge':
      return JSON.stringify(
        swapSomewhere(g, JSON.parse(valid), () =>
          g.pick<() => unknown>([
            () => 'x'.repeat(g.int(10_000, 2_000_000)),
            () => Array.from({ length: g.int(5_000, 70_000) }, () => 0),
            () => 1e308 * 10,
            () => Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i])),
          ])(),
        ),
      ).replace('null', g.pick(['1e400', '-1e400', 'null'])); // JSON.stringify writes Infinity as null; the wire may not
    case 'nested': {
      const n = g.chance(0.05) ? 100_000 : g.int(11, 300);
      return valid.replace(/:(\d+|true|false|null|"[^"]*")/, `:${deep(n)}`);
    }
    case 'unicode':
      return JSON.stringify(swapSomewhere(g, JSON.parse(valid), () => g.text(g.int(1, 300))));
    case 'badutf8': {
      const b = Buffer.from(valid);
      b[g.int(0, b.length - 1)] = g.pick([0xff, 0xc0, 0xed, 0xf8, 0x80]);
      return b;
    }
    case 'binary': {
      // Wire v3's results frame with flipped bits or cut short (head length, refs, body ints), else text or noise as binary.
      const m = JSON.parse(valid) as ResultsMsg;
      const f = m.type === 'results' && g.chance(0.7) ? encodeResultsFrame(m) : undefined;
      if (f) {
        for (let i = g.int(0, 6); i > 0; i--) f[g.int(0, f.length - 1)]! ^= 1 << g.int(0, 7);
        return { binary: g.chance(0.3) ? f.subarray(0, g.int(0, f.length)) : f };
      }
      return { binary: g.chance(0.5) ? Buffer.from(valid) : Buffer.from(Array.from({ length: g.int(0, 64) }, () => g.int(0, 255))) };
    }
    case 'mismatch': {
      // A hello, results or heartbeat for another node, real agents' included: the connection's credential
      // is w.node's, so each is refused (4403) and the real agent stays connected.
      const m = JSON.parse(valid) as Record<string, unknown>;
      return JSON.stringify({ ...(m.type === 'clock' ? heartbeat(g, w) : m), node: g.pick(w.nodes.filter((n) => n !== w.node)) });
    }
    case 'version':
      return JSON.stringify({ ...(JSON.parse(valid) as object), v: g.pick<unknown>([0, 1, 2, 4, '3', null, 'é'.repeat(60), [3], 3.5]) });
    case 'unknown-node':
      return JSON.stringify({ ...hello(g, w), node: g.pick(['ghost', g.text(200) || 'x', 'node-1 ', 'NODE-1']) });
    case 'oversize':
      return `{"v":3,"type":"results","pad":"${'x'.repeat(3 * 1024 * 1024)}"}`;
  }
}

export const mutations: readonly Mutation[] = [
  'bitflip',
  'truncate',
  'typeswap',
  'huge',
  'nested',
  'unicode',
  'badutf8',
  'binary',
  'mismatch',
  'version',
  'unknown-node',
];

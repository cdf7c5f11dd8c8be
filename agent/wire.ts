// The wire protocol between agents and the aggregator: versioned JSON messages over one WebSocket.
// One zod schema per message gives both the TypeScript types and the runtime validation, so the two
// can never drift. Pure: no sockets here (the codec is tested table-driven).
import { isIP } from 'node:net';
import { z } from 'zod';
import { outcomes } from './probes/probe.js';

export const WIRE_VERSION = 1;
/** Path agents connect to; the aggregator serves it. */
export const AGENT_WS_PATH = '/api/v1/agent';
/** A results message above this size is refused (a 1,000-node round is ~1 MB; see README). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const name = z.string().min(1).max(253);
const ip = z.string().refine((s) => isIP(s) !== 0, { error: (i) => `${JSON.stringify(i.input)} is not an IP address` });
const port = z.number().int().min(1).max(65535);
const outcome = z.enum(outcomes);
const ms = z.number().finite().min(0);
/** Per-port outcome, keyed by the port number as a string (JSON object keys). */
const portOutcomes = z.record(z.string().regex(/^[1-9][0-9]{0,4}$/, 'must be a port number'), outcome);

export const icmpSummary = z.strictObject({
  sent: z.number().int().min(0),
  recv: z.number().int().min(0),
  /** [min, avg, max, p50, p99] in ms; null when nothing came back. */
  rtt: z.tuple([ms, ms, ms, ms, ms]).nullable(),
  /** 'ok' when every echo came back, else the most frequent failure ('not-measured' without CAP_NET_RAW). */
  outcome,
});

/** One peer address probed in one round: the compact per-round summary (never one message per probe). */
export const targetRow = z.strictObject({
  peer: name,
  addr: ip,
  icmp: icmpSummary.optional(),
  tcp: portOutcomes.optional(),
  udp: portOutcomes.optional(),
  /** Path MTU check: DF echo of the binding's required size. */
  mtu: z.strictObject({ size: z.number().int().min(68).max(65535), outcome }).optional(),
});

export const interfaceInfo = z.strictObject({
  binding: name,
  address: ip,
  /** null when no local interface holds the address (misconfiguration the aggregator reports). */
  iface: z.string().nullable(),
  // lo has 65536; jumbo frames stop at 9216 on most NICs, but the kernel allows more.
  mtu: z.number().int().min(68).max(1 << 20).nullable(),
});

export const responderInfo = z.strictObject({
  binding: name,
  address: ip,
  proto: z.enum(['tcp', 'udp']),
  port,
  state: z.enum(['listening', 'in-use', 'denied', 'error']),
  detail: z.string().optional(),
});

/**
 * One DNS consistency check made by the agent. 'address': the reverse (PTR) names of a binding address, and
 * whether each name resolves forward to that address; 'hostname': the node's hostname resolved forward,
 * and whether each address reverses to the hostname. ok is false when they disagree or a lookup failed.
 */
export const dnsCheck = z.strictObject({
  kind: z.enum(['address', 'hostname']),
  binding: name.optional(),
  query: z.string().max(253),
  names: z.array(z.string().max(253)).max(32),
  addresses: z.array(ip).max(64),
  ok: z.boolean(),
  detail: z.string().max(500).optional(),
});

export const helloMsg = z.strictObject({
  v: z.literal(WIRE_VERSION),
  type: z.literal('hello'),
  node: name,
  agentVersion: z.string().max(64),
  hostname: z.string().max(253),
  icmp: z.enum(['available', 'not-measured']),
  icmpDetail: z.string().max(500).optional(),
  interfaces: z.array(interfaceInfo).max(1024),
  responders: z.array(responderInfo).max(65536),
  /** Forward/reverse DNS checks (optional: older agents and agents still looking up send none). */
  dns: z.array(dnsCheck).max(1024).optional(),
});

export const resultsMsg = z.strictObject({
  v: z.literal(WIRE_VERSION),
  type: z.literal('results'),
  node: name,
  round: z.number().int().min(0),
  /** How long the round took on the agent (the aggregator dates the round with it, in its own clock). */
  durationMs: ms,
  /**
   * When the round began, agent clock (ms since the epoch). With the clock offset the aggregator dates the
   * round exactly even when the message waited in a busy agent or aggregator (receive time - duration does not).
   */
  startedAt: z.number().finite().optional(),
  /** A large round may be split into several messages; the last one says final. */
  final: z.boolean(),
  /**
   * A catch-up, not a round: rows for the peers a targeted run-now named (they just came up). It updates their
   * cells only; the node's round count and round time stay those of its last full round.
   */
  catchUp: z.boolean().optional(),
  /**
   * A catch-up's answer to run-now messages: the latest `at` among those it covers (aggregator clock). Its
   * probes began after that, whatever the clock offset estimate says (rough while an agent is starved).
   */
  requestedAt: z.number().finite().optional(),
  bindings: z.record(name, z.array(targetRow).max(200_000)),
});

export const heartbeatMsg = z.strictObject({
  v: z.literal(WIRE_VERSION),
  type: z.literal('heartbeat'),
  node: name,
  /** Agent clock, ms since epoch. */
  at: z.number(),
  /** NTP-style estimate of (agent clock - aggregator clock) from the last clock exchange. */
  clock: z.strictObject({ offsetMs: z.number().finite(), rttMs: ms }).optional(),
});

/** Clock exchange, agent side: t0 = agent send time. */
export const clockReqMsg = z.strictObject({ v: z.literal(WIRE_VERSION), type: z.literal('clock'), t0: z.number() });

export const agentMessage = z.discriminatedUnion('type', [helloMsg, resultsMsg, heartbeatMsg, clockReqMsg]);

/** What an agent probes: sent by the aggregator (it owns the profile), so every agent probes alike. */
export const probePlan = z.strictObject({
  profile: z.string(),
  intervalMs: z.number().int().min(100),
  timeoutMs: z.number().int().min(10),
  /** ICMP echoes per target per round. */
  icmpCount: z.number().int().min(0).max(100),
  bindings: z.record(
    name,
    z.strictObject({
      tcp: z.array(port),
      udp: z.array(port),
      /** Required path MTU: DF echo of MTU-28 (IPv4) / MTU-48 (IPv6) bytes. */
      mtu: z.number().int().min(1280).max(65535).optional(),
    }),
  ),
  /** The profile checks forward/reverse DNS: the agent looks up its addresses and hostname (sent only when true). */
  dns: z.boolean().optional(),
});

export const welcomeMsg = z.strictObject({
  v: z.literal(WIRE_VERSION),
  type: z.literal('welcome'),
  plan: probePlan,
  serverTime: z.number(),
  /**
   * The nodes whose agents are up (responders open) at this moment. A freshly started agent's first round
   * probes only them: the others are probed when they come up (a run-now names them), and anything measured
   * toward them before would not count anyway. A fleet that starts together then probes each pair about once.
   */
  up: z.array(name).max(100_000).optional(),
});
/**
 * A node of the peer set as the aggregator's inventory has it (live inventory). Bounded: 64 bindings of
 * 64 addresses each is far past any Juju deployment (a binding has one or two addresses per node).
 */
export const peerSpec = z.strictObject({
  name,
  hostname: z.string().max(253).optional(),
  addresses: z.record(name, z.array(ip).min(1).max(64)).refine((a) => Object.keys(a).length <= 64, 'at most 64 bindings per node'),
});
/**
 * A new plan, sent on a profile or inventory reload. With `peers` (live inventory): the whole peer set,
 * which replaces the agent's own inventory, so an agent never restarts for a peer change.
 */
export const planMsg = z.strictObject({ v: z.literal(WIRE_VERSION), type: z.literal('plan'), plan: probePlan, peers: z.array(peerSpec).max(10_000).optional() });
/**
 * Probe now instead of waiting out the interval. With `peers`: only those nodes (they just came up or re-announced
 * their responders), answered by a catch-up results message; without: a full round.
 */
export const runNowMsg = z.strictObject({
  v: z.literal(WIRE_VERSION),
  type: z.literal('run-now'),
  peers: z.array(name).max(100_000).optional(),
  /** When it was asked (aggregator clock): the catch-up sends it back as `requestedAt`. */
  at: z.number().finite().optional(),
});
/** Clock exchange, aggregator side: t1 = receive time, t2 = send time (aggregator clock). */
export const clockReplyMsg = z.strictObject({
  v: z.literal(WIRE_VERSION),
  type: z.literal('clock'),
  t0: z.number(),
  t1: z.number(),
  t2: z.number(),
});
export const serverMessage = z.discriminatedUnion('type', [welcomeMsg, planMsg, runNowMsg, clockReplyMsg]);

export type TargetRow = z.infer<typeof targetRow>;
export type IcmpSummary = z.infer<typeof icmpSummary>;
export type InterfaceInfo = z.infer<typeof interfaceInfo>;
export type ResponderInfo = z.infer<typeof responderInfo>;
export type DnsCheck = z.infer<typeof dnsCheck>;
export type HelloMsg = z.infer<typeof helloMsg>;
export type ResultsMsg = z.infer<typeof resultsMsg>;
export type HeartbeatMsg = z.infer<typeof heartbeatMsg>;
export type AgentMessage = z.infer<typeof agentMessage>;
export type ProbePlan = z.infer<typeof probePlan>;
export type PeerSpec = z.infer<typeof peerSpec>;
export type ServerMessage = z.infer<typeof serverMessage>;

export type Decoded<T> = { ok: true; msg: T } | { ok: false; error: string };

// --- Fast path for results rows -------------------------------------------------------------------------
// A 1,000-node round is 6M rows; zod took ~5 us a row here (30 s of one core a round). `rowAccepted` accepts
// exactly what `targetRow` accepts (test/unit/wire-fast.test.ts checks them against each other on valid and
// mutated rows); on any doubt the row goes through zod, which also writes the error message. The schema
// above stays the one source of the types and of the rules.
const outcomeSet: ReadonlySet<unknown> = new Set(outcomes);
const portKey = /^[1-9][0-9]{0,4}$/;
const isPlain = (o: unknown): o is Record<string, unknown> => typeof o === 'object' && o !== null && !Array.isArray(o);
const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isMs = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function portsAccepted(o: unknown): boolean {
  if (!isPlain(o)) return false;
  for (const k in o) if (!portKey.test(k) || !outcomeSet.has(o[k])) return false;
  return true;
}

function icmpAccepted(o: unknown): boolean {
  if (!isPlain(o)) return false;
  let n = 0;
  for (const k in o) {
    n++;
    if (k !== 'sent' && k !== 'recv' && k !== 'rtt' && k !== 'outcome') return false;
  }
  if (n !== 4 || !isCount(o.sent) || !isCount(o.recv) || !outcomeSet.has(o.outcome)) return false;
  const rtt = o.rtt;
  if (rtt === null) return true;
  return Array.isArray(rtt) && rtt.length === 5 && rtt.every(isMs);
}

export function rowAccepted(r: unknown): boolean {
  if (!isPlain(r)) return false;
  for (const k in r) {
    const v = r[k];
    switch (k) {
      case 'peer':
        if (typeof v !== 'string' || v.length < 1 || v.length > 253) return false;
        break;
      case 'addr':
        if (typeof v !== 'string' || isIP(v) === 0) return false;
        break;
      case 'icmp':
        if (!icmpAccepted(v)) return false;
        break;
      case 'tcp':
      case 'udp':
        if (!portsAccepted(v)) return false;
        break;
      case 'mtu': {
        if (!isPlain(v)) return false;
        let n = 0;
        for (const mk in v) {
          n++;
          if (mk !== 'size' && mk !== 'outcome') return false;
        }
        const size = v.size;
        if (n !== 2 || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 68 || size > 65535 || !outcomeSet.has(v.outcome)) return false;
        break;
      }
      default:
        return false;
    }
  }
  return 'peer' in r && 'addr' in r;
}

const resultsEnvelope = resultsMsg.extend({ bindings: z.record(name, z.array(z.unknown()).max(200_000)) });

/** Results through the fast row check; anything it does not accept is judged (and explained) by zod. */
function checkResults(raw: unknown): ReturnType<typeof agentMessage.safeParse> | undefined {
  const env = resultsEnvelope.safeParse(raw);
  if (!env.success) return undefined;
  for (const rows of Object.values(env.data.bindings)) for (const row of rows) if (!rowAccepted(row)) return undefined;
  return { success: true, data: env.data as ResultsMsg } as ReturnType<typeof agentMessage.safeParse>;
}

function decodeWith<T>(schema: z.ZodType<T>, data: string | Buffer): Decoded<T> {
  const len = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (len > MAX_MESSAGE_BYTES) return { ok: false, error: `message of ${len} bytes exceeds ${MAX_MESSAGE_BYTES}` };
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString());
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  if (typeof raw === 'object' && raw !== null && 'v' in raw && raw.v !== WIRE_VERSION) {
    return { ok: false, error: `unsupported wire version ${JSON.stringify(raw.v)} (this side speaks ${WIRE_VERSION})` };
  }
  const fast = schema === (agentMessage as unknown) && isPlain(raw) && raw.type === 'results' ? checkResults(raw) : undefined;
  const r = (fast as z.ZodSafeParseResult<T> | undefined) ?? schema.safeParse(raw);
  if (r.success) return { ok: true, msg: r.data };
  const first = r.error.issues.slice(0, 3).map((i) => {
    // A bad record key carries its own reason one level down; say that rather than "Invalid key".
    const msg = i.code === 'invalid_key' && i.issues[0] ? `${JSON.stringify(i.path.at(-1))} ${i.issues[0].message}` : i.message;
    return `${i.path.join('.') || '(message)'}: ${msg}`;
  });
  return { ok: false, error: first.join('; ') };
}

export const decodeAgentMessage = (data: string | Buffer) => decodeWith(agentMessage, data);
export const decodeServerMessage = (data: string | Buffer) => decodeWith(serverMessage, data);
export const encode = (msg: AgentMessage | ServerMessage): string => JSON.stringify(msg);

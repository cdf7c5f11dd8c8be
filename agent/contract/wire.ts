// The wire protocol between agents and the aggregator: versioned JSON messages over one WebSocket.
// One zod schema per message gives both the TypeScript types and the runtime validation, so the two
// can never drift. Pure: no sockets here (the codec is tested table-driven).
import { z } from 'zod';
import { outcomes } from './probe.js';
import { ifaceMtu, linkFact, lldpState } from './link-wire.js';
import { linkFactOk } from './link-check.js';
import { packedProblem, type PackedRows } from './wire-packed.js';
import { peerSetIdPattern } from './peer-set.js';
import { TALLY_LENGTH, tallyProblem } from './tally.js';
import { isPlain, limits, nestedDeeperThan } from './wire-limits.js';
import { WIRE_VERSION } from './version.js';
import { decodeWith, type DecodeOptions } from './wire-decode.js';
import { bounded, boundedInts, boundedRecord, checkedArray, strings } from './wire-bounds.js';
import { listeningGroups } from './listening.js';
import { ip, ipOk, name, nameOk, port, portOk } from './wire-fields.js';

export { nestedDeeperThan };
export { WIRE_VERSION } from './version.js';
export { quote } from './wire-limits.js';
export { MAX_MESSAGE_BYTES, parseBounded, validateParsed, versionMismatch, type DecodeFailure, type DecodeOptions, type Decoded } from './wire-decode.js';

/** Path agents connect to; the aggregator serves it. */
export const AGENT_WS_PATH = '/api/v1/agent';

export { limits } from './wire-limits.js';

const outcome = z.enum(outcomes);
const ms = z.number().finite().min(0);
/** Per-port outcome, keyed by the port number as a string (JSON object keys). */
const portOutcomes = boundedRecord(z.string().regex(/^[1-9][0-9]{0,4}$/, 'must be a port number'), outcome, limits.portsPerRow, 'ports');

export const icmpSummary = z.strictObject({
  sent: z.number().int().min(0),
  recv: z.number().int().min(0),
  /** [min, avg, max, p50, p99] in ms; null when nothing came back. */
  rtt: z.tuple([ms, ms, ms, ms, ms]).nullable(),
  /** 'ok' when every echo came back, else the most frequent failure ('not-measured' without CAP_NET_RAW). */
  outcome,
});

/**
 * One peer address probed in one round: the compact per-round summary (never one message per probe). On the
 * wire since v2 as a row of a packed table (./wire-packed.ts); the schema stays the definition of a row.
 */
export const targetRow = z.strictObject({
  peer: name,
  addr: ip,
  icmp: icmpSummary.optional(),
  tcp: portOutcomes.optional(),
  udp: portOutcomes.optional(),
  /** Path MTU check: DF echo of the binding's required size. */
  mtu: z.strictObject({ size: z.number().int().min(68).max(65535), outcome }).optional(),
  /** A bandwidth sample to this address, when one was measured since the last round (Mb/s, window ms). */
  bandwidth: z.strictObject({ mbps: z.number().finite().min(0).max(limits.bandwidthMbps), ms: z.number().int().min(0).max(limits.bandwidthMs) }).optional(),
});

/**
 * One binding's rows of a results message (wire v2+): zod bounds the arrays; packedProblem checks every int, from
 * the message (resultsMsg), which knows whether the tables index a peer set.
 */
export const packedTable = z.strictObject({
  peers: strings(limits.rowsPerBinding, 1, 253),
  addrs: strings(limits.rowsPerBinding, 1, 45),
  tcp: strings(limits.portsPerRow, 1, 5),
  udp: strings(limits.portsPerRow, 1, 5),
  rows: boundedInts(limits.rowsPerBinding * (12 + 2 * limits.portsPerRow)),
  bw: bounded(3 * limits.rowsPerBinding, 'ints').optional(),
  same: bounded(limits.rowsPerBinding, 'peers').optional(),
  tally: bounded(TALLY_LENGTH, 'ints').optional(),
});

export const interfaceInfo = z.strictObject({
  binding: name,
  address: ip,
  /** null when no local interface holds the address (misconfiguration the aggregator reports). */
  iface: z.string().max(64).nullable(),
  mtu: ifaceMtu,
  /**
   * The interface's link (administratively up and carrier/operstate up). For an address no interface holds:
   * the link of the interface that last held it, when the agent knows it (an admin-down link drops its IPv6
   * addresses: the cause is the link, not a removed address). Optional: older agents do not send it.
   */
  link: z.enum(['up', 'down']).optional(),
});

const interfaceKeys = new Set(Object.keys(interfaceInfo.shape));
/** interfaceInfo in a plain loop (never wider), as responderOk: zod parses a hello's interfaces only to word a refusal. */
export function interfaceOk(x: unknown): boolean {
  if (!isPlain(x)) return false;
  for (const k in x) if (!interfaceKeys.has(k)) return false;
  const { iface, mtu, link } = x;
  return (
    nameOk(x.binding) &&
    ipOk(x.address) &&
    (iface === null || (typeof iface === 'string' && iface.length <= 64)) &&
    (mtu === null || (Number.isSafeInteger(mtu) && (mtu as number) >= 68 && (mtu as number) <= 1 << 20)) &&
    (link === undefined ? !('link' in x) : link === 'up' || link === 'down')
  );
}
const optionalText = (x: Record<string, unknown>, k: string, max: number) =>
  x[k] === undefined ? !(k in x) : typeof x[k] === 'string' && (x[k] as string).length <= max;

export const responderInfo = z.strictObject({
  binding: name,
  address: ip,
  proto: z.enum(['tcp', 'udp']),
  port,
  state: z.enum(['listening', 'in-use', 'denied', 'error']),
  detail: z.string().max(limits.responderDetailChars).optional(),
});
const responderKeys = new Set(Object.keys(responderInfo.shape));
const responderProtos = new Set<unknown>(responderInfo.shape.proto.options);
const responderStates = new Set<unknown>(responderInfo.shape.state.options);
/** responderInfo in a plain loop (never wider): what a hello's ~120 responders are checked with (wire-bounds.ts). */
export function responderOk(x: unknown): boolean {
  if (!isPlain(x)) return false;
  for (const k in x) if (!responderKeys.has(k)) return false;
  return (
    nameOk(x.binding) &&
    ipOk(x.address) &&
    responderProtos.has(x.proto) &&
    portOk(x.port) &&
    responderStates.has(x.state) &&
    optionalText(x, 'detail', limits.responderDetailChars)
  );
}

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
  detail: z.string().max(limits.detailChars).optional(),
});

const dnsKeys = new Set(Object.keys(dnsCheck.shape));
const dnsKinds = new Set<unknown>(dnsCheck.shape.kind.options);
/** dnsCheck in a plain loop (never wider), as responderOk. */
export function dnsCheckOk(x: unknown): boolean {
  if (!isPlain(x)) return false;
  for (const k in x) if (!dnsKeys.has(k)) return false;
  const { names, addresses } = x;
  return (
    dnsKinds.has(x.kind) &&
    (x.binding === undefined ? !('binding' in x) : nameOk(x.binding)) &&
    typeof x.query === 'string' &&
    x.query.length <= 253 &&
    Array.isArray(names) &&
    names.length <= 32 &&
    names.every((n) => typeof n === 'string' && n.length <= 253) &&
    Array.isArray(addresses) &&
    addresses.length <= 64 &&
    addresses.every(ipOk) &&
    typeof x.ok === 'boolean' &&
    optionalText(x, 'detail', limits.detailChars)
  );
}

export const helloMsg = z.strictObject({
  v: z.literal(WIRE_VERSION),
  type: z.literal('hello'),
  node: name,
  agentVersion: z.string().max(64),
  hostname: z.string().max(253),
  icmp: z.enum(['available', 'not-measured']),
  icmpDetail: z.string().max(limits.detailChars).optional(),
  interfaces: checkedArray(interfaceInfo, limits.interfaces, interfaceOk),
  /** Responders that could not listen (an older agent lists the listening ones here too). */
  responders: checkedArray(responderInfo, limits.responders, responderOk),
  /** The listening ones, grouped by address (./listening.ts). */
  listening: listeningGroups.optional(),
  /** Forward/reverse DNS checks (optional: older agents and agents still looking up send none). */
  dns: checkedArray(dnsCheck, limits.dnsChecks, dnsCheckOk).optional(),
  /** Link facts per binding interface (speed, bond/LACP, LLDP neighbours: ./link-wire.ts). */
  links: checkedArray(linkFact, 64, linkFactOk).optional(),
  /** Whether LLDP could be read (lldpd running); absent from older agents. */
  lldp: lldpState.optional(),
});

export const resultsMsg = z
  .strictObject({
    v: z.literal(WIRE_VERSION),
    type: z.literal('results'),
    node: name,
    round: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** How long the round took on the agent (the aggregator dates the round with it, in its own clock). A day at most. */
    durationMs: ms.max(86_400_000),
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
    /**
     * The tables name peers and addresses by index into this peer set (./peer-set.ts), which the aggregator
     * offered in its welcome or plan on this connection; their own peers and addrs are empty.
     */
    peerSet: z.string().regex(peerSetIdPattern).optional(),
    bindings: boundedRecord(name, packedTable, limits.resultBindings, 'bindings'),
  })
  .superRefine((m, ctx) => {
    for (const b in m.bindings) {
      const p = m.bindings[b]!;
      const why = packedProblem(p as PackedRows, m.peerSet !== undefined) ?? (p.tally ? tallyProblem(p.tally, limits.rowsPerBinding) : undefined);
      if (why) ctx.addIssue({ code: 'custom', message: why, path: ['bindings', b] });
    }
  });

export const heartbeatMsg = z.strictObject({
  v: z.literal(WIRE_VERSION),
  type: z.literal('heartbeat'),
  node: name,
  /** Agent clock, ms since epoch. */
  at: z.number().finite(),
  /** NTP-style estimate of (agent clock - aggregator clock) from the last clock exchange. */
  clock: z.strictObject({ offsetMs: z.number().finite(), rttMs: ms }).optional(),
});

/** Clock exchange, agent side: t0 = agent send time. */
export const clockReqMsg = z.strictObject({ v: z.literal(WIRE_VERSION), type: z.literal('clock'), t0: z.number().finite() });

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
      /** Bandwidth samples on this binding (the profile has a bandwidth condition on it). */
      bandwidth: z.boolean().optional(),
    }),
  ),
  /** How bandwidth is sampled (agent/bandwidth-schedule.ts); present when some binding samples it. */
  bandwidth: z
    .strictObject({
      port,
      rateMbps: z.number().finite().min(1).max(100_000),
      seconds: z.number().finite().min(0.2).max(10),
      peers: z.number().int().min(1).max(8),
      concurrent: z.number().int().min(1).max(64),
    })
    .optional(),
  /** The profile checks forward/reverse DNS: the agent looks up its addresses and hostname (sent only when true). */
  dns: z.boolean().optional(),
  /**
   * Pinglist (large fleets): each round probes a rotating window of `perRound` peers per binding
   * (agent/pinglist.ts), so every pair is covered within ceil((N - 1) / perRound) rounds. Absent: every peer.
   */
  pinglist: z.strictObject({ perRound: z.number().int().min(1).max(10_000) }).optional(),
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
  /**
   * The UDP echo key (hex), derived by the aggregator from the cluster secret: agents hold only their own
   * node credential, so they cannot derive it themselves.
   */
  udpKey: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** The aggregator's peer set: an agent whose own has this id may name peers by index (./peer-set.ts). */
  peerSet: z.string().regex(peerSetIdPattern).optional(),
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
export const planMsg = z.strictObject({
  v: z.literal(WIRE_VERSION),
  type: z.literal('plan'),
  plan: probePlan,
  peers: z.array(peerSpec).max(10_000).optional(),
  /** The id of the aggregator's peer set from now on (see welcome). */
  peerSet: z.string().regex(peerSetIdPattern).optional(),
});
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
/**
 * Delta rounds: the aggregator holds no current result for these peers (it restarted, the peer came up again,
 * it set rows aside), so the agent's next rows toward them go whole, never as unchanged.
 */
export const resendMsg = z.strictObject({
  v: z.literal(WIRE_VERSION),
  type: z.literal('resend'),
  peers: z.array(name).max(100_000),
});
export const serverMessage = z.discriminatedUnion('type', [welcomeMsg, planMsg, runNowMsg, clockReplyMsg, resendMsg]);

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

export const decodeAgentMessage = (data: string | Buffer, opts?: DecodeOptions) => decodeWith(agentMessage, data, opts);
export const decodeServerMessage = (data: string | Buffer) => decodeWith(serverMessage, data, {}, 'aggregator');
export const encode = (msg: AgentMessage | ServerMessage): string => JSON.stringify(msg);

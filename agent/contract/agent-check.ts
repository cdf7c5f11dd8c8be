// What an agent sends (./wire.ts's agentMessage) checked in plain loops (pure): never wider than the schemas,
// which then parse only to word a refusal. A 1,000-node fleet sends ~8,000 text messages (two hellos, clock
// requests, heartbeats) and 1,000 results messages while it starts, then ~5,000 a round: zod's walk of each (a
// copy of every object, a preprocess and a pipe per record) cost more than the packed tables' own int check
// (BENCHMARKS.md "AFTER 10"). The aggregator decodes with decodeFromAgent; wire.ts's decodeAgentMessage is
// the schema's own decoder, which the tests hold this one to.
import { decodeWith, parseBounded, validateParsed, type DecodeOptions, type Decoded } from './wire-decode.js';
import { keysOf, list, nameOk, onlyKeys, optional, text } from './wire-fields.js';
import { isPlain, limits } from './wire-limits.js';
import { stringsOk } from './wire-bounds.js';
import { packedProblem, type PackedRows } from './wire-packed.js';
import { peerSetIdPattern } from './peer-set.js';
import { TALLY_LENGTH, tallyProblem } from './tally.js';
import { listeningOk } from './listening.js';
import { linkFactOk } from './link-check.js';
import { lldpState } from './link-wire.js';
import {
  agentMessage,
  dnsCheckOk,
  heartbeatMsg,
  helloMsg,
  interfaceOk,
  packedTable,
  responderOk,
  resultsMsg,
  type AgentMessage,
  type HelloMsg,
  type ResultsMsg,
} from './wire.js';
import { WIRE_VERSION } from './version.js';

const msgKeys = keysOf(resultsMsg.shape);
const tableKeys = keysOf(packedTable.shape);
const helloKeys = keysOf(helloMsg.shape);
const heartbeatKeys = keysOf(heartbeatMsg.shape);
const icmpStates = new Set<unknown>(helloMsg.shape.icmp.options);
const lldpStates = new Set<unknown>(lldpState.options);

const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const bounded = (v: unknown, max: number): v is unknown[] => Array.isArray(v) && v.length <= max;

/** What packedTable accepts, its rows' ints included (packedProblem, tallyProblem as resultsMsg runs them). */
function tableOk(t: unknown, indexed: boolean): boolean {
  if (!isPlain(t) || !onlyKeys(t, tableKeys)) return false;
  const rows = t.rows;
  if (!((Array.isArray(rows) || rows instanceof Int32Array) && rows.length <= limits.rowsPerBinding * (12 + 2 * limits.portsPerRow))) return false;
  if (
    !stringsOk(t.peers, limits.rowsPerBinding, 1, 253) ||
    !stringsOk(t.addrs, limits.rowsPerBinding, 1, 45) ||
    !stringsOk(t.tcp, limits.portsPerRow, 1, 5) ||
    !stringsOk(t.udp, limits.portsPerRow, 1, 5) ||
    !optional(t.bw, (v) => bounded(v, 3 * limits.rowsPerBinding)) ||
    !optional(t.same, (v) => bounded(v, limits.rowsPerBinding)) ||
    !optional(t.tally, (v) => bounded(v, TALLY_LENGTH))
  ) {
    return false;
  }
  const p = t as unknown as PackedRows;
  return packedProblem(p, indexed) === undefined && (p.tally === undefined || tallyProblem(p.tally, limits.rowsPerBinding) === undefined);
}

/** What resultsMsg accepts, and never more: the message as it is when true (the schema's parse would copy it). */
export function resultsOk(x: unknown): x is ResultsMsg {
  if (
    !isPlain(x) ||
    !onlyKeys(x, msgKeys) ||
    x.v !== WIRE_VERSION ||
    x.type !== 'results' ||
    !nameOk(x.node) ||
    !(Number.isSafeInteger(x.round) && (x.round as number) >= 0) ||
    !(finite(x.durationMs) && (x.durationMs as number) >= 0 && (x.durationMs as number) <= 86_400_000) ||
    !optional(x.startedAt, finite) ||
    typeof x.final !== 'boolean' ||
    !optional(x.catchUp, (v) => typeof v === 'boolean') ||
    !optional(x.requestedAt, finite) ||
    !optional(x.peerSet, (v) => typeof v === 'string' && peerSetIdPattern.test(v))
  ) {
    return false;
  }
  const b = x.bindings;
  if (!isPlain(b)) return false;
  const indexed = x.peerSet !== undefined;
  let n = 0;
  for (const k in b) if (++n > limits.resultBindings || !nameOk(k) || !tableOk(b[k], indexed)) return false;
  return true;
}

/** What helloMsg accepts, and never more. */
export function helloOk(x: unknown): x is HelloMsg {
  return (
    isPlain(x) &&
    onlyKeys(x, helloKeys) &&
    x.v === WIRE_VERSION &&
    x.type === 'hello' &&
    nameOk(x.node) &&
    text(x.agentVersion, 64) &&
    text(x.hostname, 253) &&
    icmpStates.has(x.icmp) &&
    optional(x.icmpDetail, (v) => text(v, limits.detailChars)) &&
    list(x.interfaces, limits.interfaces, interfaceOk) &&
    list(x.responders, limits.responders, responderOk) &&
    optional(x.listening, (v) => list(v, limits.interfaces, listeningOk)) &&
    optional(x.dns, (v) => list(v, limits.dnsChecks, dnsCheckOk)) &&
    optional(x.links, (v) => list(v, 64, linkFactOk)) &&
    optional(x.lldp, (v) => lldpStates.has(v))
  );
}

const clockOk = (v: unknown) => isPlain(v) && onlyKeys(v, clockKeys) && finite(v.offsetMs) && finite(v.rttMs) && (v.rttMs as number) >= 0;
const clockKeys = new Set(['offsetMs', 'rttMs']);

/** What one of agentMessage's kinds accepts (hello, results, heartbeat, clock request), and never more. */
export function agentMessageOk(x: unknown): x is AgentMessage {
  if (!isPlain(x)) return false;
  switch (x.type) {
    case 'hello':
      return helloOk(x);
    case 'results':
      return resultsOk(x);
    case 'heartbeat':
      return onlyKeys(x, heartbeatKeys) && x.v === WIRE_VERSION && nameOk(x.node) && finite(x.at) && optional(x.clock, clockOk);
    case 'clock':
      return x.v === WIRE_VERSION && finite(x.t0) && Object.keys(x).length === 3;
    default:
      return false;
  }
}

/**
 * decodeAgentMessage's bounds and checks, in its order (size, depth, JSON, version, the control bound), with the
 * plain check in zod's place: zod parses only a message it refuses, so a refusal reads as the schema words it.
 */
export function decodeFromAgent(data: Buffer, opts: DecodeOptions = {}): Decoded<AgentMessage> {
  const len = data.length;
  if (len > Math.min(opts.maxBytes ?? limits.resultsBytes, limits.resultsBytes)) return decodeWith(agentMessage, data, opts);
  const raw = parseBounded(data);
  if ('error' in raw) return raw;
  const x = raw.value;
  if ((len <= limits.controlBytes || (isPlain(x) && x.type === 'results')) && agentMessageOk(x)) return { ok: true, msg: x };
  return validateParsed(agentMessage, x, len);
}

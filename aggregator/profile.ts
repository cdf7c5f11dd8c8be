// size: parsing, merging `extends` and loading the shipped profiles share one layer model
// Readiness profiles: what every binding must carry, as readable conditions in YAML (README "Readiness
// profiles"). Defaults, then decode, then validate, once at load; unknown keys are errors; every error names
// the file, line, column and YAML path. The aggregator derives each agent's probe plan from the profile, so
// the profile decides which ports agents open responders for and probe. Parsing is pure (parseProfile);
// loadProfile reads files.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { Inventory } from '../agent/contract/inventory.js';
import { PingerError } from '../agent/contract/errors.js';
import type { ProbePlan } from '../agent/contract/wire.js';
import { roundsToCover } from '../agent/pinglist.js';
import { ConditionError, parseCondition, scopeOf, subjectOf, type Condition } from './conditions.js';
import { parseRate } from './link-conditions.js';
import { BUILTIN } from './profile-names.js';

export interface BindingRequirement {
  tcp: number[];
  udp: number[];
  /** Required path MTU on this binding, checked with a DF echo and against each node's interface MTU. */
  mtu?: number;
  /** Pair- and binding-scoped conditions (every_binding merged with the binding's own). */
  conditions: Condition[];
  /** The minimum sampled bandwidth between pairs, Mb/s (`bandwidth >= RATE`). */
  bandwidthMbps?: number;
}

export interface Profile {
  name: string;
  /** Where it was loaded from (file path, or "builtin:NAME"). */
  source?: string;
  intervalMs: number;
  timeoutMs: number;
  icmpCount: number;
  /** Conditions on each node, whatever its bindings (clock offset, hostname DNS). */
  node: Condition[];
  /** By binding name; '*' applies to bindings the profile does not name. */
  bindings: Record<string, BindingRequirement>;
  /** How bandwidth is sampled (`bandwidth_sample`); required by a `bandwidth >= RATE` condition. */
  bandwidth?: BandwidthSample;
  /** Pinglists (`pinglist`): above `above` nodes each agent probes `perRound` peers a round per binding. */
  pinglist?: PinglistSetting;
}

export interface PinglistSetting {
  above: number;
  perRound: number;
}

export type BandwidthSample = NonNullable<ProbePlan['bandwidth']>;

/** One file's contribution before `extends` is resolved: null marks a condition switched off. */
interface Layer {
  name?: string;
  extends?: { ref: string; at: string };
  intervalMs?: number;
  timeoutMs?: number;
  icmpCount?: number;
  node: Map<string, Condition | null>;
  every: Map<string, Condition | null>;
  bindings: Map<string, Map<string, Condition | null>>;
  bandwidth?: BandwidthSample;
  /** null: `pinglist: off` (an extending profile switches its base's pinglist off). */
  pinglist?: PinglistSetting | null;
  /** Where the first bandwidth condition is (file:line:col: path), for the error when no sink port is set. */
  bandwidthAt?: string;
}

const topKeys = ['name', 'description', 'extends', 'interval', 'timeout', 'icmp_count', 'node', 'every_binding', 'bindings', 'bandwidth_sample', 'pinglist'];
const sampleKeys = ['port', 'rate_cap', 'seconds', 'peers', 'concurrent'];
const pinglistKeys = ['above', 'per_round'];
/** Bounds of `pinglist`: the wire's plan refuses a window past 10,000 peers (probePlan.pinglist). */
export const pinglistBounds = { above: [2, 100_000], perRound: [1, 10_000] } as const;
const itemKeys = ['condition', 'severity'];

function fail(msg: string): never {
  throw new PingerError('PINGER_ERR_AGG_PROFILE', msg);
}

function parseDuration(raw: unknown): number | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s)$/.exec(String(raw).trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : 1));
}

/** Parses one profile file's text into a layer; `file` is only used in messages. */
// size: one check per profile key, in the order of the profile format
function parseLayer(text: string, file: string): Layer {
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const p = lc.linePos(e.pos[0]);
    fail(`${file}:${p.line}:${p.col}: ${e.message.split('\n')[0]}`);
  }
  const at = (node: YamlNode | null | undefined, path: string, msg: string): never => {
    const p = lc.linePos(node?.range?.[0] ?? 0);
    fail(`${file}:${p.line}:${p.col}: ${path || '(top level)'}: ${msg}`);
  };
  const root = doc.contents as YamlNode | null;
  if (!isMap(root)) return at(root, '', 'a profile is a map (name, interval, bindings, ...)');
  const layer: Layer = { node: new Map(), every: new Map(), bindings: new Map() };

  const conditionsOf = (node: YamlNode | null, path: string, where: 'binding' | 'node'): Map<string, Condition | null> => {
    const out = new Map<string, Condition | null>();
    if (node === null || (isScalar(node) && node.value === null)) return out;
    if (!isSeq(node)) return at(node, path, 'expected a list of conditions');
    node.items.forEach((raw, i) => {
      const item = raw as YamlNode;
      const ipath = `${path}[${i}]`;
      let text: unknown;
      let severity: unknown = 'error';
      let textNode: YamlNode = item;
      let sevNode: YamlNode = item;
      if (isScalar(item)) text = item.value;
      else if (isMap(item)) {
        for (const pair of item.items) {
          const k = String((pair.key as { value?: unknown })?.value ?? pair.key);
          if (!itemKeys.includes(k)) at(pair.key as YamlNode, `${ipath}.${k}`, `unknown key "${k}" (known: ${itemKeys.join(', ')})`);
        }
        const cn = item.get('condition', true) as YamlNode | undefined;
        if (!cn) return at(item, ipath, 'missing "condition"');
        textNode = cn;
        text = isScalar(cn) ? cn.value : undefined;
        const sn = item.get('severity', true) as YamlNode | undefined;
        if (sn) {
          sevNode = sn;
          severity = isScalar(sn) ? sn.value : undefined;
        }
      } else return at(item, ipath, 'expected a condition string or {condition, severity}');
      if (typeof text !== 'string') return at(textNode, ipath, 'the condition must be a string, e.g. "loss == 0%"');
      if (severity !== 'error' && severity !== 'warning' && severity !== 'off')
        return at(sevNode, `${ipath}.severity`, `must be "error", "warning" or "off", not ${JSON.stringify(severity)}`);
      let c: Condition;
      try {
        c = parseCondition(text, severity === 'off' ? 'error' : severity);
      } catch (err) {
        if (err instanceof ConditionError) return at(textNode, ipath, err.message);
        throw err;
      }
      const scope = scopeOf(c, where);
      if (where === 'binding' && scope === 'node') at(textNode, ipath, `"${c.text}" is checked per node: put it under "node"`);
      if (where === 'node' && scope !== 'node') at(textNode, ipath, `"${c.text}" is checked per binding: put it under "every_binding" or "bindings.NAME"`);
      if (c.type === 'link' && c.check === 'bandwidth' && !layer.bandwidthAt) {
        const p = lc.linePos(textNode.range?.[0] ?? 0);
        layer.bandwidthAt = `${file}:${p.line}:${p.col}: ${ipath}`;
      }
      const key = subjectOf(c);
      if (out.has(key)) at(textNode, ipath, `a second condition on ${key} in the same list`);
      out.set(key, severity === 'off' ? null : c);
    });
    return out;
  };

  for (const pair of root.items) {
    const keyNode = pair.key as YamlNode;
    const k = String(isScalar(keyNode) ? keyNode.value : keyNode);
    const v = pair.value as YamlNode | null;
    const scalar = isScalar(v) ? v.value : undefined;
    switch (k) {
      case 'name':
        if (typeof scalar !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(scalar))
          at(v ?? keyNode, k, 'must be a name of letters, digits, ".", "_" or "-"');
        layer.name = scalar as string;
        break;
      case 'description':
        if (typeof scalar !== 'string') at(v ?? keyNode, k, 'must be a string');
        break;
      case 'extends':
        if (typeof scalar !== 'string' || !scalar) at(v ?? keyNode, k, 'must name a built-in profile or a file');
        {
          const p = lc.linePos(v!.range![0]);
          layer.extends = { ref: scalar as string, at: `${file}:${p.line}:${p.col}` };
        }
        break;
      case 'interval':
      case 'timeout': {
        const ms = parseDuration(scalar);
        if (ms === undefined) at(v ?? keyNode, k, `${JSON.stringify(scalar ?? null)} is not a duration like 10s or 500ms`);
        if (k === 'interval' && ms! < 100) at(v, k, 'must be at least 100ms');
        if (k === 'timeout' && ms! < 10) at(v, k, 'must be at least 10ms');
        if (k === 'interval') layer.intervalMs = ms!;
        else layer.timeoutMs = ms!;
        break;
      }
      case 'icmp_count':
        if (typeof scalar !== 'number' || !Number.isInteger(scalar) || scalar < 0 || scalar > 100) at(v ?? keyNode, k, 'must be a whole number from 0 to 100');
        layer.icmpCount = scalar as number;
        break;
      case 'bandwidth_sample': {
        if (!isMap(v)) {
          at(v ?? keyNode, k, 'expected a map: port, rate_cap, seconds, peers, concurrent');
          break;
        }
        const get = (sk: string): unknown => {
          const n = v.get(sk, true) as YamlNode | undefined;
          return n && isScalar(n) ? n.value : undefined;
        };
        const nodeOf = (sk: string) => (v.get(sk, true) as YamlNode | undefined) ?? v;
        for (const sp of v.items) {
          const sk = String((sp.key as { value?: unknown })?.value ?? sp.key);
          if (!sampleKeys.includes(sk)) at(sp.key as YamlNode, `${k}.${sk}`, `unknown key "${sk}" (known: ${sampleKeys.join(', ')})`);
        }
        const int = (sk: string, lo: number, hi: number, dflt?: number): number => {
          const x = get(sk) ?? dflt;
          if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi) at(nodeOf(sk), `${k}.${sk}`, `must be a whole number from ${lo} to ${hi}`);
          return x as number;
        };
        const port = int('port', 1, 65535);
        const rawRate = get('rate_cap') ?? '1G';
        const rate = typeof rawRate === 'string' ? parseRate(rawRate) : undefined;
        if (rate === undefined || rate > 100_000)
          at(nodeOf('rate_cap'), `${k}.rate_cap`, `${JSON.stringify(rawRate)} is not a rate like 1G or 500M (at most 100G)`);
        const secs = parseDuration(get('seconds') === undefined ? '2s' : typeof get('seconds') === 'number' ? `${get('seconds')}s` : get('seconds'));
        if (secs === undefined || secs < 200 || secs > 10_000) at(nodeOf('seconds'), `${k}.seconds`, 'must be a duration from 200ms to 10s');
        layer.bandwidth = { port, rateMbps: rate!, seconds: secs! / 1000, peers: int('peers', 1, 8, 1), concurrent: int('concurrent', 1, 64, 2) };
        break;
      }
      case 'pinglist':
        layer.pinglist = pinglistOf(v, keyNode, at);
        break;
      case 'node':
        layer.node = conditionsOf(v, k, 'node');
        break;
      case 'every_binding':
        layer.every = conditionsOf(v, k, 'binding');
        break;
      case 'bindings':
        if (!isMap(v)) {
          at(v ?? keyNode, k, 'expected a map of binding name -> list of conditions');
          break;
        }
        for (const bp of v.items) {
          const bk = bp.key as YamlNode;
          const b = String(isScalar(bk) ? bk.value : bk);
          if (b !== '*' && !/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(b)) at(bk, `bindings.${b}`, 'is not a binding name');
          layer.bindings.set(b, conditionsOf(bp.value as YamlNode | null, `bindings.${b}`, 'binding'));
        }
        break;
      default:
        at(keyNode, k, `unknown key "${k}" (known: ${topKeys.join(', ')})`);
    }
  }
  return layer;
}

type At = (node: YamlNode | null | undefined, path: string, msg: string) => never;

/** `pinglist: {above: 100, per_round: 100}`, or `pinglist: off` (null in the layer). */
function pinglistOf(v: YamlNode | null, keyNode: YamlNode, at: At): PinglistSetting | null {
  if (isScalar(v) && v.value === 'off') return null;
  if (!isMap(v)) return at(v ?? keyNode, 'pinglist', 'expected a map: above, per_round (or "off")');
  for (const p of v.items) {
    const k = String((p.key as { value?: unknown })?.value ?? p.key);
    if (!pinglistKeys.includes(k)) at(p.key as YamlNode, `pinglist.${k}`, `unknown key "${k}" (known: ${pinglistKeys.join(', ')})`);
  }
  const int = (k: string, [lo, hi]: readonly [number, number]): number => {
    const n = v.get(k, true) as YamlNode | undefined;
    const x = n && isScalar(n) ? n.value : undefined;
    if (!n) return at(v, `pinglist.${k}`, `missing (a whole number from ${lo} to ${hi})`);
    if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi) at(n, `pinglist.${k}`, `must be a whole number from ${lo} to ${hi}`);
    return x as number;
  };
  return { above: int('above', pinglistBounds.above), perRound: int('per_round', pinglistBounds.perRound) };
}

const merge = <T>(base: Map<string, T | null>, over: Map<string, T | null>) => new Map([...base, ...over]);
const live = (m: Map<string, Condition | null>): Condition[] => [...m.values()].filter((c): c is Condition => c !== null);

function requirementOf(conds: Condition[]): BindingRequirement {
  const tcp = new Set<number>();
  const udp = new Set<number>();
  let mtu: number | undefined;
  let bandwidthMbps: number | undefined;
  for (const c of conds) {
    if (c.type === 'link' && c.check === 'bandwidth') bandwidthMbps = c.minMbps;
    if (c.type === 'port') for (const p of c.ports) (c.proto === 'tcp' ? tcp : udp).add(p);
    if (c.type === 'compare' && c.metric === 'mtu') mtu = c.value;
  }
  const num = (a: number, b: number) => a - b;
  return {
    tcp: [...tcp].sort(num),
    udp: [...udp].sort(num),
    ...(mtu ? { mtu } : {}),
    ...(bandwidthMbps !== undefined ? { bandwidthMbps } : {}),
    conditions: conds,
  };
}

export interface ProfileSource {
  /** Reads a referenced file (for `extends: ./base.yaml`); defaults to the file system. */
  read?: (file: string) => string;
}

/** Parses profile text (following `extends`), applies defaults, validates. */
export function parseProfile(text: string, file = 'profile', opts: ProfileSource = {}): Profile {
  return finish(parseLayerChain(text, file, opts), file);
}

/** The merged layer of a file and everything it extends (kept as layers so overrides work by subject). */
function parseLayerChain(text: string, file: string, opts: ProfileSource & { seen?: string[] }): Layer {
  const layer = parseLayer(text, file);
  if (!layer.extends) return layer;
  const seen = [...(opts.seen ?? []), file];
  const ref = layer.extends.ref;
  const builtin = /^[A-Za-z0-9._-]+$/.test(ref) && !ref.endsWith('.yaml') && !ref.endsWith('.yml');
  const target = builtin ? builtinFile(ref) : isAbsolute(ref) ? ref : join(dirname(file), ref);
  if (!target) fail(`${layer.extends.at}: extends: no built-in profile "${ref}" (built in: ${builtinNames().join(', ')})`);
  if (seen.includes(target!)) fail(`${layer.extends.at}: extends: "${ref}" extends itself (${[...seen, target].join(' -> ')})`);
  const read = opts.read ?? ((f: string) => readFileSync(f, 'utf8'));
  let baseText: string;
  try {
    baseText = read(target!);
  } catch (err) {
    fail(`${layer.extends.at}: extends: cannot read ${target}: ${(err as Error).message}`);
  }
  return mergeLayers(parseLayerChain(baseText!, target!, { ...opts, seen }), layer);
}

function mergeLayers(base: Layer, over: Layer): Layer {
  const bindings = new Map(base.bindings);
  for (const [b, m] of over.bindings) bindings.set(b, merge(bindings.get(b) ?? new Map(), m));
  return {
    ...((over.name ?? base.name) ? { name: (over.name ?? base.name)! } : {}),
    ...((over.intervalMs ?? base.intervalMs) ? { intervalMs: (over.intervalMs ?? base.intervalMs)! } : {}),
    ...((over.timeoutMs ?? base.timeoutMs) ? { timeoutMs: (over.timeoutMs ?? base.timeoutMs)! } : {}),
    ...((over.icmpCount ?? base.icmpCount) !== undefined ? { icmpCount: (over.icmpCount ?? base.icmpCount)! } : {}),
    node: merge(base.node, over.node),
    every: merge(base.every, over.every),
    bindings,
    ...((over.bandwidth ?? base.bandwidth) ? { bandwidth: (over.bandwidth ?? base.bandwidth)! } : {}),
    ...((over.bandwidthAt ?? base.bandwidthAt) ? { bandwidthAt: (over.bandwidthAt ?? base.bandwidthAt)! } : {}),
    ...(over.pinglist !== undefined ? { pinglist: over.pinglist } : base.pinglist !== undefined ? { pinglist: base.pinglist } : {}),
  };
}

/** Defaults, then validation of the whole. */
function finish(layer: Layer, file: string): Profile {
  const intervalMs = layer.intervalMs ?? 10_000;
  const timeoutMs = layer.timeoutMs ?? 1_000;
  if (timeoutMs >= intervalMs) fail(`${file}: timeout (${timeoutMs}ms) must be shorter than interval (${intervalMs}ms)`);
  const bindings: Record<string, BindingRequirement> = {};
  const names = new Set([...layer.bindings.keys(), '*']);
  for (const b of names) bindings[b] = requirementOf(live(merge(layer.every, layer.bindings.get(b) ?? new Map())));
  const base = file
    .split('/')
    .pop()!
    .replace(/\.ya?ml$/, '');
  const sampled = Object.values(bindings).some((r) => r.bandwidthMbps !== undefined);
  if (sampled && !layer.bandwidth)
    fail(`${layer.bandwidthAt ?? file}: a bandwidth condition needs the sink's port: add "bandwidth_sample: {port: 5202}" (a TCP port free on every node)`);
  return {
    name: layer.name ?? base,
    source: file,
    intervalMs,
    timeoutMs,
    icmpCount: layer.icmpCount ?? 3,
    node: live(layer.node),
    bindings,
    ...(layer.bandwidth ? { bandwidth: layer.bandwidth } : {}),
    ...(layer.pinglist ? { pinglist: { ...layer.pinglist } } : {}),
  };
}

/** The folder of shipped profiles: next to this file in a checkout; from dist/, back in the sources. */
function profilesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const d of [join(here, 'profiles'), resolve(here, '../../aggregator/profiles')]) if (existsSync(d)) return d;
  return join(here, 'profiles');
}

export function builtinNames(): string[] {
  return [...BUILTIN];
}
function builtinFile(name: string): string | undefined {
  return (BUILTIN as readonly string[]).includes(name) ? join(profilesDir(), `${name}.yaml`) : undefined;
}

/** A built-in profile by name, or a profile file by path (anything with a / or ending in .yaml). */
export function loadProfile(ref: string): Profile {
  const builtin = builtinFile(ref);
  const file = builtin ?? (/[/.]/.test(ref) ? ref : undefined);
  if (!file) fail(`--profile ${ref}: no built-in profile of that name (built in: ${builtinNames().join(', ')}; or give a file path)`);
  let text: string;
  try {
    text = readFileSync(file!, 'utf8');
  } catch (err) {
    fail(`${file}: cannot read the profile: ${(err as Error).message}`);
  }
  const p = parseProfile(text!, builtin ? `aggregator/profiles/${ref}.yaml` : file!, builtin ? { read: (f) => readFileSync(f, 'utf8') } : {});
  return builtin ? { ...p, source: `builtin:${ref}` } : p;
}

const builtinCache = new Map<string, Profile>();
/**
 * A profile shipped with Pinger, read and parsed on first use, so that importing this module reads no file
 * (a broken shipped file is a bug, caught by the tests).
 */
export function builtinProfile(name: (typeof BUILTIN)[number]): Profile {
  let p = builtinCache.get(name);
  if (!p) builtinCache.set(name, (p = loadProfile(name)));
  return p;
}
/** The shipped profiles by name; each is loaded when first read. */
export const builtinProfiles: Readonly<Record<string, Profile>> = Object.defineProperties(
  {},
  Object.fromEntries(BUILTIN.map((n) => [n, { get: () => builtinProfile(n), enumerable: true }])),
);

export function requirementFor(profile: Profile, binding: string): BindingRequirement {
  return profile.bindings[binding] ?? profile.bindings['*'] ?? { tcp: [], udp: [], conditions: [] };
}

export function usesDns(profile: Profile): boolean {
  return [...profile.node, ...Object.values(profile.bindings).flatMap((b) => b.conditions)].some((c) => c.type === 'dns');
}

/**
 * The pinglist that applies to a fleet of `nodes` (more than the profile's `above`): `perRound` peers a round
 * per binding, every pair covered within `rounds` (K = ceil((N - 1) / perRound)) rounds. undefined: none.
 */
export function pinglistFor(profile: Profile, nodes: number): { perRound: number; rounds: number } | undefined {
  const pl = profile.pinglist;
  if (!pl || nodes <= pl.above) return undefined;
  return { perRound: pl.perRound, rounds: roundsToCover(nodes - 1, pl.perRound) };
}

/**
 * Without a pinglist, the profile's interval is a floor: a fleet of N nodes probes at least every N x 40 ms. Every agent's round
 * grows with N, and so does the aggregator's work per round (N messages of ~1 KB per peer and binding, about
 * 16 ms of one core each to decode at 1,000 nodes x 6 bindings: see BENCHMARKS.md). At 1,000 nodes: 40 s.
 */
export function fleetIntervalMs(profileMs: number, nodes: number): number {
  return Math.max(profileMs, nodes * 40);
}

export function planFor(profile: Profile, inventory: Inventory): ProbePlan {
  const bindings: ProbePlan['bindings'] = {};
  for (const b of inventory.bindings) {
    const r = requirementFor(profile, b);
    bindings[b] = {
      tcp: [...r.tcp],
      udp: [...r.udp],
      ...(r.mtu ? { mtu: r.mtu } : {}),
      ...(r.bandwidthMbps !== undefined && profile.bandwidth ? { bandwidth: true } : {}),
    };
  }
  const sampled = Object.values(bindings).some((b) => b.bandwidth);
  const pinglist = pinglistFor(profile, inventory.nodes.length);
  return {
    profile: profile.name,
    // A pinglist bounds each round to perRound peers, so the profile's interval holds at any size.
    intervalMs: pinglist ? profile.intervalMs : fleetIntervalMs(profile.intervalMs, inventory.nodes.length),
    timeoutMs: profile.timeoutMs,
    icmpCount: profile.icmpCount,
    bindings,
    // Agents look names up only when asked: a profile without DNS conditions sends no DNS traffic at all.
    ...(usesDns(profile) ? { dns: true } : {}),
    ...(sampled ? { bandwidth: { ...profile.bandwidth! } } : {}),
    ...(pinglist ? { pinglist: { perRound: pinglist.perRound } } : {}),
  };
}

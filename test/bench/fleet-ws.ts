// The fleet over real WebSockets (issue 16): the real aggregator process (`pinger aggregator`, openstack
// profile, on 127.0.0.1) and N simulated agents in worker processes, each a real WebSocket connection made by
// the agent's own Link (permessage-deflate as the agent uses it, per-node credential), sending what the agent
// sends (fleet-ws-worker.ts). Inventory addresses are 198.18.0.0/15 strings: nothing is sent to them.
// Per round: aggregator CPU, peak RSS, agents dropped (close codes), event-loop p99 (/metrics), the delay from
// the round's last results message to a verdict that includes it on every node, /metrics time and series,
// report size and time.
// Usage: node --import tsx test/bench/fleet-ws.ts [--nodes 50] [--bindings 6] [--rounds 3] [--workers 2]
//        [--compress] [--links] [--no-delta] [--sources] [--changing 0.05] [--load] [--max-seconds S] [--interval S] [--json]
//        FLEET_AGG_PROF=DIR / FLEET_WORKER_PROF=DIR: CPU profiles (node --cpu-prof) of the aggregator / the workers.
//        FLEET_AGG_OUT=FILE: the aggregator's output, written when the run ends (e.g. with FLEET_AGG_NODE_FLAGS=--trace-gc).
//        FLEET_AGG_NODE_FLAGS='--heap-prof ...': node flags for the aggregator, after those its service runs with.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { rmSync, writeFileSync } from 'node:fs';
import type { Report } from '../../aggregator/report.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { burnCpu } from '../helpers/burn.js';
import { formatTable, summarise, type FleetSummary, type RoundStats } from './fleet-lib.js';
import { counters, sample, startAggregator, startWorkers, Tracker, type Aggregator, type Sample } from './fleet-run.js';

export interface FleetOptions {
  nodes: number;
  bindings: number;
  rounds: number;
  workers: number;
  compression: boolean;
  /** Agents send delta rounds (only peers whose rows changed), as the agent does; false: every row every round. */
  delta: boolean;
  /** The share of rows that change a round (a slow echo), so a delta round re-sends them. */
  changing: number;
  load: boolean;
  /** The hello with responders open carries link facts, as a real agent's on a bonded node (fleet-lib.ts simLinks). */
  links?: boolean;
  /** The aggregator as the charm's service runs it (dist/, built first; default) or through tsx from the sources. */
  runtime?: 'dist' | 'sources';
  /** Stop after this long whatever state the rounds are in (0: no limit). */
  maxSeconds: number;
  /** Round period (s) instead of the openstack profile's (a profile extending openstack): smoke tests only. */
  intervalS?: number;
  log?: (line: string) => void;
}

export interface FleetResult {
  options: Omit<FleetOptions, 'log'>;
  /** The round period the simulated agents keep: the profile's interval. */
  intervalMs: number;
  /** What the aggregator's plan asked for (the current code stretches it to N x 40 ms above 250 nodes). */
  planIntervalMs: number;
  rounds: RoundStats[];
  /** 1/5/15-minute load averages at the start and the end. */
  loadavg: { start: number[]; end: number[] };
  wallS: number;
  /** CPU seconds over the whole run: the aggregator, and the simulator's workers summed. */
  aggCpuS: number;
  simCpuS: number;
  catchUps: number;
  summary: FleetSummary;
  stoppedBy: 'rounds' | 'max-seconds' | 'signal';
  /** The processes the run started (all stopped when it returns). */
  pids: { aggregator: number; workers: number[] };
}

/**
 * Polls the report (no matrix, no link facts: what it reads, as the report page leaves the link facts to
 * /api/v1/links) and notes when each round is in the verdict on every node.
 */
class VerdictWatch {
  readonly at = new Map<number, { at: number; verdict: string }>();
  last: Report['verdict'] | undefined;
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  /** The report's entity tag: a poll while the snapshot stands gets 304, as the report page's polls do. */
  private etag: string | undefined;

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const res = await fetch(`${this.url}/api/v1/report?matrix=none&links=none`, this.etag ? { headers: { 'if-none-match': this.etag } } : {});
        const body = await res.text();
        if (res.status === 304) throw new Error('unchanged');
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        this.etag = res.headers.get('etag') ?? undefined;
        const at = Date.now();
        const r = JSON.parse(body) as Report;
        this.last = r.verdict;
        const covered = Math.min(...r.nodes.map((n) => n.lastRound ?? -1));
        // Under a pinglist the verdict stays `pending` until every pair was covered (K rounds): a verdict that waits
        // only for coverage is this round's verdict (it says how far coverage got), so it counts.
        const w = r.waiting;
        const onlyCoverage = r.verdict === 'pending' && r.pinglist && w && !w.connect.length && !w.firstRound.length && !w.remeasure.length;
        const verdict = onlyCoverage ? 'pending (coverage)' : r.verdict;
        if (r.verdict !== 'pending' || onlyCoverage) for (let k = 0; k <= covered; k++) if (!this.at.has(k)) this.at.set(k, { at, verdict });
      } catch {
        // unchanged, or not answering right now: try again
      }
      await new Promise((res) => setTimeout(res, this.everyMs));
    }
  }
}

/** Set by SIGINT/SIGTERM: the run ends at once, and still stops everything it started. */
const interrupted = { now: false };
const onSignal = () => {
  interrupted.now = true;
};

async function sleepUntil(t: number): Promise<void> {
  while (Date.now() < t && !interrupted.now) await new Promise((r) => setTimeout(r, Math.min(100, t - Date.now())));
}

export async function runFleet(o: FleetOptions): Promise<FleetResult> {
  const log = o.log ?? (() => undefined);
  const intervalMs = o.intervalS !== undefined ? o.intervalS * 1000 : builtinProfile('openstack').intervalMs;
  const load0 = loadavg();
  const burners = o.load ? burnCpu() : undefined;
  let agg: Aggregator | undefined;
  let workers: ReturnType<typeof startWorkers> | undefined;
  let w: VerdictWatch | undefined;
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    agg = await startAggregator(o.nodes, o.bindings, o.intervalS, o.runtime ?? 'dist');
    log(`aggregator pid ${agg.pid} at ${agg.url}; ${o.nodes} agents in ${o.workers} workers, round period ${intervalMs / 1000} s`);
    const tracker = new Tracker();
    const url = `${agg.url.replace('http', 'ws')}/api/v1/agent`;
    workers = startWorkers(
      o.workers,
      {
        url,
        secret: agg.secret,
        nodes: o.nodes,
        bindings: o.bindings,
        rounds: o.rounds,
        compression: o.compression,
        delta: o.delta,
        changing: o.changing,
        links: o.links === true,
        periodMs: intervalMs,
      },
      tracker,
    );
    const before = await sample(agg, workers);
    await workers.started;
    const t0 = Date.now();
    w = new VerdictWatch(agg.url, o.nodes <= 200 ? 100 : 250);
    w.start();
    // Round 0 counts from here, not from `before` (whose scrape and report answers are the benchmark's own).
    const first: Sample = { ...before, ...counters(agg, workers), at: t0 };
    const { samples, stoppedBy } = await windows({ o, intervalMs, t0, agg, workers, tracker, w, first, log });
    await w.stop();
    const rounds = roundStats(samples, tracker, w);
    const last = samples.at(-1)!;
    return {
      options: {
        nodes: o.nodes,
        bindings: o.bindings,
        rounds: o.rounds,
        workers: o.workers,
        compression: o.compression,
        delta: o.delta,
        changing: o.changing,
        load: o.load,
        links: o.links === true,
        maxSeconds: o.maxSeconds,
        runtime: o.runtime ?? 'dist',
        ...(o.intervalS !== undefined ? { intervalS: o.intervalS } : {}),
      },
      intervalMs,
      planIntervalMs: tracker.planIntervalMs,
      rounds,
      loadavg: { start: load0, end: loadavg() },
      wallS: (Date.now() - t0) / 1000,
      aggCpuS: last.aggCpu - samples[0]!.aggCpu,
      simCpuS: last.simCpu - samples[0]!.simCpu,
      catchUps: tracker.catchUps,
      summary: summarise(rounds),
      stoppedBy,
      pids: { aggregator: agg.pid, workers: workers.kids.map((k) => k.pid!) },
    };
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await w?.stop();
    await workers?.stop();
    await agg?.proc.stop();
    if (agg && process.env.FLEET_AGG_OUT) writeFileSync(process.env.FLEET_AGG_OUT, agg.proc.output());
    await burners?.stop();
    if (agg) rmSync(agg.dir, { recursive: true, force: true });
  }
}

interface Run {
  o: FleetOptions;
  intervalMs: number;
  t0: number;
  agg: Aggregator;
  workers: ReturnType<typeof startWorkers>;
  tracker: Tracker;
  w: VerdictWatch;
  first: Sample;
  log: (line: string) => void;
}

/** One sample at the end of each round period; the last waits (two more periods at most) for its verdict. */
async function windows(r: Run): Promise<{ samples: Sample[]; stoppedBy: FleetResult['stoppedBy'] }> {
  const { o, intervalMs, t0, w } = r;
  const deadline = o.maxSeconds > 0 ? t0 + o.maxSeconds * 1000 : Number.POSITIVE_INFINITY;
  const samples = [r.first];
  for (let k = 0; k < o.rounds; k++) {
    const end = t0 + (k + 1) * intervalMs;
    if (k === o.rounds - 1) await waitVerdict(w, k, Math.min(deadline, end + 2 * intervalMs), end);
    else await sleepUntil(Math.min(end, deadline));
    samples.push(await sample(r.agg, r.workers));
    r.log(`round ${k}: ${JSON.stringify(r.tracker.rounds.get(k) ?? {})}, ${r.tracker.planned} planned, ${r.tracker.closes.length} closes, verdict ${w.last}`);
    if (Date.now() >= deadline || interrupted.now) return { samples, stoppedBy: interrupted.now ? 'signal' : 'max-seconds' };
  }
  return { samples, stoppedBy: 'rounds' };
}

async function waitVerdict(w: VerdictWatch, round: number, until: number, notBefore: number): Promise<void> {
  while (Date.now() < until && !interrupted.now && !(w.at.has(round) && Date.now() >= notBefore)) await new Promise((r) => setTimeout(r, 100));
}

/** Window k (between samples k and k+1) with round k's sends and verdict. */
function roundStats(samples: Sample[], tracker: Tracker, w: VerdictWatch): RoundStats[] {
  const out: RoundStats[] = [];
  for (let k = 0; k + 1 < samples.length; k++) {
    const a = samples[k]!;
    const b = samples[k + 1]!;
    const sent = tracker.rounds.get(k);
    const closes = tracker.closes.filter((c) => c.at >= (k === 0 ? 0 : a.at) && c.at < b.at);
    const codes: Record<string, number> = {};
    for (const c of closes) codes[c.code] = (codes[c.code] ?? 0) + 1;
    const v = w.at.get(k);
    out.push({
      round: k,
      agentsSent: sent?.agents ?? 0,
      ...(sent ? { lastSentAt: sent.lastSentAt, sendLagMs: sent.maxLagMs } : {}),
      aggCpuS: b.aggCpu - a.aggCpu,
      ...(Number.isFinite(b.aggMainCpu - a.aggMainCpu) ? { aggMainCpuS: b.aggMainCpu - a.aggMainCpu } : {}),
      ...(Number.isFinite(b.aggWrites - a.aggWrites) ? { aggWrites: b.aggWrites - a.aggWrites } : {}),
      simCpuS: b.simCpu - a.simCpu,
      rssPeakMiB: b.rssPeakMiB,
      ...pick(b, ['heapMiB', 'heapTotalMiB', 'externalMiB']),
      ...(a.rows !== undefined && b.rows !== undefined ? { rowsIn: b.rows - a.rows } : {}),
      ...(a.unchanged !== undefined && b.unchanged !== undefined ? { unchangedIn: b.unchanged - a.unchanged } : {}),
      ...(a.named !== undefined && b.named !== undefined ? { namedIn: b.named - a.named } : {}),
      dropped: closes.length,
      closeCodes: codes,
      ...pick(b, ['loopP99Ms', 'metricsMs', 'series', 'reportKiB', 'reportMs']),
      ...(v ? { verdict: v.verdict } : {}),
      ...(v && sent ? { verdictDelayS: Math.max(0, v.at - sent.lastSentAt) / 1000 } : {}),
    });
  }
  return out;
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const r: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
  return r;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '50' },
      bindings: { type: 'string', default: '6' },
      rounds: { type: 'string', default: '3' },
      workers: { type: 'string', default: '2' },
      compress: { type: 'boolean', default: false },
      'no-compression': { type: 'boolean', default: false },
      'no-delta': { type: 'boolean', default: false },
      sources: { type: 'boolean', default: false },
      changing: { type: 'string', default: '0.05' },
      load: { type: 'boolean', default: false },
      links: { type: 'boolean', default: false },
      'max-seconds': { type: 'string', default: '0' },
      interval: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const r = await runFleet({
    nodes: Number(values.nodes),
    bindings: Number(values.bindings),
    rounds: Number(values.rounds),
    workers: Number(values.workers),
    // As the agent: uncompressed unless --compress (`pinger agent --compress`); --no-compression is the old default's switch.
    compression: values.compress && !values['no-compression'],
    delta: !values['no-delta'],
    runtime: values.sources ? 'sources' : 'dist',
    changing: Number(values.changing),
    load: values.load,
    links: values.links,
    maxSeconds: Number(values['max-seconds']),
    ...(values.interval ? { intervalS: Number(values.interval) } : {}),
    log: (l) => console.error(l),
  });
  if (values.json) return void console.log(JSON.stringify(r, null, 2));
  const o = r.options;
  console.log(
    `${o.nodes} nodes x ${o.bindings} bindings, ${o.workers} workers, aggregator from ${o.runtime === 'sources' ? 'the sources (tsx)' : 'dist/'}, round period ${r.intervalMs / 1000} s (the plan asked ${r.planIntervalMs / 1000} s), compression ${o.compression ? 'on' : 'off'}, ${o.delta ? `delta rounds (${(o.changing * 100).toFixed(0)}% of rows change a round)` : 'every row every round'}${o.load ? ', CPU burners on' : ''}${o.links ? ', hellos with link facts' : ''}; load average ${r.loadavg.start.map((x) => x.toFixed(1)).join(' ')} -> ${r.loadavg.end.map((x) => x.toFixed(1)).join(' ')}`,
  );
  console.log(formatTable(r.rounds));
  console.log(
    `run ${r.wallS.toFixed(1)} s (${r.stoppedBy}); aggregator CPU ${r.aggCpuS.toFixed(1)} s; simulator CPU ${r.simCpuS.toFixed(1)} s (${(r.simCpuS / r.wallS).toFixed(2)} cores); catch-ups ${r.catchUps}`,
  );
  const m = r.summary;
  const f = (v: number | undefined, d: number) => (v === undefined ? '-' : v.toFixed(d));
  const end = r.rounds.at(-1);
  if (end)
    console.log(
      `memory at the end: V8 heap ${f(end.heapMiB, 0)} MiB used of ${f(end.heapTotalMiB, 0)} MiB committed; outside the heap (ArrayBuffers, Buffers) ${f(end.externalMiB, 0)} MiB`,
    );
  console.log(
    `after round 0: aggregator CPU median ${f(m.aggCpuMedianS, 2)} s a round; verdict after the last message median ${f(m.verdictDelayMedianS, 2)} s, max ${f(m.verdictDelayMaxS, 2)} s, never ${m.verdictMissing}; event-loop p99 max ${f(m.loopP99MaxMs, 0)} ms; RSS peak ${f(m.rssPeakMiB, 0)} MiB; dropped ${m.dropped}`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

// The fleet benchmark's moving parts (test/bench/fleet-ws.ts drives them): the real aggregator process as the
// CLI starts it, the worker processes of simulated agents and what they report, and the samples taken of the
// aggregator (/proc, /metrics, the report). Everything started here is stopped by PID.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inventoryToText } from '../../agent/contract/inventory.js';
import { AGGREGATOR_NODE_FLAGS } from '../../aggregator/node-flags.js';
import { pingerCmd, start, type Started } from '../helpers/procs.js';
import { cpuSecondsOf, fleetInventory, parseMetrics, statusMiB } from './fleet-lib.js';
import type { WorkerReport, WorkerStart } from './fleet-ws-worker.js';

export const clkTck = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface Aggregator {
  dir: string;
  proc: Started;
  pid: number;
  url: string;
  secret: string;
}

/**
 * Inventory, cluster secret and (with `intervalS`) a profile extending openstack; then `pinger aggregator`, as the
 * charm's service runs it (`node dist/aggregator/cli/pinger.js`, built by `npm run build` first) or, with
 * `runtime: 'sources'`, through tsx as `pinger` runs from a checkout (its loader thread costs ~40 MiB of RSS).
 */
export async function startAggregator(nodes: number, bindings: number, intervalS?: number, runtime: 'dist' | 'sources' = 'dist'): Promise<Aggregator> {
  // Built before the temporary directory is made: a failed build leaves nothing behind.
  const [node, pre] = runtime === 'sources' ? pingerCmd() : [process.execPath, [buildDist()]];
  const dir = mkdtempSync(join(tmpdir(), 'pinger-fleet-'));
  const inventoryFile = join(dir, 'inventory.yaml');
  const tokenFile = join(dir, 'secret');
  const secret = randomBytes(32).toString('base64');
  writeFileSync(inventoryFile, inventoryToText(fleetInventory(nodes, bindings)));
  writeFileSync(tokenFile, `${secret}\n`, { mode: 0o600 });
  let profile = 'openstack';
  if (intervalS !== undefined) {
    profile = join(dir, 'profile.yaml');
    writeFileSync(profile, `name: fleet-bench\nextends: openstack\ninterval: ${intervalS}s\n`);
  }
  const args = ['aggregator', '--listen', '127.0.0.1:0', '--inventory', inventoryFile, '--token-file', tokenFile, '--plain', '--profile', profile];
  const proc = start(node, [
    ...(process.env.FLEET_AGG_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.FLEET_AGG_PROF] : []),
    // The node flags the charm's service runs the aggregator with, then extra ones for experiments (e.g.
    // --heap-prof, --max-semi-space-size=16; the last of a flag wins).
    ...AGGREGATOR_NODE_FLAGS,
    ...(process.env.FLEET_AGG_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? []),
    ...pre,
    ...args,
    '--log-level',
    'warn',
  ]);
  let line: string;
  try {
    line = await proc.waitFor(/listening on (https?:\/\/\S+?);/, 60_000);
  } catch (err) {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, proc, pid: proc.child.pid!, url: /listening on (https?:\/\/\S+?);/.exec(line)![1]!, secret };
}

/** `npm run build` (tsc into dist/), once a process: the aggregator the charm's service runs. */
let built: string | undefined;
function buildDist(): string {
  if (built) return built;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  return (built = join(root, 'dist/aggregator/cli/pinger.js'));
}

/** utime+stime of a process (all its threads), or with `thread` of that one thread (the main one: `thread` = pid). */
export function cpuOf(pid: number, thread?: number): number {
  try {
    return cpuSecondsOf(readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8'), clkTck);
  } catch {
    return Number.NaN;
  }
}

/** Write system calls (write, writev, sendmsg) the process has made: /proc/PID/io's syscw, or NaN. */
export function writeCallsOf(pid: number): number {
  try {
    const m = /^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function peakRssMiB(pid: number): number {
  try {
    return statusMiB(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
  } catch {
    return Number.NaN;
  }
}

/** What the workers reported: sends per round, closes, catch-ups. */
export class Tracker {
  readonly rounds = new Map<number, { agents: number; failed: number; lastSentAt: number; maxLagMs: number }>();
  readonly closes: { node: string; code: number; reason: string; at: number }[] = [];
  planned = 0;
  /** The round interval the aggregator's plan asked for (it may stretch the profile's with the fleet). */
  planIntervalMs = 0;
  catchUps = 0;
  stopping = false;

  on(m: WorkerReport): void {
    if (m.type === 'sent') {
      const r = this.rounds.get(m.round) ?? { agents: 0, failed: 0, lastSentAt: 0, maxLagMs: 0 };
      if (m.ok) r.agents++;
      else r.failed++;
      r.lastSentAt = Math.max(r.lastSentAt, m.at);
      r.maxLagMs = Math.max(r.maxLagMs, m.lagMs);
      this.rounds.set(m.round, r);
    } else if (m.type === 'close' && !this.stopping) this.closes.push(m);
    else if (m.type === 'planned') {
      this.planned++;
      this.planIntervalMs = m.intervalMs;
    } else if (m.type === 'catch-up') this.catchUps++;
  }
}

export interface Workers {
  kids: ChildProcess[];
  /** Every worker loaded and told to start its agents (the benchmark's clock starts here). */
  started: Promise<void>;
  stop(): Promise<void>;
}

/** `n` worker processes, the nodes dealt round-robin; each reports to `tracker`. */
export function startWorkers(n: number, cfg: Omit<WorkerStart, 'type' | 'mine'>, tracker: Tracker): Workers {
  const ready: Promise<unknown>[] = [];
  const file = fileURLToPath(new URL('./fleet-ws-worker.ts', import.meta.url));
  const names = fleetInventory(cfg.nodes, cfg.bindings).nodes.map((x) => x.name);
  const kids: ChildProcess[] = [];
  for (let w = 0; w < n; w++) {
    const kid = fork(file, [], {
      execArgv: ['--import', 'tsx', ...(process.env.FLEET_WORKER_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.FLEET_WORKER_PROF] : [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    kid.on('message', (m: WorkerReport) => tracker.on(m));
    ready.push(
      new Promise<void>((resolve, reject) => {
        kid.on('message', (m: WorkerReport) => m.type === 'ready' && resolve());
        kid.once('exit', (code) => reject(new Error(`fleet worker exited (${code}) before it was ready`)));
      }),
    );
    kids.push(kid);
  }
  const started = Promise.all(ready).then(() => {
    for (const [w, kid] of kids.entries()) kid.send({ type: 'start', mine: names.filter((_, i) => i % n === w), ...cfg } satisfies WorkerStart);
  });
  return {
    kids,
    started,
    async stop() {
      tracker.stopping = true;
      await Promise.all(
        kids.map(async (k) => {
          if (k.exitCode !== null || k.signalCode !== null) return;
          const exited = once(k, 'exit');
          k.send({ type: 'stop' });
          const t = setTimeout(() => k.pid && process.kill(k.pid, 'SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }),
      );
    },
  };
}

/** GET with its wall time; the body is read whole. */
export async function timedGet(url: string): Promise<{ ms: number; body: string }> {
  const t = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return { ms: performance.now() - t, body };
}

export interface Sample {
  at: number;
  aggCpu: number;
  /** The aggregator's main thread (JavaScript) only. */
  aggMainCpu: number;
  /** The aggregator's write system calls so far (each a send to a socket, mostly). */
  aggWrites: number;
  simCpu: number;
  rssPeakMiB: number;
  metricsMs?: number;
  series?: number;
  loopP99Ms?: number;
  /** pinger_result_rows_total at the sample. */
  rows?: number;
  /** pinger_result_pairs_unchanged_total at the sample (delta rounds). */
  unchanged?: number;
  /** pinger_result_messages_total{peers="named"} at the sample: results that named their peers (not indices). */
  named?: number;
  /** The aggregator's V8 heap in use (nodejs_heap_size_used_bytes), MiB: what of the RSS is JS objects. */
  heapMiB?: number;
  /** V8 heap committed and memory outside it (ArrayBuffers, Buffers), MiB: where the RSS goes. */
  heapTotalMiB?: number;
  externalMiB?: number;
  reportKiB?: number;
  reportMs?: number;
}

const NAMED = 'pinger_result_messages_total{peers="named"}';

/** The running totals a window is the difference of: CPU (the aggregator's, its main thread's, the workers'), write calls. */
export function counters(agg: Aggregator, workers: Workers): Pick<Sample, 'aggCpu' | 'aggMainCpu' | 'aggWrites' | 'simCpu'> {
  return {
    aggCpu: cpuOf(agg.pid),
    aggMainCpu: cpuOf(agg.pid, agg.pid),
    aggWrites: writeCallsOf(agg.pid),
    simCpu: workers.kids.reduce((a, k) => a + (k.pid ? cpuOf(k.pid) : 0), 0),
  };
}

/** One sample at a window's end: CPU of the aggregator and the workers, peak RSS, a /metrics scrape, the report. */
export async function sample(agg: Aggregator, workers: Workers): Promise<Sample> {
  const s: Sample = { at: Date.now(), ...counters(agg, workers), rssPeakMiB: peakRssMiB(agg.pid) };
  try {
    const m = await timedGet(`${agg.url}/metrics`);
    const p = parseMetrics(m.body, [
      'nodejs_eventloop_lag_p99_seconds',
      'pinger_result_rows_total',
      'pinger_result_pairs_unchanged_total',
      NAMED,
      'nodejs_heap_size_used_bytes',
      'nodejs_heap_size_total_bytes',
      'nodejs_external_memory_bytes',
    ]);
    const lag = p.values.nodejs_eventloop_lag_p99_seconds;
    const rows = p.values.pinger_result_rows_total;
    const unchanged = p.values.pinger_result_pairs_unchanged_total;
    const named = p.values[NAMED];
    const heap = p.values.nodejs_heap_size_used_bytes;
    Object.assign(s, {
      metricsMs: m.ms,
      series: p.series,
      ...(lag !== undefined ? { loopP99Ms: lag * 1000 } : {}),
      ...(rows !== undefined ? { rows } : {}),
      ...(unchanged !== undefined ? { unchanged } : {}),
      ...(named !== undefined ? { named } : {}),
      ...(heap !== undefined ? { heapMiB: heap / 2 ** 20 } : {}),
      ...(p.values.nodejs_heap_size_total_bytes !== undefined ? { heapTotalMiB: p.values.nodejs_heap_size_total_bytes / 2 ** 20 } : {}),
      ...(p.values.nodejs_external_memory_bytes !== undefined ? { externalMiB: p.values.nodejs_external_memory_bytes / 2 ** 20 } : {}),
    });
    const r = await timedGet(`${agg.url}/api/v1/report`);
    Object.assign(s, { reportMs: r.ms, reportKiB: Buffer.byteLength(r.body) / 1024 });
  } catch {
    // a busy or dead aggregator: the numbers stay absent, the table says '-'
  }
  return s;
}

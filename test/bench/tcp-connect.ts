// TCP connect-probe benchmark: N probes to a loopback listener with bounded concurrency (kept under the
// listener's backlog: with all 10k in flight the backlog overflows and SYNs are dropped -> false timeouts).
// Reports connects/s, outcomes (anything but ok is a false negative here) and TIME_WAIT left on the port.
// The listener is the agent's responder (listenTcp) in a child process, like a peer's. In the prober's own
// event loop it accepts too slowly (reset connections wait in the accept queue until accepted) and the queue
// overflows anyway (measured with a net.Server: 764 ListenOverflows per 10k, connect p99 1 s from SYN
// retransmits). A net.Server in a child also fell behind the handle-based prober (64-192 overflows a run).
// Usage: node dist/test/bench/tcp-connect.js [count=10000] [concurrency=64] [runs=5]
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tcpProbe } from '../../agent/probes/tcp.js';
import { listenTcp } from '../../agent/responders.js';

const BACKLOG = 4096; // listenTcp's

interface RunResult {
  perSec: number;
  notOk: Record<string, number>;
  timeWait: number;
  rttMed: number;
  rttP99: number;
  listenOverflows: number;
}

const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;

/** The listener: the agent's own TCP responder (listenTcp, which uses Node's TCP handles where it can). */
async function serve(): Promise<void> {
  for (let i = 0; ; i++) {
    const port = 40000 + Math.floor(Math.random() * 20000);
    try {
      await listenTcp({ binding: 'bench', address: '127.0.0.1', proto: 'tcp', port });
      process.stdout.write(`${port}\n`);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i > 50) throw e;
    }
  }
  process.stdin.on('end', () => process.exit(0)).resume(); // exits with the parent
}

async function listener(): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--listen'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
  return { port, stop: () => child.kill() };
}

/** Host-wide TcpExt ListenOverflows (accept queue full: the SYN is dropped and retransmitted after 1 s). */
function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith('TcpExt:'));
  const names = lines[i]!.split(/\s+/);
  const values = lines[i + 1]!.split(/\s+/);
  return Number(values[names.indexOf('ListenOverflows')]);
}

function timeWait(port: number): number {
  const out = execFileSync('ss', ['-Htan', 'state', 'time-wait', `( sport = :${port} or dport = :${port} )`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).length;
}

async function once(count: number, concurrency: number): Promise<RunResult> {
  const { port, stop } = await listener();
  const notOk: Record<string, number> = {};
  const rtts: number[] = [];
  let next = 0;
  const overflows0 = listenOverflows();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const r = await tcpProbe({ target: '127.0.0.1', port, timeoutMs: 2000 });
        if (r.outcome === 'ok') rtts.push(r.rttMs!);
        else notOk[`${r.outcome}:${r.detail}`] = (notOk[`${r.outcome}:${r.detail}`] ?? 0) + 1;
      }
    }),
  );
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const overflows = listenOverflows() - overflows0;
  stop();
  rtts.sort((a, b) => a - b);
  return {
    perSec: count / sec,
    notOk,
    timeWait: timeWait(port),
    listenOverflows: overflows,
    rttMed: rtts[(rtts.length - 1) >> 1] ?? NaN,
    rttP99: rtts[Math.ceil(rtts.length * 0.99) - 1] ?? NaN,
  };
}

async function main(): Promise<void> {
  const [count = 10_000, concurrency = 64, runs = 5] = process.argv.slice(2).map(Number);
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await once(count, concurrency);
    results.push(r);
    const bad =
      Object.entries(r.notOk)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || 'none';
    console.log(
      `run ${i + 1}: ${r.perSec.toFixed(0)} connects/s, not ok: ${bad}, TIME_WAIT left: ${r.timeWait}, ` +
        `listen overflows: ${r.listenOverflows}, ` +
        `connect rtt median ${r.rttMed.toFixed(3)} ms p99 ${r.rttP99.toFixed(3)} ms`,
    );
  }
  const falseTimeouts = results.map((r) =>
    Object.entries(r.notOk)
      .filter(([k]) => k.startsWith('filtered'))
      .reduce((a, [, v]) => a + v, 0),
  );
  console.log(
    `median of ${runs} runs (${count} probes, concurrency ${concurrency}, backlog ${BACKLOG}): ` +
      `${med(results.map((r) => r.perSec)).toFixed(0)} connects/s, false timeouts max ${Math.max(...falseTimeouts)}, ` +
      `TIME_WAIT max ${Math.max(...results.map((r) => r.timeWait))}, ` +
      `listen overflows median ${med(results.map((r) => r.listenOverflows))}, ` +
      `connect rtt median ${med(results.map((r) => r.rttMed)).toFixed(3)} ms, p99 ${med(results.map((r) => r.rttP99)).toFixed(3)} ms`,
  );
}

if (process.argv[2] === '--listen') await serve();
else await main();

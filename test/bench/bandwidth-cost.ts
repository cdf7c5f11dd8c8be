// The bandwidth sample's cost on the sending agent at 100 peers, and the most link capacity it may take.
// The sinks of 100 peers (127.78.0.2-101) run in a child process, as on other nodes; this process is node 1
// and does its turns (sendSample to the peers peersFor picks), measuring its own CPU (process.cpuUsage) and
// the bytes it hands the kernel. Beside it, iperf3 (when installed) sends the same rate for the same time,
// its sender CPU from its own report (-J cpu_utilization_percent.host_total).
//   node --import tsx test/bench/bandwidth-cost.ts [--turns 5] [--rate 1000] [--seconds 2] [--peers 1]
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sendSample } from '../../agent/bandwidth.js';
import { cycleSlots, median, nextTurnStart, peersFor, slotMs, turnAt, type BandwidthPlan } from '../../agent/bandwidth-schedule.js';
import { listenSink } from '../../agent/bandwidth-sink.js';

const { values } = parseArgs({
  options: {
    turns: { type: 'string', default: '5' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '2' },
    peers: { type: 'string', default: '1' },
    concurrent: { type: 'string', default: '2' },
    sinks: { type: 'boolean', default: false },
  },
});
const PEERS = 100;
const PORT = 45211;
const addr = (i: number) => `127.78.0.${i + 1}`;
const plan: BandwidthPlan = {
  port: PORT,
  rateMbps: Number(values.rate),
  seconds: Number(values.seconds),
  peers: Number(values.peers),
  concurrent: Number(values.concurrent),
};

if (values.sinks) {
  for (let i = 1; i <= PEERS; i++)
    await listenSink({ address: addr(i), port: PORT, maxMs: plan.seconds * 1000, maxBytes: ((plan.rateMbps * 1e6) / 8) * plan.seconds * 2 + 1e6 });
  process.stdout.write('ready\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--sinks', '--rate', String(plan.rateMbps), '--seconds', String(plan.seconds)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await new Promise<void>((r) => child.stdout.once('data', () => r()));
  const nodes = PEERS + 1;
  const turns: { cpuMs: number; bytes: number; wallMs: number; mbps: number[] }[] = [];
  for (let t = 0; t < Number(values.turns); t++) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    let bytes = 0;
    const mbps: number[] = [];
    for (const k of peersFor(0, nodes, t, plan.peers)) {
      const r = await sendSample(addr(k), PORT, plan);
      if (!r.sample) throw new Error(`sample to ${addr(k)}: ${r.error}`);
      bytes += r.sentBytes;
      mbps.push(r.sample.mbps);
    }
    const c = process.cpuUsage(c0);
    turns.push({ cpuMs: (c.user + c.system) / 1000, bytes, wallMs: performance.now() - w0, mbps });
  }
  child.stdin.end();
  // The scheduler's own work per decision (where am I, whom next, when next), at 101 nodes.
  const n = 200_000;
  const s0 = performance.now();
  let x = 0;
  for (let i = 0; i < n; i++)
    x += (turnAt(i * 997, i % nodes, nodes, plan)?.turn ?? 0) + peersFor(i % nodes, nodes, i, plan.peers)[0]! + nextTurnStart(i * 997, i % nodes, nodes, plan);
  const schedUs = ((performance.now() - s0) * 1000) / n;

  // iperf3 sending the same rate for the same time over loopback (its sender's CPU as it reports it).
  const iperf: { cpuMs: number; bytes: number }[] = [];
  let hasIperf = true;
  try {
    execFileSync('iperf3', ['--version']);
  } catch {
    hasIperf = false;
  }
  if (hasIperf) {
    for (let t = 0; t < Number(values.turns); t++) {
      const srv = spawn('iperf3', ['-s', '-1', '-B', addr(1), '-p', String(PORT + 1)], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 300));
      const out = JSON.parse(
        execFileSync('iperf3', ['-c', addr(1), '-p', String(PORT + 1), '-b', `${plan.rateMbps}M`, '-t', String(plan.seconds), '-J']).toString(),
      );
      srv.kill();
      iperf.push({ cpuMs: (out.end.cpu_utilization_percent.host_total / 100) * plan.seconds * 1000 * plan.peers, bytes: out.end.sum_sent.bytes * plan.peers });
    }
  }

  const m = cycleSlots(nodes, plan.concurrent);
  const slot = slotMs(plan);
  const intervalMs = Math.max(10_000, nodes * 40); // the fleet interval at 101 nodes (profile.ts fleetIntervalMs)
  const turnsPerRound = intervalMs / (slot * m);
  const cpuTurn = median(turns.map((t) => t.cpuMs))!;
  const bytesTurn = median(turns.map((t) => t.bytes))!;
  const avgShare = (plan.rateMbps * plan.peers * plan.seconds * 1000) / (slot * m); // Mb/s sent, averaged over a cycle
  const load = execFileSync('cat', ['/proc/loadavg']).toString().trim();
  console.log(JSON.stringify({ plan, nodes, slotMs: slot, cycleSlots: m, cycleS: (slot * m) / 1000, turnsPerRound }));
  console.log(
    `per turn (${plan.peers} sample(s) of ${plan.seconds} s at ${plan.rateMbps} Mb/s), median of ${turns.length}: CPU ${cpuTurn.toFixed(1)} ms, sent ${(bytesTurn / 1e6).toFixed(1)} MB, measured ${median(turns.flatMap((t) => t.mbps))!.toFixed(0)} Mb/s; CPU per turn ${turns.map((t) => t.cpuMs.toFixed(0)).join(', ')} ms`,
  );
  console.log(
    `per probe round (${intervalMs / 1000} s, ${turnsPerRound.toFixed(3)} turns): CPU ${(cpuTurn * turnsPerRound).toFixed(2)} ms, sent ${((bytesTurn * turnsPerRound) / 1e6).toFixed(2)} MB`,
  );
  console.log(`scheduler: ${schedUs.toFixed(2)} us per decision`);
  if (iperf.length) {
    const ic = median(iperf.map((t) => t.cpuMs))!;
    console.log(
      `iperf3 sender, same rate and time, median of ${iperf.length}: CPU ${ic.toFixed(1)} ms, sent ${(median(iperf.map((t) => t.bytes))! / 1e6).toFixed(1)} MB; Pinger/iperf3 CPU ${(cpuTurn / ic).toFixed(2)}x; iperf3 CPU ${iperf.map((t) => t.cpuMs.toFixed(0)).join(', ')} ms`,
    );
  }
  console.log(
    `link share as sender: peak ${plan.rateMbps} Mb/s; average ${avgShare.toFixed(2)} Mb/s = rate_cap x peers x seconds / (slot x cycle) = ${plan.rateMbps} x ${plan.peers} x ${plan.seconds} / (${slot / 1000} x ${m}); on 10G: ${((plan.rateMbps / 10_000) * 100).toFixed(1)}% peak, ${((avgShare / 10_000) * 100).toFixed(3)}% average; inbound peak ${plan.concurrent} x ${plan.rateMbps} Mb/s`,
  );
  console.log(`load average: ${load}; ${new Date().toISOString()}`);
}

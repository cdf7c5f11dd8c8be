// How many series /metrics exposes for 10, 100 and 1,000 simulated nodes x 6 bindings, healthy and with
// faults, and what a scrape costs. An AggregatorState is fed synthetic hello/results messages directly (no
// network); /metrics is read through the real fastify app with inject(). Times are medians of 5 scrapes.
// Run: node --import tsx test/bench/metrics-series.ts [nodes ...]   (default 10 100 1000)
import { buildServer } from '../../aggregator/server.js';
import { synthFleet, type FaultFn } from '../metrics/synth.js';

const scenarios: { name: string; fault: (n: number) => FaultFn | undefined }[] = [
  { name: 'healthy', fault: () => undefined },
  {
    // Ten broken pairs on one binding: what an operator typically sees.
    name: '10 failing pairs',
    fault: () => (b, from, to) => (b === 'internal' && from === 'node-1' && Number(to.slice(5)) <= 11 ? 'port' : undefined),
  },
  {
    // One node cut off on one binding: 2(n-1) failing pairs, the pair-series cap kicks in above 100.
    name: 'node-1 isolated on internal',
    fault: () => (b, from, to) => (b === 'internal' && (from === 'node-1' || to === 'node-1') ? 'unreachable' : undefined),
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measure(nodes: number, fault: FaultFn | undefined) {
  const f = synthFleet(nodes);
  const app = await buildServer({ state: f.state, token: 't', logLevel: 'warn' });
  try {
    const t0 = Date.now();
    f.feed({ rounds: 1, ...(fault ? { fault } : {}) });
    const feedS = (Date.now() - t0) / 1000;
    const snapTimes: number[] = [];
    const times: number[] = [];
    let body = '';
    for (let i = 0; i < 5; i++) {
      // Findings and the verdict (state.snapshot(), shared with the report) are timed apart from the
      // metrics themselves: the scrape below reuses the snapshot just computed.
      f.clock.t += 2000;
      f.state.changed();
      let s = process.hrtime.bigint();
      f.state.snapshot();
      snapTimes.push(Number(process.hrtime.bigint() - s) / 1e6);
      s = process.hrtime.bigint();
      body = (await app.inject('/metrics')).body;
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    const series = body.split('\n').filter((l) => l && !l.startsWith('#'));
    const pinger = series.filter((l) => l.startsWith('pinger_'));
    const pair = pinger.filter((l) => l.startsWith('pinger_pair_'));
    return {
      series: series.length,
      pinger: pinger.length,
      pair: pair.length,
      bytes: body.length,
      scrapeMs: median(times),
      snapshotMs: median(snapTimes),
      feedS,
    };
  } finally {
    await app.close();
  }
}

const sizes = process.argv.slice(2).map(Number);
const rows: string[] = [
  '| nodes | scenario | series | pinger_* | pair series | body KiB | /metrics ms | snapshot ms |',
  '|---:|---|---:|---:|---:|---:|---:|---:|',
];
for (const n of sizes.length ? sizes : [10, 100, 1000]) {
  for (const sc of scenarios) {
    const r = await measure(n, sc.fault(n));
    rows.push(
      `| ${n} | ${sc.name} | ${r.series} | ${r.pinger} | ${r.pair} | ${(r.bytes / 1024).toFixed(0)} | ${r.scrapeMs.toFixed(1)} | ${r.snapshotMs.toFixed(0)} |`,
    );
    process.stderr.write(`${n} nodes, ${sc.name}: ${r.series} series (fed in ${r.feedS.toFixed(1)} s)\n`);
  }
}
console.log(rows.join('\n'));

// Aggregator ingest at fleet scale: how long one full round of a 1,000-node x 6-binding fleet takes to go
// through state.results (the matrix), and how long the findings/verdict snapshot and the report take. With `tally`,
// the /metrics route's probe tally listens to every results message, as it does in the aggregator.
// Usage: node --import tsx test/bench/aggregator-ingest.ts [nodes] [rounds] [tally]
import { rowCount } from '../../agent/contract/wire-packed.js';
import { ProbeTally } from '../../aggregator/metrics.js';
import { synthFleet, roundFor, helloFor } from '../metrics/synth.js';

const nodes = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 1);
const f = synthFleet(nodes);
if (process.argv[4] === 'tally') {
  const tally = new ProbeTally(f.inv.bindings);
  f.state.on('results', (m) => tally.observe(m, (peers) => f.state.nodes.upOf(peers))); // as routes/metrics.ts
}
for (const n of f.inv.nodes) f.state.hello(helloFor(f.inv, n.name));
f.clock.t += 1000;
for (let k = 0; k < rounds; k++) {
  // Messages are made one at a time, as they arrive from agents, and only ingest is timed.
  let rows = 0;
  let ingestMs = 0;
  for (const n of f.inv.nodes) {
    const m = roundFor(f.inv, n.name, k);
    for (const r of Object.values(m.bindings)) rows += rowCount(r);
    const a = performance.now();
    f.state.results(m);
    ingestMs += performance.now() - a;
  }
  const t0 = 0;
  const t1 = ingestMs;
  f.clock.t += 2000;
  const s0 = performance.now();
  const s = f.state.snapshot();
  const t2 = performance.now();
  const rep = JSON.stringify(f.state.report('states'));
  const t3 = performance.now();
  console.log(
    `nodes=${nodes} rows=${rows} ingest=${((t1 - t0) / 1000).toFixed(2)}s (${Math.round(rows / ((t1 - t0) / 1000))} rows/s) snapshot=${(t2 - s0).toFixed(0)}ms verdict=${s.verdict} report=${(t3 - t2).toFixed(0)}ms (${(rep.length / 1e6).toFixed(1)} MB) rss=${Math.round(process.memoryUsage().rss / 1e6)}MB`,
  );
}
f.state.close();

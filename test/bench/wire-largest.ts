// The largest round end to end in one process: a 1,000-node x 6-binding fleet's full round, every agent's
// results message(s) as the wire carries them, through decode (JSON + checks), the matrix ingest and the metrics
// tally, then one snapshot (findings, verdict). Prints CPU seconds of the aggregator's part (message encoding,
// which the agents do, is not counted). Usage: node --import tsx test/bench/wire-largest.ts [nodes] [rounds]
import { decodeAgentMessage, encode } from '../../agent/contract/wire.js';
import { ProbeTally } from '../../aggregator/metrics.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { AggregatorState } from '../../aggregator/state.js';
import { resultsMessages } from '../../agent/results-msg.js';
import { helloFor, rowsFor, synthInventory } from '../metrics/synth.js';

const nodes = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 2);
const inv = synthInventory(nodes);
const clock = { t: 1_000_000 };
const state = new AggregatorState({ inventory: inv, profile: builtinProfile('openstack'), now: () => clock.t });
const tally = new ProbeTally(inv.bindings);
state.on('results', (msg) => tally.observe(msg));
for (const n of inv.nodes) state.hello(helloFor(inv, n.name));
const cpu = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
for (let k = 0; k < rounds; k++) {
  clock.t += 1000;
  let bytes = 0;
  let cpuS = 0;
  let wallMs = 0;
  for (const n of inv.nodes) {
    // As the agent sends it: its one encoder splits the round into messages (agent/results-msg.ts).
    const texts = resultsMessages({ node: n.name, round: k, durationMs: 100, startedAt: clock.t, bindings: rowsFor(inv, n.name) }).map(encode);
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    for (const text of texts) {
      bytes += text.length;
      const d = decodeAgentMessage(text);
      if (!d.ok || d.msg.type !== 'results') throw new Error(d.ok ? 'not results' : d.error);
      state.results(d.msg);
    }
    wallMs += performance.now() - w0;
    cpuS += cpu(process.cpuUsage(c0));
  }
  clock.t += 2000;
  const c0 = process.cpuUsage();
  const s = state.snapshot(0);
  const snapS = cpu(process.cpuUsage(c0));
  console.log(
    `round ${k}: nodes=${nodes} x ${inv.bindings.length} bindings, ${(bytes / 1e6).toFixed(0)} MB of results; decode+ingest+tally ${cpuS.toFixed(2)} s CPU (${(wallMs / 1000).toFixed(2)} s wall), snapshot ${snapS.toFixed(2)} s CPU, verdict=${s.verdict}, rss=${Math.round(process.memoryUsage().rss / 1e6)} MB`,
  );
}
state.close();

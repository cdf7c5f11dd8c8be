// What a /metrics scrape costs at fleet scale, above all the first one after a fleet has connected: in the fleet
// benchmark with link facts (fleet-ws.ts --links) that scrape took 80-135 ms where later ones took 45-79 ms
// (BENCHMARKS.md AFTER 12), since every node's state and link series are new to it. In-process, through the real
// route (inject): one scrape before any agent, then hellos (with a bonded node's link facts) and a round of results
// from every node, then the first scrape, then one more round and a second scrape, the snapshot rebuilt before each
// (as the report's pollers do). It also times the hellos themselves: the link lines are formatted when a hello
// comes (link-metrics.ts), so what the first scrape saves they pay. Each run is a fresh state and app in the same
// process (the first run also meets cold code; the median leaves that out).
// Usage: node --import tsx test/bench/scrape-cost.ts [nodes] [links] [runs]
import { AggregatorState } from '../../aggregator/state.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { buildServer } from '../../aggregator/server.js';
import { helloFor, roundFor, synthInventory } from '../metrics/synth.js';
import { simLinks } from './fleet-lib.js';

const nodes = Number(process.argv[2] ?? 1000);
const links = process.argv[3] === 'links';
const runs = Number(process.argv[4] ?? 7);
const inv = synthInventory(nodes);

/** One fleet start: a fresh state and app, so every node's state and link series are new to the first scrape. */
async function once(): Promise<{ first: number; next: number; series: number; hellosMs: number }> {
  const clock = { t: 1_000_000 };
  const state = new AggregatorState({ inventory: inv, profile: builtinProfile('openstack'), now: () => clock.t });
  const app = await buildServer({ state, token: 'scrape-cost', logLevel: 'silent' });
  const scrape = async () => {
    const t = performance.now();
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    const ms = performance.now() - t;
    if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
    return { ms, series: res.body.split('\n').filter((l) => l && !l.startsWith('#')).length };
  };
  await scrape();
  const hellos = inv.nodes.map((n) => {
    const h = helloFor(inv, n.name);
    return { ...h, interfaces: h.interfaces.map((i) => ({ ...i, mtu: 9000 })), ...(links ? { links: simLinks(n), lldp: 'ok' as const } : {}) };
  });
  // The hellos' own cost at the aggregator: the state, and the metrics' work done ahead of the scrape (link lines).
  const h0 = performance.now();
  for (const h of hellos) state.hello(h);
  const hellosMs = performance.now() - h0;
  clock.t += 1000;
  for (const n of inv.nodes) state.results(roundFor(inv, n.name, 0));
  clock.t += 10_000;
  // The snapshot apart: the report's pollers usually rebuilt it before a scrape comes.
  state.snapshot();
  const first = await scrape();
  for (const n of inv.nodes) state.results(roundFor(inv, n.name, 1));
  clock.t += 10_000;
  state.snapshot();
  const next = await scrape();
  await app.close();
  state.close();
  return { first: first.ms, next: next.ms, series: first.series, hellosMs };
}

const firsts: number[] = [];
const nexts: number[] = [];
const hellos: number[] = [];
let series = 0;
for (let k = 0; k < runs; k++) {
  const r = await once();
  firsts.push(r.first);
  nexts.push(r.next);
  hellos.push(r.hellosMs);
  series = r.series;
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
console.log(
  `nodes=${nodes}${links ? ' with link facts' : ''}, ${series} series: first scrape after a fleet connected median ${med(firsts).toFixed(1)} ms (${f(firsts)}), the next after a round median ${med(nexts).toFixed(1)} ms (${f(nexts)}); the ${nodes} hellos median ${med(hellos).toFixed(1)} ms (${f(hellos)})`,
);

// What one poll of a changed state costs the aggregator at fleet scale: the snapshot (findings, verdict), the
// report without matrix and link facts (what the page and the fleet benchmark poll) and its bytes. During a round
// every poll finds new results, so each one rebuilds all three. In-process, no network: a synthetic 1,000 x 6
// fleet under the openstack profile, each poll after 100 more nodes' results (a round's tenth).
// Usage: node --import tsx test/bench/poll-cost.ts [nodes] [polls] [links] [states]   (links: hellos carry a bonded
// node's link facts, as fleet-ws.ts --links sends them; states: the default report, with the state matrix, as
// GET /api/v1/report without a query and the fleet benchmark's end-of-round fetch ask for it)
import { AggregatorState } from '../../aggregator/state.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { reportBody } from '../../aggregator/routes/api.js';
import { helloFor, roundFor, synthInventory } from '../metrics/synth.js';
import { simLinks } from './fleet-lib.js';

const nodes = Number(process.argv[2] ?? 1000);
const polls = Number(process.argv[3] ?? 60);
const links = process.argv.slice(4).includes('links');
const detail = process.argv.slice(4).includes('states') ? 'states' : 'none';
const inv = synthInventory(nodes);
const clock = { t: 1_000_000 };
const state = new AggregatorState({ inventory: inv, profile: builtinProfile('openstack'), now: () => clock.t });
// Jumbo frames everywhere, as the openstack profile asks of its storage bindings: a healthy fleet.
for (const n of inv.nodes) {
  const h = helloFor(inv, n.name);
  state.hello({ ...h, interfaces: h.interfaces.map((i) => ({ ...i, mtu: 9000 })), ...(links ? { links: simLinks(n), lldp: 'ok' as const } : {}) });
}
clock.t += 1000;
let round = 0;
for (const n of inv.nodes) state.results(roundFor(inv, n.name, round));
round++;

const step = Math.max(1, Math.round(nodes / 10));
const times = { snapshot: [] as number[], report: [] as number[], bytes: [] as number[] };
let at = 0;
let size = 0;
const heap0 = process.memoryUsage().heapUsed;
for (let k = 0; k < polls; k++) {
  for (let i = 0; i < step; i++) {
    state.results(roundFor(inv, inv.nodes[at]!.name, round));
    if (++at === nodes) (at = 0), round++;
  }
  clock.t += 1001;
  const a = performance.now();
  state.snapshot();
  const b = performance.now();
  const r = state.report(detail);
  const c = performance.now();
  size = reportBody(r, detail === 'states').length;
  const d = performance.now();
  times.snapshot.push(b - a);
  times.report.push(c - b);
  times.bytes.push(d - c);
}
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
console.log(
  `nodes=${nodes}${links ? ' with link facts' : ''} report=${detail} polls=${polls} snapshot=${med(times.snapshot).toFixed(2)}ms report=${med(times.report).toFixed(2)}ms bytes=${med(times.bytes).toFixed(2)}ms (medians) body=${(size / 1024).toFixed(0)}KiB heap delta=${((process.memoryUsage().heapUsed - heap0) / 1e6).toFixed(0)}MB`,
);
state.close();

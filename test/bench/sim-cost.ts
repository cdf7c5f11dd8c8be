// What the fleet benchmark's simulator (test/bench/fleet-ws-worker.ts) spends per row of a round, outside any
// socket: the rows of a round (the agent's targetsOf and the shared healthy rows), the delta split, the results
// messages (the agent's packing into the peer set) and their binary frames. The simulator runs 1,000 agents on
// the aggregator's 2 cores, so what it costs is taken from the aggregator it measures.
// Usage: node --import tsx test/bench/sim-cost.ts [agents per rep] [reps]
import { builtinProfile, planFor } from '../../aggregator/profile.js';
import { PeerSet } from '../../agent/contract/peer-set.js';
import { encodeResultsFrame } from '../../agent/contract/wire-binary.js';
import { RowMemory } from '../../agent/delta.js';
import { resultsMessages } from '../../agent/results-msg.js';
import { fleetInventory, RowTable, roundRows } from './fleet-lib.js';

const agents = Number(process.argv[2] ?? 200);
const reps = Number(process.argv[3] ?? 5);
const inv = fleetInventory(1000, 6);
const plan = planFor(builtinProfile('openstack'), inv);
const table = new RowTable();
const set = new PeerSet(inv.nodes);
for (let rep = 0; rep < reps; rep++) {
  const t = { rows: 0, split: 0, messages: 0, frames: 0 };
  let rows = 0;
  for (const self of inv.nodes.slice(0, agents)) {
    let a = performance.now();
    const r = roundRows(table, plan, inv.nodes, self, rep, undefined, 0.05);
    t.rows += performance.now() - a;
    for (const l of Object.values(r)) rows += l.length;
    a = performance.now();
    const { changed, same } = new RowMemory().split(r, Date.now());
    t.split += performance.now() - a;
    a = performance.now();
    const msgs = resultsMessages({ node: self.name, round: rep, durationMs: 1, startedAt: Date.now(), bindings: changed, same }, 5000, set);
    t.messages += performance.now() - a;
    a = performance.now();
    for (const m of msgs) encodeResultsFrame(m);
    t.frames += performance.now() - a;
  }
  const us = (ms: number) => ((ms * 1000) / rows).toFixed(2);
  console.log(`${rows} rows: rows ${us(t.rows)} us a row, delta split ${us(t.split)}, results messages ${us(t.messages)}, frames ${us(t.frames)}`);
}

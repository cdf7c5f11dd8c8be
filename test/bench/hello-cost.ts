// Cost of a hello at the aggregator (decode: size and depth checks, JSON.parse, the zod schema) for the hellos a
// fleet's start sends: each agent says hello twice (before its plan, then with its responders open and its DNS
// answers), so a 1,000-node start is 2,000 hellos. Usage: node --import tsx test/bench/hello-cost.ts
import { decodeAgentMessage, encode } from '../../agent/contract/wire.js';
import { builtinProfile, planFor } from '../../aggregator/profile.js';
import { fleetInventory, simHello } from './fleet-lib.js';

const inv = fleetInventory(1000, 6);
const plan = planFor(builtinProfile('openstack'), inv);
const self = inv.nodes[7]!;
// The third: the second as a bonded node's agent sends it, with its link facts (fleet-ws --links).
const hellos = [simHello(self), simHello(self, plan, true), simHello(self, plan, true, true)].map((h) => Buffer.from(encode(h)));
for (const [i, h] of hellos.entries()) {
  const runs: number[] = [];
  for (let k = 0; k < 7; k++) {
    const t = performance.now();
    for (let j = 0; j < 200; j++) if (!decodeAgentMessage(h).ok) throw new Error('refused');
    runs.push((performance.now() - t) / 200);
  }
  runs.sort((a, b) => a - b);
  console.log(`hello ${i === 2 ? '2 with link facts' : `${i + 1} of 2`}: ${h.length} bytes, decode median ${(runs[3]! * 1000).toFixed(0)} us`);
}

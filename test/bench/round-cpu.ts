// CPU one agent spends on one probe round, both sides of it: probing N peers x B bindings (ICMP echoes and
// TCP connects, the lab benchmark's plan) and answering as many connects on its own responders, all on
// loopback (127.77.b.p). In a fleet every agent does both each interval, so this is what caps how many agents
// share a core. Run as root for ICMP: node --import tsx test/bench/round-cpu.ts [--peers 49] [--rounds 10]
import { parseArgs } from 'node:util';
import type { InventoryNode } from '../../agent/contract/inventory.js';
import { defaultProbes } from '../../agent/probes/index.js';
import { listenTcp } from '../../agent/responders.js';
import { runRound } from '../../agent/round.js';
import type { ProbePlan } from '../../agent/contract/wire.js';

const { values } = parseArgs({ options: { peers: { type: 'string', default: '49' }, rounds: { type: 'string', default: '10' } } });
const peers = Number(values.peers);
const bindings: Record<string, number[]> = { internal: [5000, 8774], 'shared-db': [3306], 'ceph-cluster': [6800] };
const names = Object.keys(bindings);
const addr = (b: number, p: number) => `127.77.${b + 1}.${p + 1}`;
const nodes: InventoryNode[] = Array.from({ length: peers + 1 }, (_, p) => ({
  name: `node-${p + 1}`,
  addresses: Object.fromEntries(names.map((b, i) => [b, [addr(i, p)]])),
}));
const plan: ProbePlan = {
  profile: 'bench',
  intervalMs: 10_000,
  timeoutMs: 1000,
  icmpCount: 3,
  bindings: Object.fromEntries(names.map((b) => [b, { tcp: bindings[b]!, udp: [] }])),
};

// Every peer's responders (one listener per address and port), in this process like an agent's.
const listeners = [];
for (let p = 1; p <= peers; p++)
  for (const [i, b] of names.entries())
    for (const port of bindings[b]!) listeners.push(await listenTcp({ binding: b, address: addr(i, p), proto: 'tcp', port }));

const probes = defaultProbes();
const perRound: { userMs: number; sysMs: number; wallMs: number }[] = [];
for (let r = 0; r < Number(values.rounds) + 1; r++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const rows = await runRound({ self: nodes[0]!, peers: nodes, plan, probes, concurrency: 64 });
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const bad = Object.values(rows)
    .flat()
    .filter((x) => x.icmp?.outcome === 'filtered' || Object.values(x.tcp ?? {}).some((o) => o !== 'ok'));
  if (bad.length) console.log(`round ${r}: ${bad.length} rows not ok, e.g. ${JSON.stringify(bad[0])}`);
  if (r > 0) perRound.push({ userMs: c.user / 1000, sysMs: c.system / 1000, wallMs }); // round 0 warms up the JIT
  await new Promise((res) => setTimeout(res, 200));
}
const med = (k: 'userMs' | 'sysMs' | 'wallMs') => [...perRound.map((x) => x[k])].sort((a, b) => a - b)[perRound.length >> 1]!;
const targets = peers * names.length;
console.log(
  `round of ${targets} targets (${plan.icmpCount} echoes each, ${(targets / names.length) * 4} connects), ${perRound.length} rounds, medians: user ${med('userMs').toFixed(1)} ms, sys ${med('sysMs').toFixed(1)} ms, wall ${med('wallMs').toFixed(1)} ms; ${((med('userMs') + med('sysMs')) / targets).toFixed(2)} ms CPU per target`,
);
for (const l of listeners) await l.close();
process.exit(0);

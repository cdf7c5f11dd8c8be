// Time from starting the agents to the final verdict in the namespace lab (default 50 nodes x 3 spaces),
// healthy and with one fault. Target: the verdict within the probe timeout plus 2 s of the last agent
// connecting. Run as root: node --import tsx test/bench/lab-verdict.ts [--nodes 50] [--spaces 3] [--runs 3] [--runtime bundle|dist|tsx]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Report } from '../../aggregator/report.js';
import type { Fault } from '../lab/faults.js';
import { Lab } from '../lab/lab.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '50' },
    spaces: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    runtime: { type: 'string', default: 'bundle' },
    cases: { type: 'string', default: 'healthy,fault,late' },
    trace: { type: 'boolean', default: false },
    'agent-node-args': { type: 'string', default: '' }, // e.g. "--cpu-prof --cpu-prof-dir=/tmp/p" (space-separated)
    'agent-node-args-for': { type: 'string', default: 'node-25' }, // the one agent that gets them // print every change of verdict, node states and findings
  },
});
const nodes = Number(values.nodes);
const spaceNames = ['internal', 'shared-db', 'ceph-cluster', 'overlay', 'amqp'].slice(0, Number(values.spaces));
const spaces = spaceNames.map((name) => ({ name }));
const profile = new URL('./lab-profile.yaml', import.meta.url).pathname;
const TIMEOUT_MS = 1000; // lab-profile.yaml's probe timeout

interface Case {
  key: string;
  name: string;
  faults: Fault[];
  final: (r: Report) => boolean;
  /** Start every agent but the last, let the fleet settle, then start the last one and time from it. */
  late?: boolean;
}
const allCases: Case[] = [
  { key: 'healthy', name: 'healthy', faults: [], final: (r) => r.verdict === 'ready' },
  { key: 'late', name: 'healthy, one agent started after the others settled', faults: [], final: (r) => r.verdict === 'ready', late: true },
  {
    key: 'fault',
    name: 'port-filtered node-7 shared-db 3306',
    faults: [{ kind: 'port-filtered', node: 'node-7', space: 'shared-db', port: 3306 }],
    final: (r) => r.verdict === 'not-ready' && r.findings.length === 1 && r.findings[0]!.kind === 'port-filtered' && r.findings[0]!.nodes.join() === 'node-7',
  },
];
const cases = values.cases.split(',').map(
  (k) =>
    allCases.find((c) => c.key === k) ??
    (() => {
      throw new Error(`--cases: unknown case ${k} (healthy, fault, late)`);
    })(),
);

interface Run {
  spawnMs: number; // first to last agent spawned
  connectedMs: number; // first spawn to the last agent connected (every node no longer "missing")
  verdictMs: number; // first spawn to the final verdict
  afterLastMs: number; // last agent connected to the final verdict: the target figure
}

async function once(c: Case): Promise<Run> {
  const lab = await Lab.create({
    nodes,
    spaces,
    profile,
    faults: c.faults,
    runtime: values.runtime as 'dist' | 'tsx' | 'bundle',
    startAgents: false,
    agentNodeArgs: (n) => (n === values['agent-node-args-for'] ? values['agent-node-args'].split(' ').filter(Boolean) : []),
  });
  try {
    const last = lab.nodes.at(-1)!;
    if (c.late) {
      for (const n of lab.nodes) if (n !== last) lab.startAgent(n);
      for (const t = Date.now(); ; ) {
        const r = await lab.report('?matrix=none');
        if (r.nodes.filter((n) => n.state === 'reporting' && n.rounds > 0).length === nodes - 1) break;
        if (Date.now() - t > 240_000) throw new Error('the first agents did not all report within 240 s');
        await new Promise((res) => setTimeout(res, 500));
      }
      await new Promise((res) => setTimeout(res, 20_000)); // the start-up storm is over: rounds at their interval
    }
    const t0 = Date.now();
    if (c.late) lab.startAgent(last);
    else lab.startAgents();
    const spawned = Date.now();
    let connected = 0;
    let lastTrace = '';
    for (;;) {
      const r = await lab.report('?matrix=none');
      const now = Date.now();
      if (values.trace) {
        const count = (xs: string[]) => [...new Set(xs)].map((k) => `${k} x${xs.filter((x) => x === k).length}`).join(', ');
        const states = count(r.nodes.map((n) => n.state));
        const kinds = count(r.findings.map((f) => f.kind));
        const line = `${r.verdict} | ${states} | ${kinds} | ${r.summary}`;
        if (line !== lastTrace) console.log(`    +${now - t0} ms ${line} (load ${loadavg()[0]!.toFixed(1)})`);
        lastTrace = line;
      }
      if (!connected && r.nodes.every((n) => n.state !== 'missing')) {
        connected = now;
        if (values.trace) console.log(`    +${now - t0} ms all connected; ${cpuLine(lab)}`);
      }
      if (connected && c.final(r) && values.trace) {
        const ms = r.nodes.map((n) => n.lastRoundMs ?? 0).sort((a, b) => a - b);
        const rounds = r.nodes.map((n) => n.rounds).sort((a, b) => a - b);
        console.log(
          `    +${now - t0} ms final; ${cpuLine(lab)}; last full round per node: median ${ms[ms.length >> 1]} ms, max ${ms.at(-1)} ms; full rounds per node: ${rounds[0]}-${rounds.at(-1)}`,
        );
      }
      if (connected && c.final(r)) return { spawnMs: spawned - t0, connectedMs: connected - t0, verdictMs: now - t0, afterLastMs: now - connected };
      if (now - t0 > 240_000) throw new Error(`no final verdict after 240 s: ${r.verdict} ${r.summary}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    // A profiled agent writes its profile only when it exits by itself (down() kills agents outright).
    if (values['agent-node-args']) await lab.stopAgent(values['agent-node-args-for']);
    await lab.down();
  }
}

/** CPU seconds (user, system) a process has used so far, from /proc (0 once it is gone). */
function cpuOf(pid: number | undefined): [number, number] {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return [Number(f[11]) / 100, Number(f[12]) / 100]; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return [0, 0];
  }
}

function cpuLine(lab: Lab): string {
  const agents = [...lab.agents.values()].map((a) => cpuOf(a.child.pid));
  const sum = agents.reduce((s, [u, k]) => [s[0] + u, s[1] + k], [0, 0]);
  const agg = cpuOf(lab.aggregator?.child.pid);
  const self = process.cpuUsage();
  return `CPU so far: ${agents.length} agents user ${sum[0]!.toFixed(1)} s + sys ${sum[1]!.toFixed(1)} s (per agent ${((sum[0]! + sum[1]!) / agents.length).toFixed(2)} s); aggregator ${agg[0].toFixed(1)} + ${agg[1].toFixed(1)} s; this bench ${(self.user / 1e6).toFixed(1)} + ${(self.system / 1e6).toFixed(1)} s`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `lab verdict benchmark: ${nodes} nodes x ${spaces.length} spaces (${spaceNames.join(', ')}), runtime ${values.runtime}, ${values.runs} runs per case, ${new Date().toISOString()}`,
);
for (const c of cases) {
  const runs: Run[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    let r: Run;
    try {
      r = await once(c);
    } catch (err) {
      console.log(
        `  ${c.name} run ${i + 1} (load average ${loadavg()
          .map((x) => x.toFixed(1))
          .join(' ')}): FAILED: ${(err as Error).message}`,
      );
      continue;
    }
    runs.push(r);
    console.log(
      `  ${c.name} run ${i + 1} (load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(
          ' ',
        )}): agents spawned in ${r.spawnMs} ms, all connected at ${r.connectedMs} ms, final verdict at ${r.verdictMs} ms = ${r.afterLastMs} ms after the last agent connected, ${r.verdictMs - r.spawnMs} ms after the last agent was spawned`,
    );
  }
  if (!runs.length) continue;
  const m = (k: keyof Run) => median(runs.map((r) => r[k]));
  const ok = m('afterLastMs') <= TIMEOUT_MS + 2000;
  const afterSpawn = median(runs.map((r) => r.verdictMs - r.spawnMs));
  console.log(
    `${c.name}: median all connected ${m('connectedMs')} ms, final verdict ${m('verdictMs')} ms, ${m('afterLastMs')} ms after the last agent connected (target <= ${TIMEOUT_MS + 2000} ms: ${ok ? 'met' : 'NOT met'}), ${afterSpawn} ms after the last agent was spawned`,
  );
}

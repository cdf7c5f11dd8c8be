// Agent RTT vs fping on the same lab links (test/bench/rtt-vs-fping.sh runs this; not a timed test).
// A lab (6 nodes x 2 dual-stack bindings, one at MTU 9000: real namespaces, agents, aggregator) runs; every
// round each agent sends 3 echoes to each peer address. Meanwhile, in every node's namespace, fping sends 3
// echoes 20 ms apart (the agent's echo gap) to the same addresses every 2 s. Both give, per target and
// round, the min/avg/max of 3 echoes; we compare the distributions: ratio of medians (of the per-round
// average) and of p99s (of the per-round maximum). `--load` runs a CPU burner per core throughout.
// Usage: node --import tsx test/bench/rtt-vs-fping.ts [--load] [--seconds N]
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import { promisify } from 'node:util';
import { burnCpu } from '../helpers/burn.js';
import { Lab } from '../lab/lab.js';

const run = promisify(execFile);
const args = process.argv.slice(2);
const loaded = args.includes('--load');
const seconds = Number(args[args.indexOf('--seconds') + 1] || 30) || 30;
const PROFILE = new URL('./rtt-profile.yaml', import.meta.url).pathname;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1]!;
};

const burners = loaded ? burnCpu() : undefined;
const lab = await Lab.create({
  nodes: 6,
  spaces: [
    { name: 'internal', family: 'dual' },
    { name: 'ceph-cluster', family: 'dual', mtu: 9000 },
  ],
  profile: PROFILE,
});
const agentAvg: number[] = [];
const agentMax: number[] = [];
const fpAvg: number[] = [];
const fpMax: number[] = [];
const loads: number[] = [];
try {
  await lab.waitFor((r) => r.reporting === 6, 'all agents reporting', 120_000);
  const seen = new Set<string>();
  const until = Date.now() + seconds * 1000;
  const pairs = lab.spaces.flatMap((s) => lab.nodes.flatMap((a) => lab.nodes.filter((b) => b !== a).map((b) => [s.name, a, b] as const)));
  const fpingRound = async (node: string) => {
    const i = lab.nodes.indexOf(node);
    const targets = lab.inventory.nodes.filter((n) => n.name !== node).flatMap((n) => Object.values(n.addresses).flat());
    void i;
    // fping prints -C results on stderr and exits 0 only when all answered; a lost echo shows as '-'.
    const r = await run('ip', ['netns', 'exec', lab.nodeNs(node), 'fping', '-C', '3', '-p', '20', '-q', '-t', '500', ...targets]).catch(
      (e: { stderr?: string }) => ({ stderr: e.stderr ?? '' }),
    );
    for (const line of r.stderr.split('\n')) {
      const m = /^\S+\s*:\s*(.+)$/.exec(line.trim());
      if (!m) continue;
      const v = m[1]!
        .split(/\s+/)
        .filter((x) => x !== '-')
        .map(Number);
      if (v.length === 0) continue;
      fpAvg.push(v.reduce((a, b) => a + b, 0) / v.length);
      fpMax.push(Math.max(...v));
    }
  };
  while (Date.now() < until) {
    const t0 = Date.now();
    loads.push(loadavg()[0]!);
    await Promise.all([
      ...lab.nodes.map(fpingRound),
      (async () => {
        for (const [b, from, to] of pairs) {
          const res = await fetch(`${lab.url}/api/v1/pair?binding=${b}&from=${from}&to=${to}`);
          if (!res.ok) continue;
          const cell = (await res.json()) as { updatedAt: string | null; rows?: { addr: string; icmp?: { rtt: number[] | null } }[] };
          const key = `${b} ${from} ${to} ${cell.updatedAt}`;
          if (!cell.updatedAt || seen.has(key)) continue;
          seen.add(key);
          for (const row of cell.rows ?? []) {
            if (!row.icmp?.rtt) continue;
            agentAvg.push(row.icmp.rtt[1]!);
            agentMax.push(row.icmp.rtt[2]!);
          }
        }
      })(),
    ]);
    await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (Date.now() - t0))));
  }
} finally {
  await lab.down();
  await burners?.stop();
}
const f = (v: number) => v.toFixed(3);
const out = {
  when: new Date().toISOString(),
  loaded,
  seconds,
  load1: Number((loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length)).toFixed(1)),
  agent: { samples: agentAvg.length, medianAvgMs: f(pct(agentAvg, 50)), p99MaxMs: f(pct(agentMax, 99)) },
  fping: { samples: fpAvg.length, medianAvgMs: f(pct(fpAvg, 50)), p99MaxMs: f(pct(fpMax, 99)) },
  ratio: { median: Number((pct(agentAvg, 50) / pct(fpAvg, 50)).toFixed(2)), p99: Number((pct(agentMax, 99) / pct(fpMax, 99)).toFixed(2)) },
};
console.log(JSON.stringify(out));

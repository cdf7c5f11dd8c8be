// Pinglists with real agents on loopback: 8 agents, a profile with `pinglist: {above: 4, per_round: 2}`, so
// K = ceil(7 / 2) = 4. Coverage rises round by round, reaches every pair within K rounds of the fleet being up,
// the verdict goes pending -> ready, every cell keeps its last result between the rounds that measure it, and
// a round really is 2 peers per binding (counted in the aggregator's probe counters against the rounds).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Report } from '../../aggregator/report.js';
import { loopbackInventory, startCluster, type Cluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/procs.js';

const N = 8;
const PER_ROUND = 2;
const K = Math.ceil((N - 1) / PER_ROUND);
const BINDINGS = ['internal', 'shared-db'];

let c: Cluster;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pinger-pinglist-'));
  const profile = join(dir, 'pinglist.yaml');
  writeFileSync(profile, `name: pinglist\nextends: demo\ninterval: 2s\npinglist:\n  above: 4\n  per_round: ${PER_ROUND}\n`);
  c = await startCluster(loopbackInventory(N, BINDINGS), { profile });
});
after(async () => {
  await c?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const total = (r: Report) => {
  const cov = r.bindings.map((b) => b.coverage!);
  const covered = cov.reduce((a, x) => a + x.covered, 0);
  const pairs = cov.reduce((a, x) => a + x.pairs, 0);
  return { covered, pairs };
};
const rounds = (r: Report) => new Map(r.nodes.map((n) => [n.name, n.rounds]));

/** ICMP targets the aggregator tallied per binding (pinger_probes_total, kind icmp, every outcome). */
async function icmpTargets(): Promise<Map<string, number>> {
  const text = await (await fetch(`${c.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^pinger_probes_total\{([^}]*)\} (\d+)$/gm)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (labels.kind === 'icmp') out.set(labels.binding!, (out.get(labels.binding!) ?? 0) + Number(m[2]));
  }
  return out;
}

/** The probe counters and the round counts at one moment: the same rounds before and after the scrape. */
async function countsAtOnce(): Promise<{ rounds: number; targets: Map<string, number> }> {
  return waitUntil(
    async () => {
      const a = await c.report('?matrix=none');
      const targets = await icmpTargets();
      const b = await c.report('?matrix=none');
      const sum = (r: Report) => r.nodes.reduce((s, n) => s + n.rounds, 0);
      return sum(a) === sum(b) ? { rounds: sum(a), targets } : undefined;
    },
    'a scrape between two rounds',
    30_000,
    50,
  );
}

// size: one story, polled as it happens: coverage climbs, then the verdict and the window are checked
test(`8 agents, ${PER_ROUND} peers a round: coverage rises and covers every pair within K = ${K} rounds; pending -> ready`, async () => {
  for (let i = 1; i <= N; i++) c.startAgent(`node-${i}`);
  // Every agent reporting: from here on, every round any agent starts begins after every peer came up.
  const up = await waitUntil(
    async () => {
      const r = await c.report();
      return r.nodes.every((n) => n.state === 'reporting' && n.rounds >= 1) ? r : undefined;
    },
    'every agent reporting',
    60_000,
    100,
  );
  assert.deepEqual(up.pinglist, { perRound: PER_ROUND, rounds: K });
  const base = rounds(up);
  const seen: { covered: number; pairs: number; verdict: string; summary: string }[] = [];
  let full: Report | undefined;
  let reachedAt: Map<string, number> | undefined;
  await waitUntil(
    async () => {
      const r = await c.report();
      const t = total(r);
      seen.push({ ...t, verdict: r.verdict, summary: r.summary });
      if (t.covered === t.pairs && !reachedAt) reachedAt = rounds(r);
      if (t.covered === t.pairs && r.verdict === 'ready') full = r;
      // Stop once every agent has done K + 1 rounds past the baseline (one may have been under way at it).
      const done = r.nodes.every((n) => n.rounds >= base.get(n.name)! + K + 1);
      return full || done ? r : undefined;
    },
    `coverage of every pair within ${K + 1} rounds of each agent`,
    120_000,
    150,
  );
  const pairs = BINDINGS.length * N * (N - 1);
  assert.ok(reachedAt, `every pair covered by the time each agent did ${K + 1} more rounds; seen ${JSON.stringify(seen.map((s) => s.covered))} of ${pairs}`);
  for (const [n, r] of reachedAt) assert.ok(r - base.get(n)! <= K + 1, `${n}: ${r - base.get(n)!} rounds past the baseline`);
  // It rose round by round: never down, through several partial values, pending (saying so) until complete.
  const partial = seen.filter((s) => s.covered < s.pairs);
  for (let i = 1; i < seen.length; i++)
    assert.ok(seen[i]!.covered >= seen[i - 1]!.covered, `coverage went down: ${seen[i - 1]!.covered} -> ${seen[i]!.covered}`);
  assert.ok(new Set(partial.map((s) => s.covered)).size >= 2, `several partial coverages: ${JSON.stringify(partial.map((s) => s.covered))}`);
  for (const s of partial) {
    assert.equal(s.verdict, 'pending', s.summary);
    assert.match(s.summary, new RegExp(`coverage (\\d+|<1)% of pairs \\(pinglist: full coverage every ${K} rounds\\)`));
  }
  // Full coverage, no fault on loopback: ready, and every cell holds a result though a round measures 2 of 7.
  full ??= await c.waitVerdict('ready', 20_000);
  assert.equal(full.verdict, 'ready', full.summary);
  for (const b of full.bindings) {
    assert.deepEqual(b.coverage, { ratio: 1, covered: N * (N - 1), pairs: N * (N - 1) }, b.name);
    assert.deepEqual(
      b.matrix!.states,
      Array.from({ length: N }, (_, i) => 'o'.repeat(i) + '-' + 'o'.repeat(N - 1 - i)),
      b.name,
    );
  }

  // A round is PER_ROUND peers per binding: the targets tallied between two moments are PER_ROUND a round.
  const a = await countsAtOnce();
  await waitUntil(
    async () => ((await c.report('?matrix=none')).nodes.every((n) => n.rounds >= base.get(n.name)! + K + 3) ? true : undefined),
    'two more rounds each',
    60_000,
    200,
  );
  const b = await countsAtOnce();
  assert.ok(b.rounds - a.rounds >= N, `${b.rounds - a.rounds} rounds between the scrapes`);
  for (const binding of BINDINGS) {
    const got = b.targets.get(binding)! - a.targets.get(binding)!;
    assert.equal(got, PER_ROUND * (b.rounds - a.rounds), `${binding}: ${got} targets in ${b.rounds - a.rounds} rounds`);
  }
  // Still ready, still full: the pairs not in the latest rounds kept their results.
  const last = await c.report();
  assert.equal(last.verdict, 'ready', last.summary);
  assert.deepEqual(total(last), { covered: pairs, pairs });
});

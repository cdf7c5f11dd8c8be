// A real Prometheus (Debian's, started by hand on 127.0.0.1 with a temp config and storage) scrapes an
// aggregator fed by real agents on loopback. Every PromQL expression in the dashboards and the alert rules
// must parse and run through its HTTP API; the core panels must return data; the rules load and evaluate.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve, join } from 'node:path';
import { after, test } from 'node:test';
import { loopbackInventory, startCluster, type Cluster } from '../helpers/cluster.js';
import { requireEnv } from '../helpers/env.js';
import { start, waitUntil } from '../helpers/procs.js';
import { dashboardQueries, resolveGrafanaVars, ruleFiles, ruleQueries } from './promql.js';

/** Panels that must show data on a healthy running fleet (dashboard uid -> panel titles). */
const corePanels: Record<string, string[]> = {
  'pinger-overview': ['Verdict', 'Agents reporting', 'Findings', 'Verdict over time'],
  'pinger-bindings': ['Reachability', 'ICMP loss (5 min of echoes)', 'RTT p50', 'RTT p99', 'RTT mean', 'Loss in the latest round (mean over pairs)'],
  'pinger-pairs': ['Pair state (1 ok, 0 failing)', 'RTT (latest round)', 'Loss (latest round)', 'Pairs per state'],
  'pinger-aggregator': ['Scrape up', 'Series exposed', 'CPU', 'Memory', 'Event-loop lag p99', 'Agent messages per second', 'Result rows per second'],
};

interface PromResponse {
  status: 'success' | 'error';
  error?: string;
  errorType?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

let cluster: Cluster | undefined;
let secured: Cluster | undefined;
after(async () => {
  await cluster?.close(); // kills the aggregator, the agents and Prometheus by PID, removes the temp dir
  await secured?.close();
});

test('dashboards and alert rules run against a real Prometheus scraping a real fleet', { timeout: 180_000 }, async (t) => {
  // Root: the agents measure ICMP, so the RTT and loss panels have something to show.
  if (!requireEnv(t, { root: true, commands: ['prometheus'] })) return;
  cluster = await startCluster(loopbackInventory(3, ['internal', 'storage']), { profile: 'demo' });
  for (const n of cluster.inventory.nodes) cluster.startAgent(n.name);
  await cluster.waitVerdict('ready', 40_000);

  const dir = join(cluster.dir, 'prometheus');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const target = new URL(cluster.url).host;
  const config = [
    'global: {scrape_interval: 1s, evaluation_interval: 1s}',
    `rule_files: [${ruleFiles()
      .map((f) => JSON.stringify(resolve(f)))
      .join(', ')}]`,
    'scrape_configs:',
    `  - {job_name: pinger, static_configs: [{targets: [${JSON.stringify(target)}]}]}`,
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), `${config}\n`);
  const port = await freePort();
  const prom = start('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const api = `http://127.0.0.1:${port}`;
  const query = async (q: string): Promise<PromResponse> => (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)).json() as Promise<PromResponse>;
  try {
    await waitUntil(async () => (await fetch(`${api}/-/ready`)).ok || undefined, 'prometheus ready', 30_000, 200);
    // Counters need a few scrapes before rate() has two points; agents probe every ~3 s.
    await waitUntil(
      async () => ((await query('rate(pinger_rtt_seconds_count[30s]) > 0')).data?.result.length ?? 0) > 0 || undefined,
      'RTT observations scraped',
      40_000,
      500,
    );
    await waitUntil(
      async () => ((await query('count_over_time(up{job="pinger"}[1m]) >= 5')).data?.result.length ?? 0) > 0 || undefined,
      'five scrapes',
      20_000,
      500,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nprometheus output:\n${prom.output()}`);
  }

  const queries = [...dashboardQueries(), ...ruleQueries()];
  assert.ok(queries.length >= 40, `found ${queries.length} expressions`);
  const failures: string[] = [];
  const empty = new Set<string>();
  for (const q of queries) {
    const r = await query(resolveGrafanaVars(q.expr));
    if (r.status !== 'success') failures.push(`${q.where}: ${r.errorType}: ${r.error}\n  ${q.expr}`);
    else if (r.data!.result.length === 0) empty.add(q.where);
  }
  assert.deepEqual(failures, [], 'every expression parses and runs');

  for (const [uid, titles] of Object.entries(corePanels)) {
    for (const title of titles) {
      const mine = queries.filter((q) => q.dashboard === uid && q.panel === title);
      assert.ok(mine.length > 0, `core panel ${uid} / ${title} not found in the dashboards`);
      for (const q of mine) assert.ok(!empty.has(q.where), `core panel ${q.where} returned no data:\n  ${q.expr}`);
    }
  }

  // The values mean what the panels say: the fleet is ready, 3 of 3 agents report, every pair is ok.
  const verdict = await query('max by (verdict) (pinger_verdict) == 1');
  assert.deepEqual(
    verdict.data!.result.map((s) => s.metric.verdict),
    ['ready'],
  );
  const reporting = await query('sum(pinger_agents{state="reporting"})');
  assert.equal(reporting.data!.result[0]!.value[1], '3');
  const pairs = await query('sum(pinger_pair_ok)');
  assert.equal(pairs.data!.result[0]!.value[1], String(2 * 6), '2 bindings x 6 ordered pairs, all ok');

  // The rules loaded and evaluate without errors. (Whether an alert is pending on a loaded 2-core machine
  // depends on timing; only the aggregator-down rule is certain here: it is being scraped.)
  const rules = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
    data: { groups: { rules: { name: string; health: string; lastError?: string; state: string }[] }[] };
  };
  const loaded = rules.data.groups.flatMap((g) => g.rules);
  assert.equal(loaded.length, ruleQueries().length);
  for (const r of loaded) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
  assert.equal(loaded.find((r) => r.name === 'PingerAggregatorDown')?.state, 'inactive');

  // A fault reaches the alerting path: stop node-3's agent and PingerAgentMissing goes pending for it.
  await cluster.agents.get('node-3')!.stop();
  const pending = await waitUntil(
    async () => {
      const r = await query('ALERTS{alertname="PingerAgentMissing",alertstate="pending"}');
      return r.data?.result.length ? r.data.result : undefined;
    },
    'PingerAgentMissing pending',
    30_000,
    500,
  );
  assert.deepEqual(
    pending.map((s) => [s.metric.node, s.metric.state]),
    [['node-3', 'missing']],
  );
  const notReady = await query('max by (verdict) (pinger_verdict) == 1');
  assert.notDeepEqual(
    notReady.data!.result.map((s) => s.metric.verdict),
    ['ready'],
  );
  // The panels that are empty on a healthy fleet by design show the fault.
  for (const title of ['Findings by kind', 'Agents not reporting', 'Agents missing or stale']) {
    const q = queries.find((x) => x.dashboard === 'pinger-overview' && x.panel === title)!;
    // The agent-missing finding comes after the grace (an agent that just went away is waited for first).
    await waitUntil(
      async () => ((await query(resolveGrafanaVars(q.expr))).data?.result.length ? true : undefined),
      `${q.where} shows nothing with node-3 missing:\n  ${q.expr}`,
      40_000,
      500,
    );
  }
});

test('with TLS and a read token, Prometheus scrapes /metrics over https with basic_auth; without credentials it is refused', {
  timeout: 120_000,
}, async (t) => {
  if (!requireEnv(t, { commands: ['prometheus'] })) return;
  secured = await startCluster(loopbackInventory(2, ['internal']), { profile: 'demo', tls: true, readToken: 'scrape-me' });
  for (const n of secured.inventory.nodes) secured.startAgent(n.name);
  await secured.waitVerdict('ready', 40_000);
  const dir = join(secured.dir, 'prometheus');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const target = JSON.stringify(new URL(secured.url).host);
  // As the README says to configure it: the CA for TLS, the read token as the Basic password (from a file).
  const config = [
    'global: {scrape_interval: 1s}',
    'scrape_configs:',
    `  - {job_name: pinger, scheme: https, tls_config: {ca_file: ${JSON.stringify(secured.tls!.ca)}}, basic_auth: {username: prometheus, password_file: ${JSON.stringify(secured.readTokenFile)}}, static_configs: [{targets: [${target}]}]}`,
    `  - {job_name: anonymous, scheme: https, tls_config: {ca_file: ${JSON.stringify(secured.tls!.ca)}}, static_configs: [{targets: [${target}]}]}`,
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), `${config}\n`);
  const port = await freePort();
  const prom = start('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const api = `http://127.0.0.1:${port}`;
  const query = async (q: string): Promise<PromResponse> => (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)).json() as Promise<PromResponse>;
  try {
    const expected = await waitUntil(
      async () => (await query('pinger_agents_expected')).data?.result[0] ?? undefined,
      'pinger_agents_expected scraped',
      40_000,
      500,
    );
    assert.equal(expected.value[1], '2');
    assert.equal(expected.metric.job, 'pinger');
    const up = await waitUntil(
      async () => {
        const r = (await query('up')).data?.result ?? [];
        return r.length === 2 ? r : undefined;
      },
      'both jobs scraped',
      20_000,
      500,
    );
    assert.deepEqual(Object.fromEntries(up.map((x) => [x.metric.job, x.value[1]])), { pinger: '1', anonymous: '0' });
  } catch (err) {
    throw new Error(`${(err as Error).message}\nprometheus output:\n${prom.output()}`);
  }
});

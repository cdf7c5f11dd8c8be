// GET /metrics through the real fastify app (inject, no listening): the exposition passes `promtool check
// metrics`, keeps the process metrics, and honours the pair threshold.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { buildServer } from '../../aggregator/server.js';
import { requireEnv } from '../helpers/env.js';
import { sixBindings, synthFleet, type FaultFn } from './synth.js';

async function scrape(nodes: number, opts: { pairMaxNodes?: number; fault?: FaultFn; bindings?: string[] } = {}) {
  const f = synthFleet(nodes, opts.bindings ?? ['internal', 'storage']);
  const app = await buildServer({
    state: f.state,
    token: 't',
    logLevel: 'warn',
    metrics: opts.pairMaxNodes === undefined ? {} : { pairMaxNodes: opts.pairMaxNodes },
  });
  try {
    f.feed({ rounds: 2, ...(opts.fault ? { fault: opts.fault } : {}) });
    const res = await app.inject('/metrics');
    return { res, text: res.body };
  } finally {
    await app.close();
  }
}

/** TYPE per family, and sample names, parsed from the exposition. */
function parse(text: string) {
  const types = new Map<string, string>();
  const series: string[] = [];
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1]!, t[2]!);
    else if (line && !line.startsWith('#')) series.push(line);
  }
  return { types, series };
}

test('the exposition passes promtool check metrics', async (t) => {
  if (!requireEnv(t, { commands: ['promtool'] })) return;
  const { res, text } = await scrape(4, { fault: (b, from, to) => (b === 'internal' && from === 'node-1' && to === 'node-4' ? 'loss' : undefined) });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no lint warnings either');
});

test('process health is exported, without the misnamed default gauges', async () => {
  const { types } = parse((await scrape(2)).text);
  assert.equal(types.get('process_cpu_seconds_total'), 'counter');
  assert.equal(types.get('nodejs_eventloop_lag_seconds'), 'gauge');
  assert.equal(types.get('process_resident_memory_bytes'), 'gauge');
  for (const [name, type] of types) if (name.endsWith('_total')) assert.equal(type, 'counter', `${name} is a ${type}`);
  assert.equal(types.get('pinger_rtt_seconds'), 'histogram');
});

test('pair series follow the node threshold', async () => {
  const below = parse((await scrape(4, { pairMaxNodes: 4 })).text).series.filter((s) => s.startsWith('pinger_pair_ok{'));
  assert.equal(below.length, 2 * 12, 'every ordered pair on both bindings');
  const above = parse((await scrape(4, { pairMaxNodes: 3 })).text).series.filter((s) => s.startsWith('pinger_pair_ok{'));
  assert.deepEqual(above, [], 'healthy and above the threshold: none');
  const failing = parse(
    (await scrape(4, { pairMaxNodes: 3, fault: (b, from) => (b === 'storage' && from === 'node-2' ? 'unreachable' : undefined) })).text,
  ).series.filter((s) => s.startsWith('pinger_pair_ok{'));
  assert.equal(failing.length, 3, 'only node-2 -> its three peers on storage');
  assert.ok(failing.every((s) => s.includes('binding="storage"') && s.includes('from="node-2"') && s.endsWith(' 0')));
});

test('series grow linearly in nodes above the pair threshold, a few per node', async () => {
  const count = async (n: number) => parse((await scrape(n, { bindings: sixBindings })).text).series.filter((l) => l.startsWith('pinger_')).length;
  const [a, b, c] = [await count(25), await count(50), await count(100)];
  assert.equal(c - b, 2 * (b - a), `25 -> ${a}, 50 -> ${b}, 100 -> ${c}: not linear`);
  const perNode = (b - a) / 25;
  assert.ok(perNode <= 5, `${perNode} series per node`);
  assert.ok(a + (1000 - 25) * perNode < 10_000, 'a healthy 1,000-node fleet with 6 bindings stays under 10,000 pinger series');
});

// Pinger's own families are written by exposition.ts, not prom-client: the text must be what prom-client's
// Registry writes for the same families, byte for byte (prom-client is the reference here), escapes included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry, type Metric } from 'prom-client';
import { exposition, expositionChunks } from '../../aggregator/exposition.js';
import type { Family } from '../../aggregator/metrics.js';

/** What prom-client's Registry writes for these families (the collector shape routes/metrics.ts used before). */
async function viaPromClient(families: Family[]): Promise<string> {
  const registry = new Registry();
  for (const f of families) {
    const values = f.samples.map((s) => ({ labels: s.labels, value: s.value, ...(s.suffix ? { metricName: f.name + s.suffix } : {}) }));
    registry.registerMetric({
      name: f.name,
      help: f.help,
      type: f.type,
      get: async () => ({ ...f, aggregator: 'sum', values }),
      reset: () => undefined,
    } as unknown as Metric);
  }
  return registry.metrics();
}

const cases: [string, Family[]][] = [
  ['no labels', [{ name: 'pinger_agents_expected', help: 'Nodes in the inventory.', type: 'gauge', samples: [{ labels: {}, value: 1000 }] }]],
  [
    'labels in their order, several series',
    [
      {
        name: 'pinger_bond_members',
        help: 'Members by MII state.',
        type: 'gauge',
        samples: [
          { labels: { node: 'node-1', binding: 'internal', state: 'up' }, value: 2 },
          { labels: { node: 'node-1', binding: 'internal', state: 'down' }, value: 0 },
        ],
      },
    ],
  ],
  ['an empty family keeps its HELP and TYPE', [{ name: 'pinger_findings', help: 'Findings.', type: 'gauge', samples: [] }]],
  [
    'escapes: backslash, quote and newline in label values; backslash and newline in help',
    [{ name: 'pinger_build_info', help: 'a \\ b\nc "d"', type: 'gauge', samples: [{ labels: { version: 'x\\y"z\nw' }, value: 1 }] }],
  ],
  [
    'a histogram with its suffixes, and values: fractions, exponents, negatives, infinities',
    [
      {
        name: 'pinger_rtt_seconds',
        help: 'RTT.',
        type: 'histogram',
        samples: [
          { labels: { binding: 'internal', le: '0.001' }, value: 3, suffix: '_bucket' },
          { labels: { binding: 'internal', le: '+Inf' }, value: 5, suffix: '_bucket' },
          { labels: { binding: 'internal' }, value: 1.5e-7, suffix: '_sum' },
          { labels: { binding: 'internal' }, value: 5, suffix: '_count' },
        ],
      },
      {
        name: 'pinger_agent_clock_offset_seconds',
        help: 'Offset.',
        type: 'gauge',
        samples: [
          { labels: { node: 'n1' }, value: -0.25 },
          { labels: { node: 'n2' }, value: Number.POSITIVE_INFINITY },
          { labels: { node: 'n3' }, value: Number.NEGATIVE_INFINITY },
          { labels: { node: 'n4' }, value: 1e21 },
        ],
      },
      { name: 'pinger_agent_messages_total', help: 'Messages.', type: 'counter', samples: [{ labels: {}, value: 12345678901 }] },
    ],
  ],
];

test('exposition(): the same text as prom-client for the same families', async () => {
  for (const [what, families] of cases) assert.equal(exposition(families), await viaPromClient(families), what);
});

test('exposition(): NaN as the format spells it (prom-client writes "Nan"), nothing at all for no families', () => {
  assert.equal(exposition([{ name: 'x', help: 'h', type: 'gauge', samples: [{ labels: {}, value: Number.NaN }] }]), '# HELP x h\n# TYPE x gauge\nx NaN\n');
  assert.equal(exposition([]), '');
});

test('exposition(): a family of stable samples is written again only when one of its samples is another object', async () => {
  const stable = (node: string, value: number) => ({ labels: { node, binding: 'internal' }, value, stable: true as const });
  const a = stable('node-1', 1e10);
  const b = stable('node-2', 1e10);
  const family = (samples: Family['samples']): Family[] => [
    { name: 'pinger_link_speed_bits_per_second', help: 'Speed.', type: 'gauge', samples },
    { name: 'pinger_agents_expected', help: 'Nodes.', type: 'gauge', samples: [{ labels: {}, value: 2 }] },
  ];
  const first = exposition(family([a, b]));
  assert.equal(first, await viaPromClient(family([a, b])));
  // New arrays of the same objects (as every scrape builds them): the same text.
  assert.equal(exposition(family([a, b])), first);
  // node-2's next hello: a new sample object with another value; its line changes, node-1's stays.
  const b2 = stable('node-2', 1e9);
  const next = exposition(family([a, b2]));
  assert.equal(next, await viaPromClient(family([a, b2])));
  assert.match(next, /pinger_link_speed_bits_per_second\{node="node-2",binding="internal"\} 1000000000\n/);
  // A node gone, another order: each a different list, each written as it is.
  assert.equal(exposition(family([b2])), await viaPromClient(family([b2])));
  assert.equal(exposition(family([b2, a])), await viaPromClient(family([b2, a])));
  // Samples that are not stable are written from their values every time.
  const live = { labels: { node: 'node-1' }, value: 0.5 };
  const clock = (): Family[] => [{ name: 'pinger_agent_clock_offset_seconds', help: 'Offset.', type: 'gauge', samples: [live] }];
  exposition(clock());
  live.value = -0.25;
  assert.match(exposition(clock()), /pinger_agent_clock_offset_seconds\{node="node-1"\} -0\.25\n/);
});

test('expositionChunks(): an unchanged stable family is sent as the bytes encoded for the scrape before, a changed one afresh', () => {
  const stable = (node: string, value: number) => ({ labels: { node, binding: 'internal' }, value, stable: true as const });
  const a = stable('node-1', 1e10);
  const b = stable('node-2', 1e10);
  const live = { labels: {}, value: 3 };
  const families = (speed: Family['samples']): Family[] => [
    { name: 'pinger_link_speed_bits_per_second', help: 'Speed.', type: 'gauge', samples: speed },
    { name: 'pinger_agents_expected', help: 'Nodes.', type: 'gauge', samples: [live] },
  ];
  const [speed1, blank, count1] = expositionChunks(families([a, b]));
  const [speed2, , count2] = expositionChunks(families([a, b]));
  assert.equal(speed2, speed1, 'the same Buffer: not written or encoded again');
  assert.notEqual(count2, count1, 'a family with a live sample is written every time');
  assert.equal(blank!.toString(), '\n');
  // node-2's next hello: new bytes, with its new line.
  const [speed3] = expositionChunks(families([a, stable('node-2', 1e9)]));
  assert.notEqual(speed3, speed1);
  assert.match(speed3!.toString(), /node="node-2",binding="internal"\} 1000000000\n$/);
  // Non-ASCII label values survive the encoding (UTF-8 both ways).
  assert.match(exposition([{ name: 'x', help: 'h', type: 'gauge', samples: [{ labels: { node: 'nœud-1' }, value: 1 }] }]), /x\{node="nœud-1"\} 1\n/);
});

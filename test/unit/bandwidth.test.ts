// The bandwidth sample: its schedule (at most `concurrent` senders a slot, every peer in turn), the token
// bucket, the request/reply codec, the profile's condition and bandwidth_sample, the finding's blame, and one
// real sample over loopback through the sink.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cycleSlots,
  decodeRequest,
  encodeReply,
  encodeRequest,
  median,
  nextTurnStart,
  peersFor,
  rateOfReply,
  slotMs,
  TokenBucket,
  turnAt,
  type BandwidthPlan,
} from '../../agent/bandwidth-schedule.js';
import { listenSink } from '../../agent/bandwidth-sink.js';
import { sendSample } from '../../agent/bandwidth.js';
import { BandwidthTable, bandwidthFindings, blameSlow, senderMedians, type PairSample } from '../../aggregator/bandwidth-diagnosis.js';
import { parseProfile, planFor } from '../../aggregator/profile.js';

const plan: BandwidthPlan = { port: 5202, rateMbps: 1000, seconds: 2, peers: 2, concurrent: 3 };

test('schedule: slot length, cycle, and never more than `concurrent` senders in a slot', () => {
  assert.equal(slotMs(plan), 8000);
  for (const [nodes, k, m] of [
    [1, 3, 1],
    [3, 3, 1],
    [4, 3, 2],
    [100, 3, 34],
    [100, 1, 100],
    [7, 2, 4],
  ] as const)
    assert.equal(cycleSlots(nodes, k), m, `${nodes}/${k}`);
  for (const nodes of [2, 5, 10, 100]) {
    for (let slot = 0; slot < 50; slot++) {
      const now = slot * slotMs(plan) + 10;
      const senders = Array.from({ length: nodes }, (_, i) => i).filter((i) => turnAt(now, i, nodes, plan));
      assert.ok(senders.length >= 1 && senders.length <= plan.concurrent, `${nodes} nodes, slot ${slot}: ${senders.length} senders`);
    }
    // Every node gets a turn in each cycle.
    const m = cycleSlots(nodes, plan.concurrent);
    for (let i = 0; i < nodes; i++) {
      const turns = Array.from({ length: m }, (_, s) => turnAt(s * slotMs(plan), i, nodes, plan)).filter(Boolean);
      assert.equal(turns.length, 1, `node ${i} of ${nodes}`);
    }
  }
});

test("schedule: the next turn starts in the node's own slot, after now", () => {
  for (const [now, i, nodes] of [
    [0, 0, 10],
    [1, 0, 10],
    [8000, 3, 10],
    [123_456, 7, 100],
    [5, 99, 100],
  ] as const) {
    const at = nextTurnStart(now, i, nodes, plan);
    assert.ok(at > now && at - now <= slotMs(plan) * cycleSlots(nodes, plan.concurrent), `${now}/${i}: ${at}`);
    assert.ok(turnAt(at, i, nodes, plan), `${now}/${i}: ${at} is its slot`);
    assert.equal(turnAt(at - 1, i, nodes, plan), undefined);
  }
});

test('peers rotate: every peer is measured once in ceil((n-1)/peers) turns, never self', () => {
  for (const [index, nodes, peers] of [
    [0, 5, 2],
    [3, 5, 1],
    [2, 3, 2],
    [0, 2, 2],
    [9, 100, 2],
  ] as const) {
    const turns = Math.ceil((nodes - 1) / peers);
    const seen = new Set<number>();
    for (let t = 0; t < turns; t++)
      for (const p of peersFor(index, nodes, t, peers)) {
        assert.notEqual(p, index);
        assert.ok(p >= 0 && p < nodes);
        seen.add(p);
      }
    assert.equal(seen.size, nodes - 1, `${index}/${nodes}/${peers}`);
  }
  assert.deepEqual(peersFor(0, 1, 0, 2), []);
  assert.deepEqual(peersFor(1, 4, 0, 2), [2, 3]);
  assert.deepEqual(peersFor(1, 4, 1, 2), [0, 2]);
});

test('token bucket: burst at once, then the rate', () => {
  const b = new TokenBucket(100, 1000, 0);
  assert.equal(b.available(0), 1000);
  b.take(1000);
  assert.equal(b.available(0), 0);
  assert.equal(b.waitFor(500), 5);
  assert.equal(b.available(5), 500);
  assert.equal(b.available(1_000_000), 1000, 'capped at the burst');
});

test('codec: request and reply, hostile bytes refused', () => {
  assert.equal(decodeRequest(encodeRequest(2000), 2000), 2000);
  assert.equal(decodeRequest(encodeRequest(2001), 2000), undefined, 'longer than the sink allows');
  assert.equal(decodeRequest(encodeRequest(50), 2000), undefined, 'too short to measure');
  assert.equal(decodeRequest(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 2000), undefined);
  assert.equal(decodeRequest(Buffer.alloc(3), 2000), undefined);
  assert.deepEqual(rateOfReply(encodeReply(125_000_000, 1_000_000), 2e9), { mbps: 1000, ms: 1000 });
  assert.equal(rateOfReply(encodeReply(125_000_000, 1_000_000), 1e6), undefined, 'more than was sent');
  assert.equal(rateOfReply(encodeReply(10, 10), 1e6), undefined, 'a window too short');
  assert.equal(rateOfReply(Buffer.alloc(11), 1e6), undefined);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(median([]), undefined);
});

const profileText = (extra: string) => `name: t
${extra}
bindings:
  internal:
    - bandwidth >= 1G
`;

test('profile: bandwidth >= RATE with bandwidth_sample goes into the plan; errors name file:line:field', () => {
  const p = parseProfile(profileText('bandwidth_sample: {port: 5202, rate_cap: 2G, seconds: 3s, peers: 2, concurrent: 4}'), 'p.yaml');
  assert.deepEqual(p.bandwidth, { port: 5202, rateMbps: 2000, seconds: 3, peers: 2, concurrent: 4 });
  assert.equal(p.bindings.internal!.bandwidthMbps, 1000);
  const inv = { bindings: ['internal', 'public'], spaces: {}, nodes: [{ name: 'a', addresses: { internal: ['198.18.0.1'], public: ['198.18.1.1'] } }] };
  const pl = planFor(p, inv);
  assert.equal(pl.bindings.internal!.bandwidth, true);
  assert.equal(pl.bindings.public!.bandwidth, undefined);
  assert.deepEqual(pl.bandwidth, p.bandwidth);
  // Defaults.
  assert.deepEqual(parseProfile(profileText('bandwidth_sample: {port: 5202}'), 'p.yaml').bandwidth, {
    port: 5202,
    rateMbps: 1000,
    seconds: 2,
    peers: 1,
    concurrent: 2,
  });
  // No bandwidth condition: nothing sampled, nothing in the plan.
  assert.equal(
    planFor(parseProfile('name: t\nbandwidth_sample: {port: 5202}\nbindings:\n  internal:\n    - tcp 22 open\n', 'p.yaml'), inv).bandwidth,
    undefined,
  );
  const errors: [string, RegExp][] = [
    [profileText(''), /^p\.yaml:5:7: bindings\.internal\[0\]: a bandwidth condition needs the sink's port/],
    [profileText('bandwidth_sample: {rate_cap: 1G}'), /^p\.yaml:2:19: bandwidth_sample\.port: must be a whole number from 1 to 65535/],
    [profileText('bandwidth_sample: {port: 5202, rate_cap: fast}'), /^p\.yaml:2:42: bandwidth_sample\.rate_cap: "fast" is not a rate/],
    [profileText('bandwidth_sample: {port: 5202, seconds: 30s}'), /^p\.yaml:2:41: bandwidth_sample\.seconds: must be a duration from 200ms to 10s/],
    [profileText('bandwidth_sample: {port: 5202, iperf: yes}'), /^p\.yaml:2:32: bandwidth_sample\.iperf: unknown key "iperf"/],
    [profileText('bandwidth_sample: 5202'), /^p\.yaml:2:19: bandwidth_sample: expected a map/],
    [
      'name: t\nbandwidth_sample: {port: 1}\nbindings:\n  internal:\n    - bandwidth == 1G\n',
      /^p\.yaml:5:7: bindings\.internal\[0\]: "bandwidth == 1G": write "bandwidth >= RATE"/,
    ],
    ['name: t\nbandwidth_sample: {port: 1}\nbindings:\n  internal:\n    - bandwidth >= lots\n', /^p\.yaml:5:7: bindings\.internal\[0\]: "lots" is not a rate/],
  ];
  for (const [text, re] of errors)
    assert.throws(
      () => parseProfile(text, 'p.yaml'),
      (e: Error) => (assert.match(e.message, re), true),
      text,
    );
});

const s = (from: string, to: string, mbps: number): PairSample => ({ from, to, mbps, at: 0 });

test('blame: the node slow with most of its peers; otherwise both ends of the pair', () => {
  const four = ['node-1', 'node-2', 'node-3', 'node-4'];
  const all = four.flatMap((a) => four.filter((b) => b !== a).map((b) => s(a, b, a === 'node-3' ? 20 : 900)));
  assert.deepEqual(blameSlow(all, 500), [{ node: 'node-3', slow: 3, of: 3 }]);
  // One slow pair: no side stands out.
  assert.deepEqual(blameSlow([s('node-1', 'node-2', 10), s('node-1', 'node-3', 900), s('node-2', 'node-3', 900)], 500), []);
  // Receiving side slow (node-2 cannot take it in): still node-2.
  assert.deepEqual(blameSlow([s('node-1', 'node-2', 10), s('node-3', 'node-2', 10), s('node-2', 'node-1', 900), s('node-1', 'node-3', 900)], 500), [
    { node: 'node-2', slow: 2, of: 2 },
  ]);
  const t = new BandwidthTable();
  for (const x of all) t.record('internal', x.from, x.to, x.mbps, 0);
  t.record('internal', 'node-1', 'node-1', 1, 0);
  assert.equal(t.pairs('internal').length, 12, 'self pairs are not kept');
  assert.deepEqual([...senderMedians(t.pairs('internal'))].sort(), [
    ['node-1', 900],
    ['node-2', 900],
    ['node-3', 20],
    ['node-4', 900],
  ]);
  const p = parseProfile(profileText('bandwidth_sample: {port: 5202}').replace('1G', '500M'), 'p.yaml');
  const f = bandwidthFindings(p, ['internal'], t, new Set(four));
  assert.equal(f.length, 1);
  assert.equal(f[0]!.kind, 'bandwidth-low');
  assert.deepEqual(f[0]!.nodes, ['node-3']);
  assert.equal(f[0]!.summary, 'internal: node-3 is slow with 3 of 3 peers (under 500M)');
  // node-3 re-measured fast: the finding goes (kept per pair until re-measured).
  for (const b of ['node-1', 'node-2', 'node-4']) t.record('internal', 'node-3', b, 800, 1);
  assert.deepEqual(bandwidthFindings(p, ['internal'], t, new Set(four)), []);
  // A lone slow pair names both ends.
  t.record('internal', 'node-1', 'node-2', 100, 2);
  const g = bandwidthFindings(p, ['internal'], t, new Set(four));
  assert.deepEqual(g[0]!.nodes, ['node-1', 'node-2']);
  assert.match(g[0]!.summary, /node-1 -> node-2 at 100M/);
  // A node whose agent is gone: its pairs say nothing.
  assert.deepEqual(bandwidthFindings(p, ['internal'], t, new Set(['node-1', 'node-3', 'node-4'])), []);
});

test('a real sample over loopback: the sink measures near the rate cap; junk is reset; excess connections refused', async () => {
  const sink = await listenSink({ address: '127.0.0.1', port: 0 || 45202, maxMs: 1000, maxBytes: 50e6, maxConns: 1 });
  try {
    const r = await sendSample('127.0.0.1', 45202, { rateMbps: 80, seconds: 0.5 });
    assert.ok(r.sample, JSON.stringify(r));
    // The cap holds: 80 Mb/s +- the bucket's first burst and timer slack on a loaded machine.
    assert.ok(r.sample.mbps > 40 && r.sample.mbps < 100, `${r.sample.mbps} Mb/s at an 80M cap`);
    assert.ok(r.sentBytes < (80e6 / 8) * 0.5 * 3, `${r.sentBytes} bytes sent`);
    // A window longer than the sink allows: reset, no measurement.
    const long = await sendSample('127.0.0.1', 45202, { rateMbps: 10, seconds: 2 });
    assert.equal(long.sample, undefined);
  } finally {
    await sink.close();
  }
});

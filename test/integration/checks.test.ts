// The checks beyond ping with real agents on loopback: the UDP echo (and that it cannot be used for
// reflection), forward/reverse DNS against a DNS server the test starts, and the clock offset of an agent
// whose clock really is off (libfaketime).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, test } from 'node:test';
import { encodeRequest, udpEchoKey, UDP_ECHO_BYTES } from '../../agent/probes/udp.js';
import type { Report } from '../../aggregator/report.js';
import { loopbackInventory, startCluster, type Cluster } from '../helpers/cluster.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { requireEnv } from '../helpers/env.js';
import { waitUntil } from '../helpers/procs.js';

const inventory = loopbackInventory(3, ['internal', 'overlay']);
for (const n of inventory.nodes) n.hostname = `${n.name}.test`;
const addr = (node: string, b: string) => inventory.nodes.find((n) => n.name === node)!.addresses[b]![0]!;

let c: Cluster;
let dns: DnsServer;
// Every record agrees, except node-3's internal address, whose PTR name points elsewhere (so node-3's
// hostname, which resolves to that address, does not reverse back either: one finding, two checks).
before(async () => {
  const forward: Record<string, string[]> = { 'wrong-3.test': ['127.9.9.9'] };
  const reverse: Record<string, string[]> = {};
  for (const n of inventory.nodes) {
    forward[`${n.name}.test`] = [addr(n.name, 'internal'), addr(n.name, 'overlay')];
    reverse[addr(n.name, 'overlay')] = [`${n.name}.test`];
    reverse[addr(n.name, 'internal')] = [n.name === 'node-3' ? 'wrong-3.test' : `${n.name}.test`];
  }
  dns = await startDnsServer({ forward, reverse });
  c = await startCluster(inventory, { profile: 'test/fixtures/profiles/checks.yaml' });
});
after(async () => {
  await c?.close();
  await dns?.close();
});

/** Starts an agent with --dns-server (the cluster helper only prefixes commands, so a shell appends it). */
const agent = (name: string, pre: string[] = [], extra = '') => c.startAgent(name, [...pre, 'sh', '-c', `exec "$0" "$@" --dns-server ${dns.address} ${extra}`]);

const kinds = (r: Report) => r.findings.map((f) => [f.kind, f.binding, f.nodes, f.severity]);

async function waitFindings(pred: (r: Report) => boolean, what: string, timeoutMs = 30_000): Promise<Report> {
  let last: Report | undefined;
  try {
    return await waitUntil(async () => ((last = await c.report()), pred(last) ? last : undefined), what, timeoutMs, 250);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last: ${JSON.stringify(last && { verdict: last.verdict, findings: last.findings }, null, 1)}`);
  }
}

test('UDP echo works between agents, and a DNS mismatch is one warning naming the node: degraded', async () => {
  for (const n of inventory.nodes) agent(n.name);
  const r = await waitFindings((x) => x.verdict === 'degraded', 'degraded');
  assert.deepEqual(kinds(r), [['dns-mismatch', undefined, ['node-3'], 'warning']]);
  assert.match(
    r.findings[0]!.hint!,
    new RegExp(`${addr('node-3', 'internal').replaceAll('.', '\\.')} reverses to wrong-3\\.test, which resolves to 127\\.9\\.9\\.9`),
  );
  const overlay = r.bindings.find((b) => b.name === 'overlay')!;
  assert.deepEqual(overlay.matrix!.states, ['-oo', 'o-o', 'oo-']);
  assert.ok(dns.queries > 0, 'the agents asked our DNS server');
});

test('an agent starting says hello twice: on connecting, then with its responders, DNS answers and link facts', async () => {
  // Two more rounds each after the first, so a later hello (link facts read at a round, DNS) would be counted.
  const rounds = (x: Report) => Math.min(...x.nodes.map((n) => n.rounds));
  const r0 = await c.report();
  await waitFindings((x) => rounds(x) >= rounds(r0) + 2, 'two more rounds from every agent');
  const text = await (await fetch(`${c.url}/metrics`)).text();
  const hellos = Number(/^pinger_agent_hellos_total (\d+)$/m.exec(text)?.[1]);
  // 3 agents: 2 each. Before, each also sent its DNS answers and its first link facts in hellos of their own (4 each).
  assert.equal(hellos, 2 * inventory.nodes.length, `hellos taken: ${hellos}`);
  // Every round came after the welcome offered the peer set the agents' inventory matches: peers by index.
  const results = (peers: string) => Number(new RegExp(`^pinger_result_messages_total\\{peers="${peers}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
  assert.ok(results('indexed') >= 3 * inventory.nodes.length, `indexed results: ${results('indexed')}`);
  assert.equal(results('named'), 0);
  const r = await c.report();
  for (const n of r.nodes) assert.ok(n.links?.length, `${n.name}'s link facts came with its hello`);
});

test('the UDP responder answers only tagged probes for its own address, never larger, and rate-limited', async () => {
  const target = addr('node-2', 'overlay');
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, addr('node-1', 'overlay'), r));
  const replies: Buffer[] = [];
  sock.on('message', (m) => replies.push(m));
  const send = (b: Buffer) => new Promise<void>((r) => sock.send(b, 6081, target, () => r()));
  const key = udpEchoKey(c.token);
  const settle = () => new Promise((r) => setTimeout(r, 300));
  try {
    for (const junk of [
      Buffer.alloc(UDP_ECHO_BYTES, 1), // right size, no tag
      encodeRequest(udpEchoKey('another cluster'), target, 6081, Date.now()), // wrong token
      encodeRequest(key, addr('node-3', 'overlay'), 6081, Date.now()), // tagged for another responder
      encodeRequest(key, target, 6081, Date.now() - 3_600_000), // an hour old: a replay
      Buffer.concat([encodeRequest(key, target, 6081, Date.now()), Buffer.alloc(1000)]), // padded
    ]) {
      await send(junk);
    }
    await settle();
    assert.equal(replies.length, 0, 'no reply to anything untagged, foreign, stale or padded');
    const good = encodeRequest(key, target, 6081, Date.now());
    await send(good);
    await waitUntil(() => replies.length === 1 || undefined, 'one echo', 2000);
    assert.equal(replies[0]!.length, good.length, 'the reply is exactly as long as the request');
    // A flood: the token bucket (burst 400, 200/s) caps the replies well below the requests.
    replies.length = 0;
    const t0 = Date.now();
    for (let i = 0; i < 2000; i++) sock.send(encodeRequest(key, target, 6081, Date.now()), 6081, target);
    await settle();
    const cap = 400 + ((Date.now() - t0) / 1000) * 200 + 5;
    assert.ok(replies.length > 0 && replies.length <= cap, `${replies.length} replies to 2000 requests (cap ${Math.round(cap)})`);
  } finally {
    sock.close();
  }
});

test('an agent without responders: its TCP port is refused and UDP blocked, one finding each', async () => {
  await c.agents.get('node-3')!.stop();
  agent('node-3', [], '--no-responders');
  // not-ready only once node-3 itself has reported a full round again (until then: pending).
  const r = await waitFindings(
    // Both sources' rounds in (the UDP finding counts 2 pairs): under load the second may come a little later.
    (x) =>
      x.verdict === 'not-ready' &&
      x.findings.some((f) => f.kind === 'udp-blocked' && /on 2 pair/.test(f.summary)) &&
      x.findings.some((f) => f.kind === 'port-refused'),
    'port-refused and udp-blocked on both pairs',
  );
  assert.deepEqual(kinds(r), [
    ['port-refused', 'internal', ['node-3'], 'error'],
    ['udp-blocked', 'overlay', ['node-3'], 'error'],
    ['dns-mismatch', undefined, ['node-3'], 'warning'],
  ]);
  assert.equal(r.verdict, 'not-ready');
  assert.match(r.findings[1]!.summary, /overlay: UDP 6081 blocked on 2 pair\(s\), around node-3/);
  await c.agents.get('node-3')!.stop();
  agent('node-3');
  await waitFindings((x) => x.verdict === 'degraded' && x.findings.length === 1, 'back to the DNS warning only');
});

test('an agent whose clock is 2 s ahead is named in one clock-skew finding, with its offset', async (t) => {
  if (!requireEnv(t, { commands: ['faketime'] })) return;
  await c.agents.get('node-2')!.stop();
  agent('node-2', ['faketime', '-f', '+2s']);
  // The agent sends its first clock estimate at once, so the finding can show while its first round is
  // still running (pending); the verdict follows once the round is in.
  // The others' estimates are the best of their last 8 exchanges: under load one may briefly be off until a
  // quicker exchange comes, so the state is awaited, not sampled once.
  const sane = (x: Report) => ['node-1', 'node-3'].every((n) => Math.abs(x.nodes.find((y) => y.name === n)?.clockOffsetMs ?? 0) < 50);
  const r = await waitFindings((x) => x.verdict !== 'pending' && x.findings.some((f) => f.kind === 'clock-skew') && sane(x), 'clock-skew', 40_000);
  const f = r.findings.find((x) => x.kind === 'clock-skew')!;
  assert.deepEqual([f.nodes, f.severity], [['node-2'], 'error']);
  assert.match(f.hint!, /^node-2's clock is \+[12](?:\.\d+)?s from the aggregator's; the profile allows 50ms/);
  const off = r.nodes.find((n) => n.name === 'node-2')!.clockOffsetMs!;
  assert.ok(Math.abs(off - 2000) < 250, `offset ${off} ms`);
  for (const n of ['node-1', 'node-3']) assert.ok(Math.abs(r.nodes.find((x) => x.name === n)!.clockOffsetMs ?? 0) < 50, n);
  assert.equal(r.verdict, 'not-ready');
});

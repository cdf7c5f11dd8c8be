// Real agents against a real aggregator on loopback: the whole path from inventory to verdict.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { agentAuthorization, nodeCredential } from '../../agent/credential.js';
import { isRoot, requireEnv } from '../helpers/env.js';
import { loopbackInventory, startCluster, type Cluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/procs.js';

let c: Cluster;
before(async () => {
  c = await startCluster(loopbackInventory(3, ['internal', 'shared-db', 'ceph-cluster']));
});
after(async () => c?.close());

function wsClient(authorization: string | undefined): WebSocket {
  return new WebSocket(`${c.url.replace('http', 'ws')}/api/v1/agent`, authorization ? { headers: { authorization } } : {});
}
/** A node's credential, as its agent would send it. */
const as = (node: string) => agentAuthorization(node, nodeCredential(c.token, node));

test('before any agent reports, the verdict is pending and every node is missing', async () => {
  const r = await c.report();
  assert.equal(r.verdict, 'pending');
  assert.deepEqual(
    r.nodes.map((n) => n.state),
    ['missing', 'missing', 'missing'],
  );
  // Starting agents are waited for, not failures: no agent-missing finding before the grace has passed.
  assert.deepEqual(r.findings, []);
  assert.deepEqual(r.waiting?.connect, ['node-1', 'node-2', 'node-3']);
  assert.ok(!Number.isNaN(Date.parse(r.generatedAt)));
});

test('three agents report a full matrix on every binding; a port held by another process is a warning', async (t) => {
  // node-3's first port is taken before its agent starts: reported, not fatal (and peers still get an answer),
  // but OpenStack's service could not bind it: the verdict is degraded until the port is free.
  const addr = c.inventory.nodes[2]!.addresses.internal![0]!;
  const blocker = createServer((s) => s.on('error', () => {})).listen(5000, addr);
  t.after(() => blocker.close()); // freed after this test: the agent must notice and take the port
  for (const n of c.inventory.nodes) c.startAgent(n.name);
  const r = await c.waitVerdict('degraded');
  assert.deepEqual(
    r.findings.map((f) => [f.kind, f.severity, f.binding, f.nodes]),
    [['port-in-use', 'warning', 'internal', ['node-3']]],
  );
  assert.equal(r.reporting, 3);
  assert.deepEqual(
    r.bindings.map((b) => b.name),
    ['ceph-cluster', 'internal', 'shared-db'],
  );
  for (const b of r.bindings) assert.deepEqual(b.matrix!.states, ['-oo', 'o-o', 'oo-'], b.name);
  const n3 = r.nodes.find((n) => n.name === 'node-3')!;
  assert.deepEqual(
    n3.responderProblems.map((p) => [p.port, p.state, p.binding]),
    [[5000, 'in-use', 'internal']],
  );
  assert.equal(n3.bindings.internal![0]!.iface, 'lo');
  assert.equal(n3.icmp, isRoot() ? 'available' : 'not-measured');
  if (isRoot()) {
    const full = await c.report('?matrix=full');
    const rtt = full.bindings[0]!.matrix!.rttP99Ms![0]![1]!;
    // Loopback answers in microseconds; the bound only says the RTT is a real, unqueued measurement (a loaded
    // 2-core CI machine and a first, still-cold ping can add milliseconds).
    assert.ok(rtt !== null && rtt > 0 && rtt < 100, `loopback rtt p99 ${rtt} ms`);
  }
  const pair = await (await fetch(`${c.url}/api/v1/pair?binding=internal&from=node-1&to=node-2`)).json();
  assert.equal(pair.state, 'ok');
});

test('a responder whose port was freed listens on the next round', async () => {
  await waitUntil(
    async () => {
      const r = await c.report();
      return r.nodes.find((n) => n.name === 'node-3')!.responderProblems.length === 0 || undefined;
    },
    'node-3 responder on 5000 listening',
    20_000,
  );
  assert.deepEqual((await c.waitVerdict('ready')).findings, []);
});

test('delta rounds: once the matrix is steady, agents report unchanged pairs instead of re-sending their rows', async () => {
  const counter = async (name: string) => {
    const text = await (await fetch(`${c.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  };
  const rows0 = await counter('pinger_result_rows_total');
  const same0 = await counter('pinger_result_pairs_unchanged_total');
  // Loopback RTTs stay within 0.1 ms and every port answers: a round after the first is all "unchanged".
  const same = await waitUntil(
    async () => ((await counter('pinger_result_pairs_unchanged_total')) >= same0 + 3 * 2 * 3 ? true : undefined),
    'unchanged pairs',
    30_000,
  );
  assert.ok(same);
  const rows = (await counter('pinger_result_rows_total')) - rows0;
  const unchanged = (await counter('pinger_result_pairs_unchanged_total')) - same0;
  assert.ok(unchanged > rows / 2, `rows ${rows}, unchanged pairs ${unchanged}: most of a steady round is not re-sent`);
  assert.deepEqual((await c.waitVerdict('ready')).findings, [], 'and the verdict stands on them');
});

test('a wrong or missing credential is refused with 401 and the code', async () => {
  // The bare cluster secret is no agent credential: it names no node.
  for (const t of [undefined, 'Bearer wrong', `Bearer ${c.token}`, agentAuthorization('node-1', nodeCredential('another secret', 'node-1'))]) {
    const ws = wsClient(t);
    const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_q, res) => resolve(res.statusCode!)));
    assert.equal(status, 401);
  }
});

test('bad messages close only the sender, with a close code and reason; everyone else goes on', async () => {
  const cases: [string, number, RegExp, string][] = [
    ['{"v":3,"type":"results"', 4400, /PINGER_ERR_WS_BAD_MESSAGE: not JSON/, 'node-1'],
    [JSON.stringify({ v: 7, type: 'hello' }), 4426, /PINGER_ERR_WS_VERSION/, 'node-1'],
    // A wire v1 agent (row objects) meets a v2 aggregator: refused at its hello, told what to upgrade.
    [
      JSON.stringify({ v: 1, type: 'hello', node: 'node-1', agentVersion: 'x', hostname: 'h', icmp: 'available', interfaces: [], responders: [] }),
      4426,
      /^PINGER_ERR_WS_VERSION: agent speaks wire v1; this aggregator speaks v3: upgrade the agent$/,
      'node-1',
    ],
    [JSON.stringify({ v: 3, type: 'heartbeat', node: 'node-1', at: 1 }), 4400, /heartbeat before hello/, 'node-1'],
    [
      JSON.stringify({ v: 3, type: 'hello', node: 'intruder', agentVersion: 'x', hostname: 'h', icmp: 'available', interfaces: [], responders: [] }),
      4404,
      /PINGER_ERR_WS_UNKNOWN_NODE/,
      'intruder',
    ],
  ];
  for (const [msg, code, reason, who] of cases) {
    const ws = wsClient(as(who));
    await new Promise((r) => ws.once('open', r));
    ws.send(msg);
    const [gotCode, gotReason] = await new Promise<[number, string]>((r) => ws.once('close', (cc, rr) => r([cc, rr.toString()])));
    assert.equal(gotCode, code, msg);
    assert.match(gotReason, reason);
  }
  const r = await c.report();
  assert.equal(r.verdict, 'ready');
  assert.equal(r.reporting, 3);
});

test('an agent that goes away is missing: the verdict waits, then after the grace says not-ready; when it returns, ready again', async () => {
  await c.agents.get('node-2')!.stop();
  const r = await c.waitVerdict('pending');
  assert.equal(r.nodes.find((n) => n.name === 'node-2')!.state, 'missing');
  // Within the grace it is waited for ("waiting"), not yet a fault; and no finding blames the healthy nodes
  // for the absent agent's closed ports.
  assert.deepEqual(r.waiting?.connect, ['node-2']);
  assert.deepEqual(
    r.findings.map((x) => x.kind),
    [],
  );
  // Away past the grace (demo profile: 10 s), the absent agent is a fault, not a start-up to wait for.
  const late = await c.waitVerdict('not-ready', 25_000);
  assert.deepEqual(
    late.findings.map((x) => [x.kind, x.severity, x.nodes]),
    [['agent-missing', 'error', ['node-2']]],
  );
  c.startAgent('node-2');
  await c.waitVerdict('ready');
});

test('agents reconnect with backoff to a restarted aggregator and re-send their state', async () => {
  const port = Number(new URL(c.url).port);
  await c.aggregator.stop();
  await c.startAggregator(port);
  const r = await c.waitVerdict('ready', 45_000);
  assert.equal(r.reporting, 3);
});

test('an agent without CAP_NET_RAW says so once, keeps TCP, and ICMP is not measured (never ok or failed)', async (t) => {
  if (!requireEnv(t, { root: true, commands: ['setpriv'] })) return;
  await c.agents.get('node-1')!.stop();
  // Root without CAP_NET_RAW in its bounding set: exactly the capability ICMP needs is missing, and the
  // agent can still read a checkout anywhere (a normal user may not enter a mode-700 temp clone).
  const p = c.startAgent('node-1', ['setpriv', '--bounding-set=-net_raw', '--inh-caps=-net_raw']);
  await p.waitFor(/ICMP not measured/);
  const r = await waitUntil(
    async () => {
      const x = await c.report();
      const n1 = x.nodes.find((n) => n.name === 'node-1')!;
      return n1.icmp === 'not-measured' && x.verdict === 'ready' ? x : undefined;
    },
    'node-1 reporting without ICMP',
    30_000,
  );
  assert.equal(r.findings.length, 0);
  assert.equal(p.output().match(/ICMP not measured/g)!.length, 1);
  const pair = await (await fetch(`${c.url}/api/v1/pair?binding=internal&from=node-1&to=node-2`)).json();
  assert.equal(pair.state, 'ok');
});

// Security end to end, with real processes on loopback: the README's openssl commands make the CA and the
// aggregator's certificate; agents connect over wss:// with per-node credentials; read routes need the read
// token; impersonation, takeover, a wrong CA and plain ws:// are tried the way an attacker or a careless
// operator would.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { agentAuthorization, nodeCredential } from '../../agent/credential.js';
import { loopbackInventory, startCluster, type Cluster } from '../helpers/cluster.js';
import { pingerCmd, waitUntil } from '../helpers/procs.js';
import { basic, get, makeTls } from '../helpers/tls.js';

const READ = 'read-token-for-tests';
let c: Cluster;
let credFile: (node: string) => string;
const [node, pre] = pingerCmd();

before(async () => {
  c = await startCluster(loopbackInventory(3, ['internal', 'ceph-cluster']), { tls: true, readToken: READ });
  credFile = (n) => {
    // `pinger credential` as an operator runs it; each agent gets only its own node's credential.
    const f = join(c.dir, `${n}.cred`);
    writeFileSync(f, execFileSync(node, [...pre, 'credential', '--token-file', c.tokenFile, '--node', n]), { mode: 0o600 });
    return f;
  };
});
after(async () => c?.close());

const agentArgs = (n: string) => ['--credential-file', credFile(n), '--ca-file', c.tls!.ca];

/** A raw WebSocket client over wss:// trusting the test CA, with the given Authorization. */
function client(authorization: string): WebSocket {
  return new WebSocket(c.agentUrl(), { headers: { authorization }, ca: execFileSync('cat', [c.tls!.ca]) });
}
const hello = (n: string) =>
  JSON.stringify({ v: 3, type: 'hello', node: n, agentVersion: 'x', hostname: 'h', icmp: 'not-measured', interfaces: [], responders: [] });
const closed = (ws: WebSocket) => new Promise<[number, string]>((r) => ws.once('close', (code, why) => r([code, why.toString()])));
const rounds = async (n: string) => (await c.report()).nodes.find((x) => x.name === n)!.rounds;

test('the README openssl commands make a certificate agents accept over wss://; `pinger credential` matches the contract', async () => {
  assert.match(c.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const cred = execFileSync(node, [...pre, 'credential', '--token-file', c.tokenFile, '--node', 'node-1'])
    .toString()
    .trim();
  assert.equal(cred, nodeCredential(c.token, 'node-1'));
  assert.match(cred, /^[0-9a-f]{64}$/);
  for (const n of c.inventory.nodes) c.startAgent(n.name, [], agentArgs(n.name));
  const r = await c.waitVerdict('ready', 60_000);
  assert.equal(r.reporting, 3);
});

test('read routes: 401 with a Basic challenge without the read token, 200 with it (Basic or Bearer); /healthz open; admin needs the secret', async () => {
  const base = c.url;
  const ca = c.tls!.ca;
  for (const path of ['/api/v1/report', '/api/v1/links', '/api/v1/pair?binding=internal&from=node-1&to=node-2', '/metrics', '/', '/api/v1/export/report.md']) {
    const none = await get(`${base}${path}`, { ca });
    assert.equal(none.status, 401, path);
    assert.equal(none.headers['www-authenticate'], 'Basic realm="pinger", charset="UTF-8"', path);
    assert.match(none.body, /PINGER_ERR_AUTH_READ/);
    assert.equal((await get(`${base}${path}`, { ca, authorization: basic('wrong') })).status, 401, path);
    // A node credential is not a read credential.
    assert.equal((await get(`${base}${path}`, { ca, authorization: `Bearer ${nodeCredential(c.token, 'node-1')}` })).status, 401, path);
    assert.equal((await get(`${base}${path}`, { ca, authorization: basic(READ, 'anyone') })).status, 200, path);
    assert.equal((await get(`${base}${path}`, { ca, authorization: `Bearer ${READ}` })).status, 200, path);
  }
  assert.equal((await get(`${base}/healthz`, { ca })).status, 200);
  assert.equal((await get(`${base}/api/v1/run-check`, { ca, method: 'POST', authorization: `Bearer ${READ}` })).status, 401);
  assert.equal((await get(`${base}/api/v1/run-check`, { ca, method: 'POST', authorization: `Bearer ${c.token}` })).status, 200);
});

test("node-1's credential cannot say hello as node-2: closed 4403", async () => {
  const ws = client(agentAuthorization('node-1', nodeCredential(c.token, 'node-1')));
  await new Promise((r) => ws.once('open', r));
  ws.send(hello('node-2'));
  const [code, why] = await closed(ws);
  assert.equal(code, 4403);
  assert.match(why, /PINGER_ERR_WS_NODE_MISMATCH: hello for node-2 with node-1's credential/);
  // Claiming node-2 with node-1's credential does not even get a connection.
  const claim = client(agentAuthorization('node-2', nodeCredential(c.token, 'node-1')));
  assert.equal(await new Promise<number>((r) => claim.on('unexpected-response', (_q, res) => r(res.statusCode!))), 401);
  assert.equal((await c.report()).reporting, 3);
});

test('a second connection for connected node-1 with a wrong credential is refused; the real agent keeps reporting', async () => {
  const before = await rounds('node-1');
  for (const auth of [agentAuthorization('node-1', nodeCredential('not the secret', 'node-1')), `Bearer ${c.token}`, 'Bearer node-1:']) {
    const ws = client(auth);
    assert.equal(await new Promise<number>((r) => ws.on('unexpected-response', (_q, res) => r(res.statusCode!))), 401, auth);
  }
  // demo profile: a round every 3 s ±20 %.
  await waitUntil(async () => ((await rounds('node-1')) > before + 1 ? true : undefined), 'node-1 still reporting', 20_000);
  assert.equal((await c.report()).nodes.find((x) => x.name === 'node-1')!.state, 'reporting');
  assert.doesNotMatch(c.aggregator.output(), /agent takeover/);
});

test('a second connection with the same credential takes over, and the takeover is logged; it cannot send results for node-2', async () => {
  const ws = client(agentAuthorization('node-1', nodeCredential(c.token, 'node-1')));
  await new Promise((r) => ws.once('open', r));
  ws.send(hello('node-1'));
  const welcome = await new Promise<{ type: string; udpKey?: string }>((r) => ws.once('message', (d: Buffer) => r(JSON.parse(d.toString()))));
  assert.equal(welcome.type, 'welcome');
  // The UDP echo key comes with the welcome, derived from the secret, never the secret itself.
  assert.match(welcome.udpKey!, /^[0-9a-f]{64}$/);
  assert.ok(!welcome.udpKey!.includes(c.token));
  await c.aggregator.waitFor(/agent takeover/);
  const line = c.aggregator
    .output()
    .split('\n')
    .find((l) => l.includes('agent takeover'))!;
  assert.equal(JSON.parse(line).node, 'node-1');
  // Taken over or not, the connection still speaks for node-1 only.
  ws.send(JSON.stringify({ v: 3, type: 'results', node: 'node-2', round: 1, durationMs: 1, startedAt: Date.now(), final: true, bindings: {} }));
  const [code, why] = await closed(ws);
  assert.equal(code, 4403, why);
  assert.match(why, /PINGER_ERR_WS_NODE_MISMATCH: results for node-2 on node-1's connection/);
  // The real agent (closed with 4409) reconnects and takes node-1 back.
  await c.agents.get('node-1')!.waitFor(/4409 PINGER_ERR_WS_REPLACED/);
  await c.waitVerdict('ready', 30_000);
});

test("an agent given another CA refuses the aggregator's certificate, with the code", async () => {
  const other = mkdtempSync(join(tmpdir(), 'pinger-ca2-'));
  try {
    const wrong = makeTls(other);
    await c.agents.get('node-3')!.stop();
    const p = c.startAgent('node-3', [], ['--credential-file', credFile('node-3'), '--ca-file', wrong.ca]);
    await p.waitFor(/PINGER_ERR_AGENT_TLS: the aggregator's certificate does not verify against --ca-file/, 20_000);
    const r = await c.report();
    assert.equal(r.nodes.find((x) => x.name === 'node-3')!.state, 'missing');
    await p.stop();
    c.startAgent('node-3', [], agentArgs('node-3'));
    await c.waitVerdict('ready', 30_000);
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

test('plain text only when asked for: ws:// without --plain, and an aggregator without a certificate or --plain, refuse to start', () => {
  const agent = spawnSync(
    node,
    [
      ...pre,
      'agent',
      '--inventory',
      c.inventoryFile,
      '--node',
      'node-1',
      '--aggregator',
      'ws://127.0.0.1:1/api/v1/agent',
      '--credential-file',
      credFile('node-1'),
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(agent.status, 78);
  assert.match(agent.stderr, /^PINGER_ERR_AGENT_PLAIN: .*--plain/m);
  const agg = spawnSync(node, [...pre, 'aggregator', '--listen', '127.0.0.1:0', '--inventory', c.inventoryFile, '--token-file', c.tokenFile], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(agg.status, 78);
  assert.match(agg.stderr, /^PINGER_ERR_AGG_TLS: give --tls-cert and --tls-key .* or --plain/m);
  const mismatched = spawnSync(
    node,
    [
      ...pre,
      'aggregator',
      '--listen',
      '127.0.0.1:0',
      '--inventory',
      c.inventoryFile,
      '--token-file',
      c.tokenFile,
      '--tls-cert',
      c.tls!.ca,
      '--tls-key',
      c.tls!.key,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(mismatched.status, 78);
  assert.match(mismatched.stderr, /^PINGER_ERR_AGG_TLS: --tls-cert/m);
});

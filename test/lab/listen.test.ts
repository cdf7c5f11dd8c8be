// `pinger aggregator --listen` repeated: one TCP address for people and a unix socket for agents in network
// namespaces serve the same app (report, agent WebSocket), both over TLS, and both close with it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { agentAuthorization, nodeCredential } from '../../agent/credential.js';
import { inventoryToText } from '../../agent/contract/inventory.js';
import { wsTarget } from '../../agent/link.js';
import { loopbackInventory } from '../helpers/cluster.js';
import { pingerCmd, start, stopAll } from '../helpers/procs.js';
import { get, makeTls } from '../helpers/tls.js';

const dir = mkdtempSync(join(tmpdir(), 'pinger-listen-'));
after(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

const tls = makeTls(dir);

/** HTTPS over the unix socket: the chain is verified, not a host name (the socket has none). */
function getUnix(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, ca: readFileSync(tls.ca), checkServerIdentity: () => undefined }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function wsOutcome(url: string, credential: string): Promise<string> {
  return new Promise((resolve) => {
    const { url: u, ...opts } = wsTarget(url, readFileSync(tls.ca));
    const ws = new WebSocket(u, { headers: { authorization: agentAuthorization('node-1', credential) }, ...opts });
    ws.on('open', () => (ws.close(), resolve('open')));
    ws.on('unexpected-response', (_q, res) => (ws.terminate(), resolve(`http ${res.statusCode}`)));
    ws.on('error', (e) => resolve(`error ${e.message}`));
  });
}

test('the aggregator serves the same app on TCP and on a unix socket', async () => {
  const inv = join(dir, 'inventory.yaml');
  const tok = join(dir, 'token');
  const sock = join(dir, 'agg.sock');
  writeFileSync(inv, inventoryToText(loopbackInventory(2, ['internal'])));
  writeFileSync(tok, 'sekrit\n');
  const [node, pre] = pingerCmd();
  const agg = start(node, [
    ...pre,
    'aggregator',
    '--listen',
    '127.0.0.1:0',
    '--listen',
    `unix:${sock}`,
    '--inventory',
    inv,
    '--token-file',
    tok,
    '--tls-cert',
    tls.cert,
    '--tls-key',
    tls.key,
    '--profile',
    'demo',
    '--log-level',
    'warn',
  ]);
  const line = await agg.waitFor(/also listening on unix:\S+/);
  assert.match(line, new RegExp(sock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const url = /listening on (https:\/\/\S+?);/.exec(agg.output())![1]!;

  const viaTcp = JSON.parse((await get(`${url}/api/v1/report`, { ca: tls.ca })).body) as { verdict: string; expected: number };
  const viaUnix = await getUnix(sock, '/api/v1/report');
  assert.equal(viaUnix.status, 200);
  const r = JSON.parse(viaUnix.body) as { verdict: string; expected: number };
  assert.equal(r.expected, 2);
  assert.equal(r.verdict, viaTcp.verdict);
  assert.equal((await getUnix(sock, '/no/such/route')).status, 404);

  // The agent WebSocket goes through fastify's routing and auth on the socket too.
  assert.equal(await wsOutcome(`wss+unix://${sock}:/api/v1/agent`, nodeCredential('wrong', 'node-1')), 'http 401');
  assert.equal(await wsOutcome(`wss+unix://${sock}:/api/v1/agent`, nodeCredential('sekrit', 'node-1')), 'open');

  assert.equal(await agg.stop('SIGTERM'), 0);
  assert.equal(existsSync(sock), false, 'the socket file is removed on close');
});

test('a relative unix path is refused with the usage code', async () => {
  const [node, pre] = pingerCmd();
  const p = start(node, [...pre, 'aggregator', '--listen', 'unix:rel.sock', '--inventory', 'x', '--token-file', 'y']);
  const [code] = (await once(p.child, 'exit')) as [number | null];
  assert.equal(code, 64);
  assert.match(p.output(), /PINGER_ERR_AGG_USAGE: --listen "unix:rel.sock": expected unix:\/absolute\/path/);
});

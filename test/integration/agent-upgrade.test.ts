// The agents' upgrade path (routes/agent-ws.ts): the HTTP server hands upgrades to the agents' WebSocket server
// directly, not through fastify's router. What a router gave for free is checked here: a refused credential is a
// 401 with the error code, an upgrade elsewhere a 404 naming the agents' path, a malformed one ws's own answer,
// and closing the aggregator ends every connection, including one that never said hello.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { AGENT_WS_PATH } from '../../agent/contract/wire.js';
import { agentSockets } from '../../aggregator/server.js';
import { startInProcess, type InProcess } from '../helpers/in-process.js';
import { agentWsUrl, authAs } from '../helpers/ws-peer.js';

const token = 'upgrade-test-secret';
let agg: InProcess;
before(async () => {
  agg = await startInProcess({ nodes: 3, token, logLevel: 'silent' });
});
after(async () => agg?.close());

/** One raw HTTP/1.1 request on a fresh TCP connection; the whole answer as the server wrote it before closing. */
async function raw(request: string): Promise<string> {
  const { port } = new URL(agg.at);
  const s = connect(Number(port), '127.0.0.1');
  const chunks: Buffer[] = [];
  s.on('data', (d) => chunks.push(d));
  s.write(request);
  const timer = setTimeout(() => s.destroy(), 3000);
  await once(s, 'close');
  clearTimeout(timer);
  return Buffer.concat(chunks).toString();
}
const upgrade = (path: string, headers: Record<string, string> = {}) =>
  [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\r\n');

test('an upgrade without a valid node credential is a 401 naming the code, and counted', async () => {
  const before = agg.state.counters.rejectedByCode.PINGER_ERR_AUTH_TOKEN;
  const answer = await raw(upgrade(AGENT_WS_PATH, { Authorization: 'Pinger node-1 not-the-credential' }));
  assert.match(answer, /^HTTP\/1\.1 401 Unauthorized\r\n/);
  assert.match(answer, /\r\nContent-Type: application\/json; charset=utf-8\r\n/);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  assert.equal(body.code, 'PINGER_ERR_AUTH_TOKEN');
  assert.equal(agg.state.counters.rejectedByCode.PINGER_ERR_AUTH_TOKEN, before + 1);
});

test('an upgrade on another path is a 404 that names the agents’ path; a plain GET of the agents’ path is answered', async () => {
  const answer = await raw(upgrade('/api/v1/report', { Authorization: authAs(token, 'node-1') }));
  assert.match(answer, /^HTTP\/1\.1 404 Not Found\r\n/);
  assert.match(answer, new RegExp(`agents connect to ${AGENT_WS_PATH.replaceAll('/', '\\/')}`));
  const plain = await agg.app.inject({ method: 'GET', url: AGENT_WS_PATH });
  assert.equal(plain.statusCode, 404);
});

test('a malformed upgrade with a good credential gets ws’s own 400, and the next agent connects', async () => {
  const answer = await raw(upgrade(AGENT_WS_PATH, { Authorization: authAs(token, 'node-2') }).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 7'));
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
  const ws = new WebSocket(agentWsUrl(agg.at), { headers: { authorization: authAs(token, 'node-2') } });
  await once(ws, 'open');
  ws.terminate();
});

/** A masked client text frame (RFC 6455 5.2), as an agent's ws sends it; payloads under 64 KiB. */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
  return Buffer.concat([head, mask, payload.map((b, i) => b ^ mask[i % 4]!)]);
}

test('a hello and a clock request read together are answered in one write: the welcome and the clock reply', async () => {
  // The server side's socket, as the aggregator's upgrade handler gets it: its writes are counted.
  let writes = 0;
  const spy = (_req: unknown, sock: { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void }) => {
    const w = sock._write;
    const wv = sock._writev;
    sock._write = function (this: unknown, ...a: unknown[]) {
      writes++;
      return w.apply(this, a);
    };
    sock._writev = function (this: unknown, ...a: unknown[]) {
      writes++;
      return wv.apply(this, a);
    };
  };
  agg.app.server.prependListener('upgrade', spy);
  const { port } = new URL(agg.at);
  const s = connect(Number(port), '127.0.0.1');
  try {
    let got = Buffer.alloc(0);
    s.on('data', (d) => (got = Buffer.concat([got, d])));
    s.write(upgrade(AGENT_WS_PATH, { Authorization: authAs(token, 'node-1') }));
    while (!got.includes('\r\n\r\n')) await once(s, 'data');
    assert.match(got.toString(), /^HTTP\/1\.1 101 /);
    assert.equal(writes, 1, 'the 101');
    got = Buffer.alloc(0);
    const hello = JSON.stringify({
      v: 3,
      type: 'hello',
      node: 'node-1',
      agentVersion: 't',
      hostname: 'h',
      icmp: 'not-measured',
      interfaces: [],
      responders: [],
    });
    // One TCP write: the two frames reach the aggregator in one read, as they do for most agents as a fleet starts.
    s.write(Buffer.concat([clientFrame(hello), clientFrame(JSON.stringify({ v: 3, type: 'clock', t0: Date.now() }))]));
    while (!(got.includes('"welcome"') && got.includes('"t2"'))) await once(s, 'data');
    assert.equal(writes, 2, 'the 101, then the welcome and the clock reply together');
    assert.ok(got.indexOf('"welcome"') < got.indexOf('"t2"'), 'the welcome first');
  } finally {
    agg.app.server.off('upgrade', spy);
    s.destroy();
  }
});

test('closing the aggregator closes every connection with 1001, one that never said hello too', async () => {
  const ws = new WebSocket(agentWsUrl(agg.at), { headers: { authorization: authAs(token, 'node-3') } });
  await once(ws, 'open');
  assert.ok(agentSockets(agg.app)!.clients.size >= 1);
  const closed = once(ws, 'close');
  await agg.app.close();
  const [code] = await closed;
  assert.equal(code, 1001);
});

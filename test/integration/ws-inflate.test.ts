// Agents' compressed messages: each one stands alone (client_no_context_takeover) and is inflated in one
// synchronous call (aggregator/ws-inflate.ts), not through a zlib stream per connection. The same bounds and
// close codes as ws's own path: a bomb closes with 1009, bad deflate data with 1007, and the aggregator goes on.
import assert from 'node:assert/strict';
import { deflateRawSync, constants } from 'node:zlib';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { agentSockets } from '../../aggregator/server.js';
import { inflated } from '../../aggregator/ws-inflate.js';
import { limits } from '../../agent/contract/wire-limits.js';
import { startInProcess, type InProcess } from '../helpers/in-process.js';
import { agentWsUrl, authAs } from '../helpers/ws-peer.js';

const token = 'inflate-test-secret';
let agg: InProcess;
let url: string;
before(async () => {
  agg = await startInProcess({ nodes: 4, token });
  url = agentWsUrl(agg.at);
});
after(async () => agg?.close());

/** A hello over ws's 1 KiB compression threshold (interfaces pad it), so the client sends it deflated. */
const hello = (node: string) =>
  JSON.stringify({
    v: 3,
    type: 'hello',
    node,
    agentVersion: 't',
    hostname: node,
    icmp: 'not-measured',
    interfaces: Array.from({ length: 20 }, (_, i) => ({ binding: 'internal', address: `127.0.0.${i + 1}`, iface: `eth${i}`, mtu: 1500, link: 'up' })),
    responders: [],
  });

interface Conn {
  ws: WebSocket;
  extensions: string;
  messages: string[];
  closed: Promise<number>;
}

async function open(node: string): Promise<Conn> {
  const ws = new WebSocket(url, { headers: { authorization: authAs(token, node) }, perMessageDeflate: true });
  const messages: string[] = [];
  ws.on('message', (d) => messages.push(String(d)));
  const closed = new Promise<number>((res) => ws.once('close', (code) => res(code)));
  const extensions = new Promise<string>((res) => ws.once('upgrade', (r) => res(String(r.headers['sec-websocket-extensions'] ?? ''))));
  await new Promise((res, rej) => ws.once('open', res).once('error', rej));
  return { ws, extensions: await extensions, messages, closed };
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The server side's permessage-deflate of node's connection (ws keeps it on the socket). */
function serverInflate(): unknown[] {
  const clients = agentSockets(agg.app)!.clients;
  return [...clients].map((s) => (s as unknown as { _extensions: Record<string, { _inflate: unknown }> })._extensions['permessage-deflate']?._inflate ?? null);
}

test('a compressed hello is inflated in one call, with no zlib stream kept for the connection', async () => {
  const c = await open('node-1');
  assert.match(c.extensions, /permessage-deflate/);
  assert.match(c.extensions, /client_no_context_takeover/, 'each message stands alone');
  assert.match(c.extensions, /client_max_window_bits=11/);
  const before = inflated.messages;
  c.ws.send(hello('node-1'));
  await until(() => c.messages.some((m) => m.includes('"type":"welcome"')), 'the welcome');
  assert.equal(inflated.messages, before + 1, 'the synchronous path took the hello');
  assert.deepEqual(serverInflate(), [null], "ws's inflate stream was never made");
  // Messages that stand alone: a second one inflates as well as the first (no dictionary carried over).
  c.ws.send(hello('node-1'));
  await until(() => inflated.messages === before + 2, 'the second hello');
  assert.equal(c.ws.readyState, WebSocket.OPEN);
  c.ws.close();
  await c.closed;
});

test('a message split in fragments goes through ws’s own stream and is taken whole', async () => {
  const c = await open('node-2');
  const text = hello('node-2');
  const before = inflated.messages;
  c.ws.send(text.slice(0, 1500), { fin: false });
  c.ws.send(text.slice(1500), { fin: true });
  await until(() => c.messages.some((m) => m.includes('"type":"welcome"')), 'the welcome');
  assert.equal(inflated.messages, before, 'not the synchronous path');
  c.ws.close();
  await c.closed;
});

test('a decompression bomb closes with 1009 and bad deflate data with 1007; other agents go on', async () => {
  // 3 MiB of one byte deflates to ~3 KB: over the 2 MiB frame bound once inflated.
  const bomb = await open('node-3');
  const big = 'a'.repeat(limits.resultsBytes + 1024 * 1024);
  assert.ok(deflateRawSync(big, { windowBits: 11, finishFlush: constants.Z_SYNC_FLUSH }).length < 10_000);
  bomb.ws.send(big);
  assert.equal(await bomb.closed, 1009);

  // A text frame marked compressed (RSV1) whose payload is no deflate stream (block type 3 does not exist).
  const bad = await open('node-4');
  const payload = Buffer.from([0xff, 0xff, 0xff, 0xff]);
  const mask = Buffer.from([1, 2, 3, 4]);
  const frame = Buffer.concat([Buffer.from([0xc1, 0x80 | payload.length]), mask, payload.map((b, i) => b ^ mask[i % 4]!)]);
  (bad.ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(frame);
  assert.equal(await bad.closed, 1007);

  // The aggregator still takes a compressed hello.
  const ok = await open('node-4');
  ok.ws.send(hello('node-4'));
  await until(() => ok.messages.some((m) => m.includes('"type":"welcome"')), 'the welcome after the bad ones');
  ok.ws.close();
  await ok.closed;
});

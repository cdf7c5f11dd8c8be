// How the aggregator tells a dead agent from a live one (routes/agent-ws.ts): an agent heard within a tick is
// never pinged (its heartbeats say enough); one silent for a tick is pinged; one silent through the next tick
// too is terminated and shown disconnected. Real WebSocket clients against the aggregator in this process.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { startInProcess, type InProcess } from '../helpers/in-process.js';
import { agentWsUrl, authAs } from '../helpers/ws-peer.js';

const token = 'liveness-test-secret';
const TICK = 300;
let agg: InProcess;
before(async () => {
  agg = await startInProcess({ nodes: 3, token, logLevel: 'silent', pingIntervalMs: TICK });
});
after(async () => agg?.close());

const hello = (node: string) =>
  JSON.stringify({ v: 3, type: 'hello', node, agentVersion: 't', hostname: node, icmp: 'not-measured', interfaces: [], responders: [] });

/** An agent's connection that says hello and counts the pings it gets; `autoPong` false: it never answers them. */
async function agent(node: string, autoPong = true): Promise<{ ws: WebSocket; pings: () => number }> {
  const ws = new WebSocket(agentWsUrl(agg.at), { headers: { authorization: authAs(token, node) }, autoPong });
  let pings = 0;
  ws.on('ping', () => pings++);
  await once(ws, 'open');
  ws.send(hello(node));
  await once(ws, 'message'); // the welcome
  return { ws, pings: () => pings };
}

const stateOf = (node: string) => agg.state.snapshot(0).nodes.find((n) => n.record.name === node)?.state;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('an agent that sends heartbeats is not pinged, and stays', async () => {
  const a = await agent('node-1', false);
  const beat = setInterval(() => a.ws.send(JSON.stringify({ v: 3, type: 'heartbeat', node: 'node-1', at: Date.now() })), TICK / 6);
  try {
    await sleep(10 * TICK);
    // Pinged on every tick before: ~10 here. A tick can find it silent only when this process stalls past a tick.
    assert.ok(a.pings() <= 2, `${a.pings()} pings to an agent that was heard all along`);
    assert.equal(a.ws.readyState, WebSocket.OPEN);
    assert.equal(stateOf('node-1'), 'reporting');
  } finally {
    clearInterval(beat);
    a.ws.terminate();
  }
});

test('a silent agent that answers pings stays connected', async () => {
  const a = await agent('node-2');
  try {
    await sleep(10 * TICK);
    assert.ok(a.pings() >= 2, `${a.pings()} pings to a silent agent over 10 ticks`);
    assert.equal(a.ws.readyState, WebSocket.OPEN);
  } finally {
    a.ws.terminate();
  }
});

test('a silent agent that does not answer its ping is terminated after two ticks and shown disconnected', async () => {
  const a = await agent('node-3', false);
  const t0 = Date.now();
  const [code] = (await Promise.race([once(a.ws, 'close'), sleep(30 * TICK).then(() => ['still open'])])) as [number | string];
  const silentMs = Date.now() - t0;
  assert.equal(code, 1006, 'terminated, not closed with a code');
  assert.equal(a.pings(), 1, 'one ping, unanswered, before it went');
  assert.ok(silentMs >= TICK, `terminated after ${silentMs} ms of silence, before a ping could be missed`);
  for (let i = 0; i < 50 && stateOf('node-3') === 'reporting'; i++) await sleep(20);
  assert.notEqual(stateOf('node-3'), 'reporting');
});

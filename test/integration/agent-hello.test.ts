// What a real agent says as it starts, read by a bare WebSocket server standing in for the aggregator (loopback
// only): the hello before its plan lists no responders; the hello with them open groups the listening ones by
// address (agent/contract/listening.ts), and the aggregator's decoder takes it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { Agent } from '../../agent/agent.js';
import { listeningCount } from '../helpers/listening.js';
import { AGENT_WS_PATH, decodeAgentMessage, WIRE_VERSION, type HelloMsg } from '../../agent/contract/wire.js';
import { defaultProbes } from '../../agent/probes/index.js';
import { builtinProfile, planFor } from '../../aggregator/profile.js';
import { loopbackInventory } from '../helpers/cluster.js';

test("an agent's hello with its responders open: the listening ones grouped by address, none left in the list", async () => {
  const inventory = loopbackInventory(2, ['internal', 'shared-db']);
  const plan = planFor(builtinProfile('demo'), inventory);
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: AGENT_WS_PATH });
  await once(server, 'listening');
  const hellos: HelloMsg[] = [];
  let opened: () => void;
  const open = new Promise<void>((r) => (opened = r));
  server.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      const d = decodeAgentMessage(data);
      assert.ok(d.ok, d.ok ? '' : d.error);
      if (d.msg.type !== 'hello') return;
      hellos.push(d.msg);
      if (hellos.length === 1) ws.send(JSON.stringify({ v: WIRE_VERSION, type: 'welcome', plan, serverTime: Date.now() }));
      if (listeningCount(d.msg) > 0) opened();
    });
  });
  const udpKey = {};
  const agent = new Agent({
    inventory,
    node: 'node-1',
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}${AGENT_WS_PATH}`,
    credential: 'c'.repeat(64),
    probes: defaultProbes(udpKey),
    udpKey,
    icmp: { state: 'not-measured', detail: 'test' },
    log: () => {},
  });
  try {
    agent.start();
    await Promise.race([open, new Promise((_, no) => setTimeout(() => no(new Error(`no hello with responders open: ${JSON.stringify(hellos)}`)), 10_000))]);
  } finally {
    await agent.stop();
    server.close();
  }
  assert.equal(listeningCount(hellos[0]!), 0, 'before the plan: nothing open');
  const h = hellos.at(-1)!;
  assert.deepEqual(h.responders, [], 'every responder listens: none is listed one by one');
  const self = inventory.nodes[0]!;
  const num = (ports: readonly number[]) => [...ports].sort((a, b) => a - b);
  const want = Object.entries(plan.bindings)
    .flatMap(([binding, req]) => (self.addresses[binding] ?? []).map((address) => ({ binding, address, tcp: num(req.tcp), udp: num(req.udp) })))
    .sort((a, b) => a.binding.localeCompare(b.binding));
  assert.deepEqual(
    h.listening?.map((g) => ({ ...g, tcp: num(g.tcp), udp: num(g.udp) })),
    want,
  );
  assert.ok(want.every((g) => g.tcp.length > 0));
});

// Hostile messages against a real aggregator process on loopback: each is refused with a close code and a
// reason that fits the protocol, counted by code, logged within the per-peer budget, and the aggregator lives
// on and keeps answering. (The fuzz test, fuzz.test.ts, does the same at volume with real agents alongside.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { limits } from '../../agent/contract/wire.js';
import { encodeResultsFrame } from '../../agent/contract/wire-binary.js';
import { packRows } from '../../agent/contract/wire-packed.js';
import { loopbackInventory, startCluster, type Cluster } from '../helpers/cluster.js';
import { agentWsUrl, authAs, exchange } from '../helpers/ws-peer.js';

let c: Cluster;
let url: string;
/** node-1's credentials: every hostile message here comes from an authenticated agent. */
let n1: string;
before(async () => {
  c = await startCluster(loopbackInventory(2, ['internal']));
  url = agentWsUrl(c.url);
  n1 = authAs(c.token, 'node-1');
});
after(async () => c?.close());

const hello = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 3, type: 'hello', node: 'node-1', agentVersion: 't', hostname: 'h', icmp: 'not-measured', interfaces: [], responders: [], ...over });
const responder = (i: number, detail?: string) => ({
  binding: 'internal',
  address: '127.0.0.1',
  proto: 'tcp',
  port: 1 + (i % 65535),
  state: 'in-use',
  ...(detail ? { detail } : {}),
});

/** The aggregator is alive and its report answers within 2 s. */
async function alive(): Promise<void> {
  assert.equal(c.aggregator.child.exitCode, null, `aggregator exited:\n${c.aggregator.output().slice(-2000)}`);
  assert.equal(c.aggregator.child.signalCode, null);
  const t0 = performance.now();
  const r = await fetch(`${c.url}/api/v1/report`, { signal: AbortSignal.timeout(2000) });
  assert.equal(r.status, 200);
  await r.json();
  assert.ok(performance.now() - t0 < 2000);
}

function assertReason(reason: Buffer, code: string): void {
  assert.ok(reason.length <= 123, `${reason.length} bytes`);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(reason);
  assert.ok(text.startsWith(`${code}:`), text);
}

async function rejected(code: string): Promise<number> {
  const text = await (await fetch(`${c.url}/metrics`)).text();
  const m = new RegExp(`^pinger_agent_messages_rejected_total\\{code="${code}"\\} (\\d+)$`, 'm').exec(text);
  assert.ok(m, `no rejected series for ${code}`);
  return Number(m[1]);
}

test('a 128-byte message with non-ASCII text that ends in the close reason: the reason fits 123 bytes', async () => {
  const before = await rejected('PINGER_ERR_WS_VERSION');
  const frame = `{"v":"${'é'.repeat(60)}"}`;
  assert.equal(Buffer.byteLength(frame), 128);
  const r = await exchange(url, [frame], { auth: n1 });
  assert.equal(r.code, 4426);
  assertReason(r.reason, 'PINGER_ERR_WS_VERSION');
  assert.match(r.reason.toString(), /é/);
  // Other fields that end up in a reason: an unknown node's name, another node's name after a hello.
  // (Its credential derived from the secret: authenticated as a node the inventory does not have.)
  const name = 'ü'.repeat(126);
  const u = await exchange(url, [hello({ node: name })], { auth: authAs(c.token, name) });
  assert.equal(u.code, 4404);
  assertReason(u.reason, 'PINGER_ERR_WS_UNKNOWN_NODE');
  const m = await exchange(url, [hello(), JSON.stringify({ v: 3, type: 'heartbeat', node: '節'.repeat(84), at: 1 })], { auth: n1, afterFirstWaitFor: 1 });
  assert.equal(m.code, 4403);
  assertReason(m.reason, 'PINGER_ERR_WS_NODE_MISMATCH');
  assert.equal(await rejected('PINGER_ERR_WS_VERSION'), before + 1);
  await alive();
});

test('100,000-deep nesting is refused before anything walks it', async () => {
  const deep = (open: string, close: string) => open.repeat(100_000) + close.repeat(100_000);
  const frames = [
    `{"v":${deep('[', ']')}}`, // the wire version is quoted in the error: it used to be re-serialised whole
    `{"v":3,"type":"hello","node":${deep('{"a":', '}').replace(/\{"a":\}/, '{"a":1}')}}`,
    `{"v":3,"type":"clock","t0":${deep('[', ']')}}`,
  ];
  for (const f of frames) {
    const r = await exchange(url, [f], { auth: n1 });
    assert.equal(r.code, 4413, r.reason.toString());
    assertReason(r.reason, 'PINGER_ERR_WS_TOO_LARGE');
    assert.match(r.reason.toString(), /nested deeper than 10 levels/);
  }
  // After a hello too (results may be up to 16 MiB: the scan covers them).
  const results = `{"v":3,"type":"results","node":"node-1","round":1,"durationMs":1,"final":true,"bindings":{"internal":${deep('[', ']')}}}`;
  const r = await exchange(url, [hello(), results], { auth: n1, afterFirstWaitFor: 1 });
  assert.equal(r.code, 4413);
  await alive();
});

test('the 13 MB hello with 65,536 responders is cut off by the frame bound, a 1.4 MB one refused at once, the report still answers within 2 s', async () => {
  const big = hello({ responders: Array.from({ length: 65_536 }, (_, i) => responder(i, 'EADDRINUSE'.padEnd(120, '.'))) });
  assert.ok(Buffer.byteLength(big) > 13e6, `${Buffer.byteLength(big)} bytes`);
  // As a first message: bigger than any hello may be, refused unparsed.
  const polls: number[] = [];
  const poller = (async () => {
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await (await fetch(`${c.url}/api/v1/report`, { signal: AbortSignal.timeout(2000) })).json();
      polls.push(performance.now() - t0);
    }
  })();
  // Over the frame bound (2 MiB, the largest results message): ws drops the connection mid-frame (1009 when the
  // close reaches the sender before it finished sending, else 1006), first message or not.
  const r = await exchange(url, [big], { auth: n1 });
  assert.ok(r.code === 1009 || r.code === 1006, `close ${r.code}`);
  const r2 = await exchange(url, [hello(), big], { auth: n1, afterFirstWaitFor: 1 });
  assert.ok(r2.code === 1009 || r2.code === 1006, `close ${r2.code}`);
  // Under the frame bound but over a hello's, as a first message: bigger than any hello may be, refused unparsed.
  const mid = hello({ responders: Array.from({ length: 7000 }, (_, i) => responder(i, 'EADDRINUSE'.padEnd(120, '.'))) });
  assert.ok(Buffer.byteLength(mid) > 1.1 * 1024 * 1024 && Buffer.byteLength(mid) < 2 * 1024 * 1024, `${Buffer.byteLength(mid)} bytes`);
  const r1 = await exchange(url, [mid], { auth: n1 });
  assert.equal(r1.code, 4413);
  assertReason(r1.reason, 'PINGER_ERR_WS_TOO_LARGE');
  assert.match(r1.reason.toString(), /exceeds 1048576/);
  // After a valid hello, as a second one: parsed (results may be this large), then refused by its type's bound.
  const r2b = await exchange(url, [hello(), mid], { auth: n1, afterFirstWaitFor: 1 });
  assert.equal(r2b.code, 4413);
  assert.match(r2b.reason.toString(), /hello of \d+ bytes exceeds 1048576 \(only results may be larger\)/);
  await poller;
  assert.ok(Math.max(...polls) < 2000, `report took ${polls.map((p) => p.toFixed(0)).join(', ')} ms`);
  // Just over the responder bound, small enough in bytes: the schema names the field.
  const many = hello({ responders: Array.from({ length: limits.responders + 1 }, (_, i) => responder(i)) });
  assert.ok(Buffer.byteLength(many) < limits.controlBytes);
  const r3 = await exchange(url, [many], { auth: n1 });
  assert.equal(r3.code, 4400);
  assert.match(r3.reason.toString(), /^PINGER_ERR_WS_BAD_MESSAGE: responders: Too big: expected array to have <=4096 items/);
  // At the bound it is accepted (the node is known), and the connection stays open.
  const ok = await exchange(url, [hello({ responders: Array.from({ length: limits.responders }, (_, i) => responder(i)) })], { auth: n1, timeoutMs: 1500 });
  assert.equal(ok.code, 0, ok.reason.toString());
  assert.match(ok.received[0]!, /"type":"welcome"/);
  await alive();
});

test('a 1 MB detail is refused naming the field, and nothing of it reaches the report', async () => {
  const mb = 'x'.repeat(1_000_000);
  for (const [over, field] of [
    [{ responders: [responder(1, mb)] }, 'responders.0.detail'],
    [{ icmpDetail: mb }, 'icmpDetail'],
    [{ hostname: mb }, 'hostname'],
  ] as const) {
    const r = await exchange(url, [hello(over)], { auth: n1 });
    assert.equal(r.code, 4400, r.reason.toString());
    assertReason(r.reason, 'PINGER_ERR_WS_BAD_MESSAGE');
    assert.ok(r.reason.toString().includes(`${field}: Too big`), r.reason.toString());
  }
  const report = await (await fetch(`${c.url}/api/v1/report`)).text();
  assert.ok(report.length < 1_000_000, `${report.length} bytes`); // node-1's 4,096 responders of the test before are in it
  assert.ok(!report.includes('x'.repeat(1000)));
  assert.ok(!c.aggregator.output().includes('x'.repeat(100)), 'the log quotes at most a few characters of the input');
  await alive();
});

test('binary frames and invalid UTF-8 close the connection and are counted', async () => {
  const bin = await rejected('PINGER_ERR_WS_BAD_MESSAGE');
  const r = await exchange(url, [{ binary: Buffer.from(hello()) }], { auth: n1 });
  assert.equal(r.code, 4400);
  assert.equal(await rejected('PINGER_ERR_WS_BAD_MESSAGE'), bin + 1);
  const proto = await rejected('PINGER_ERR_WS_PROTOCOL');
  const u = await exchange(url, [Buffer.from([0x7b, 0xff, 0xfe, 0x7d])], { auth: n1 });
  assert.equal(u.code, 1007);
  assert.equal(await rejected('PINGER_ERR_WS_PROTOCOL'), proto + 1);
  await alive();
});

test('binary results after the hello: a well-formed frame is taken, a bad one closes with the reason', async () => {
  const m = {
    v: 3 as const,
    type: 'results' as const,
    node: 'node-1',
    round: 1,
    durationMs: 1,
    startedAt: Date.now(),
    final: true,
    bindings: { internal: packRows([{ peer: 'node-2', addr: '127.0.0.1', icmp: { sent: 1, recv: 1, rtt: [0.1, 0.1, 0.1, 0.1, 0.1], outcome: 'ok' } }]) },
  };
  const good = encodeResultsFrame(m)!;
  const rows = await (async () => Number(/^pinger_result_rows_total (\d+)$/m.exec(await (await fetch(`${c.url}/metrics`)).text())![1]))();
  const ok = await exchange(url, [hello(), { binary: good }], { auth: n1, afterFirstWaitFor: 1, timeoutMs: 1500 });
  assert.equal(ok.code, 0, `closed ${ok.code} ${ok.reason}`); // still open at the deadline: taken
  assert.equal(Number(/^pinger_result_rows_total (\d+)$/m.exec(await (await fetch(`${c.url}/metrics`)).text())![1]), rows + 1);
  const bad = Buffer.from(good);
  bad.writeUInt32LE(bad.length, 0); // a head longer than the frame
  const before = await rejected('PINGER_ERR_WS_BAD_MESSAGE');
  const r = await exchange(url, [hello(), { binary: bad }], { auth: n1, afterFirstWaitFor: 1 });
  assert.equal(r.code, 4400);
  assertReason(r.reason, 'PINGER_ERR_WS_BAD_MESSAGE');
  assert.match(r.reason.toString(), /binary frame: head of \d+ bytes in a frame of \d+/);
  assert.equal(await rejected('PINGER_ERR_WS_BAD_MESSAGE'), before + 1);
  await alive();
});

test('a flood of bad messages from one peer writes a bounded number of log lines', async () => {
  const peer = '127.0.0.77';
  const n = 1500;
  const before = c.aggregator.output().length;
  const b0 = await rejected('PINGER_ERR_WS_BAD_MESSAGE');
  const a0 = await rejected('PINGER_ERR_AUTH_TOKEN');
  let sent = 0;
  await Promise.all(
    Array.from({ length: 20 }, async (_, w) => {
      while (sent < n) {
        sent++;
        // Mostly bad messages, some with a bad token: both are the peer's doing.
        if (sent % 10 === 0) await exchange(url, ['{}'], { auth: 'Bearer node-1:wrong', localAddress: peer });
        else await exchange(url, [`{"v":3,"type":"nope","n":${w}}`], { auth: n1, localAddress: peer });
      }
    }),
  );
  const added = c.aggregator.output().slice(before);
  const lines = added.split('\n').filter((l) => l.includes(`"remote":"${peer}"`));
  const total = (await rejected('PINGER_ERR_WS_BAD_MESSAGE')) - b0 + (await rejected('PINGER_ERR_AUTH_TOKEN')) - a0;
  assert.ok(total >= n, `${total} rejects counted`);
  assert.ok(lines.length <= 20, `${lines.length} lines from ${peer}`);
  assert.ok(added.length < 30_000, `${added.length} bytes of log for ${n} bad messages`);
  await alive();
});

test('the aggregator sends uncompressed: no deflate stream per agent connection, while agents may still compress', async () => {
  // A deflate stream kept per connection for the aggregator's few small messages cost ~220 MB of RSS at 1,000
  // agents (BENCHMARKS.md); ws skips compression only with server_no_context_takeover negotiated.
  const ws = new WebSocket(url, { headers: { authorization: n1 }, perMessageDeflate: true });
  const ext = new Promise<string>((res) => ws.once('upgrade', (r) => res(String(r.headers['sec-websocket-extensions'] ?? ''))));
  const welcome = new Promise<string>((res) => ws.once('message', (d) => res(String(d))));
  await new Promise((res, rej) => ws.once('open', res).once('error', rej));
  // Over ws's 1 KiB threshold, so it goes deflated with the window the aggregator asked for, and must inflate.
  const big = hello({ responders: Array.from({ length: 30 }, (_, i) => responder(i)) });
  assert.ok(big.length > 2048, `${big.length} bytes`);
  ws.send(big);
  assert.match(await ext, /permessage-deflate/);
  assert.match(await ext, /server_no_context_takeover/);
  assert.match(await ext, /client_max_window_bits=11/, 'agents are asked for a 2 KiB window: less inflate state kept a connection');
  assert.match(await welcome, /"type":"welcome"/);
  // Nothing was inflated on our side: the welcome (over 1 KB with its peer list) came as a plain frame.
  const pmd = (ws as unknown as { _extensions: Record<string, { _inflate: unknown }> })._extensions['permessage-deflate'];
  assert.equal(pmd?._inflate ?? null, null);
  ws.close();
});

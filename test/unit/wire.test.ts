import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packRows } from '../../agent/contract/wire-packed.js';
import { resultsMessages } from '../../agent/results-msg.js';
import { z } from 'zod';
import {
  decodeAgentMessage,
  decodeServerMessage,
  encode,
  helloMsg,
  limits,
  MAX_MESSAGE_BYTES,
  nestedDeeperThan,
  responderInfo,
  responderOk,
  interfaceInfo,
  interfaceOk,
  dnsCheck,
  dnsCheckOk,
  type AgentMessage,
} from '../../agent/contract/wire.js';

const hello: AgentMessage = {
  v: 3,
  type: 'hello',
  node: 'node-1',
  agentVersion: '0.1.0',
  hostname: 'n1',
  icmp: 'available',
  interfaces: [{ binding: 'internal', address: '198.18.1.1', iface: 'eth0', mtu: 9000 }],
  responders: [{ binding: 'internal', address: '198.18.1.1', proto: 'tcp', port: 3306, state: 'in-use', detail: 'EADDRINUSE' }],
};
const results: AgentMessage = {
  v: 3,
  type: 'results',
  node: 'node-1',
  round: 3,
  durationMs: 812.5,
  final: true,
  bindings: {
    internal: packRows([
      {
        peer: 'node-2',
        addr: '2001:db8:1::2',
        icmp: { sent: 3, recv: 2, rtt: [0.05, 0.07, 0.1, 0.06, 0.1], outcome: 'filtered' },
        tcp: { '3306': 'refused' },
        mtu: { size: 8980, outcome: 'too-big' },
      },
    ]),
  },
};
/** One packed row toward n at 198.18.0.1 with a tcp key (and an icmp summary), its ints given. */
const packed = (tcp: string[], row: number[]) => ({ peers: ['n'], addrs: ['198.18.0.1'], tcp, udp: [], rows: row });

test('every agent message survives encode -> decode unchanged', () => {
  for (const m of [
    hello,
    results,
    { v: 3, type: 'heartbeat', node: 'node-1', at: 1, clock: { offsetMs: -3.2, rttMs: 0.4 } },
    { v: 3, type: 'clock', t0: 5 },
  ] as AgentMessage[]) {
    const d = decodeAgentMessage(encode(m));
    assert.ok(d.ok, d.ok ? '' : d.error);
    assert.deepEqual(d.msg, m);
  }
});

const bad: [what: string, input: string, error: RegExp][] = [
  ['not JSON', '{"v":3,', /^not JSON/],
  ['other version', JSON.stringify({ ...hello, v: 4 }), /^agent speaks wire v4; this aggregator speaks v3: upgrade the aggregator$/],
  ['a version that is no number', JSON.stringify({ ...hello, v: 'two' }), /^unsupported wire version "two" \(this aggregator speaks v3\)$/],
  ['unknown type', JSON.stringify({ v: 3, type: 'nope' }), /type/],
  [
    'bad address',
    JSON.stringify({ ...hello, interfaces: [{ binding: 'internal', address: '1.2.3', iface: null, mtu: null }] }),
    /interfaces\.0\.address: "1\.2\.3" is not an IP address/,
  ],
  [
    'unknown outcome code',
    JSON.stringify({ ...results, bindings: { internal: packed(['22'], [0, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 99]) } }),
    /^bindings\.internal: rows\.0: bad port outcome code/,
  ],
  [
    'port key not a number',
    JSON.stringify({ ...results, bindings: { internal: packed(['ssh'], [0, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0]) } }),
    /^bindings\.internal: tcp: "ssh" is not a port number/,
  ],
  ['extra field', JSON.stringify({ ...hello, evil: true }), /evil/],
  [
    'negative rtt',
    JSON.stringify({ ...results, bindings: { internal: packed([], [0, 0, 1, 1, 0, -5, 0, 0, 0, 0, -1, -1]) } }),
    /^bindings\.internal: rows\.0: bad RTT/,
  ],
];
for (const [what, input, error] of bad) {
  test(`decode refuses ${what} with a reason naming the field`, () => {
    const d = decodeAgentMessage(input);
    assert.equal(d.ok, false);
    assert.match((d as { error: string }).error, error);
  });
}

test('decode refuses an oversized message before parsing it', () => {
  const d = decodeAgentMessage(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 32));
  assert.equal(d.ok, false);
  assert.match((d as { error: string }).error, /exceeds/);
});

test('server messages decode, and agent messages are not server messages', () => {
  const w = {
    v: 3,
    type: 'welcome',
    serverTime: 1,
    plan: { profile: 'p', intervalMs: 1000, timeoutMs: 100, icmpCount: 3, bindings: { internal: { tcp: [22], udp: [], mtu: 9000 } } },
  };
  assert.ok(decodeServerMessage(JSON.stringify(w)).ok);
  assert.equal(decodeServerMessage(encode(hello)).ok, false);
});

test('a wire v1 agent is refused as such, naming both versions and who upgrades', () => {
  const d = decodeAgentMessage(JSON.stringify({ ...hello, v: 1 }));
  assert.deepEqual(d, { ok: false, why: 'version', error: 'agent speaks wire v1; this aggregator speaks v3: upgrade the agent' });
  const s = decodeServerMessage(JSON.stringify({ v: 4, type: 'run-now' }));
  assert.deepEqual(s, { ok: false, why: 'version', error: 'aggregator speaks wire v4; this agent speaks v3: upgrade the agent' });
});

test('a 1,000-node round for 6 bindings packs to well under a megabyte of JSON, in messages under the bound', () => {
  const row = {
    peer: 'juju-machine-999',
    addr: '198.18.200.250',
    icmp: { sent: 3, recv: 3, rtt: [0.123, 0.2, 0.311, 0.2, 0.311] as [number, number, number, number, number], outcome: 'ok' as const },
    tcp: { '3306': 'ok' as const, '33060': 'ok' as const },
  };
  const bindings = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((b) => [b, Array.from({ length: 999 }, () => row)]));
  const msgs = resultsMessages({ node: 'node-1', round: 3, durationMs: 1, startedAt: 0, bindings });
  const sizes = msgs.map((m) => Buffer.byteLength(encode(m)));
  const total = sizes.reduce((a, b) => a + b, 0);
  assert.ok(total < 0.6 * 1024 * 1024, `${total} bytes`);
  for (const [i, m] of msgs.entries()) {
    assert.ok(sizes[i]! <= limits.resultsBytes, `${sizes[i]} bytes`);
    const d = decodeAgentMessage(encode(m));
    assert.ok(d.ok, d.ok ? '' : d.error);
  }
});

test('nesting is measured on the raw bytes, strings and escapes skipped', () => {
  const cases: [json: string, depth: number][] = [
    ['1', 0],
    ['[]', 1],
    ['{"a":[{"b":[1]}]}', 4],
    ['"[[[[[[[[[[[[[[["', 0],
    ['["\\"[[[[[[[[[[[[", 1]', 1],
    ['["\\\\", [[1]]]', 3],
    ['[' + '"x",'.repeat(100) + '[[]]]', 3],
  ];
  for (const [json, depth] of cases) {
    const b = Buffer.from(json);
    assert.equal(nestedDeeperThan(b, depth), false, `${json} is not deeper than ${depth}`);
    if (depth > 0) assert.equal(nestedDeeperThan(b, depth - 1), true, `${json} is deeper than ${depth - 1}`);
  }
});

test('deep nesting, oversized control messages and long inputs are refused with short errors', () => {
  const deep = `{"v":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  const d = decodeAgentMessage(deep);
  assert.deepEqual(d.ok ? undefined : [d.why, d.error], ['depth', `nested deeper than ${limits.depth} levels`]);
  const bigHello = JSON.stringify({ ...hello, hostname: 'h', icmpDetail: 'x'.repeat(limits.controlBytes) });
  const h = decodeAgentMessage(bigHello);
  assert.equal(h.ok ? undefined : h.why, 'size');
  assert.match((h as { error: string }).error, /^hello of \d+ bytes exceeds 1048576 \(only results may be larger\)$/);
  // Before a hello the aggregator passes the control bound: refused before parsing.
  const early = decodeAgentMessage(bigHello, { maxBytes: limits.controlBytes });
  assert.match((early as { error: string }).error, /^message of \d+ bytes exceeds 1048576$/);
  // A 1 MB key or value is named, never quoted whole.
  for (const m of [
    { ...hello, ['k'.repeat(1_000_000)]: 1 },
    { ...hello, v: 'é'.repeat(1_000_000) },
    { ...hello, interfaces: [{ binding: 'internal', address: '1'.repeat(500_000), iface: null, mtu: null }] },
    { ...results, bindings: { ['b'.repeat(500_000)]: [] } },
  ]) {
    const r = decodeAgentMessage(JSON.stringify(m));
    assert.equal(r.ok, false);
    assert.ok((r as { error: string }).error.length < 800, (r as { error: string }).error.slice(0, 300));
  }
});

test('arrays and records at their bounds pass, one more is refused naming the field', () => {
  const responders = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ binding: 'b', address: '198.18.0.1', proto: 'tcp', port: 1 + i, state: 'listening' }));
  assert.ok(decodeAgentMessage(JSON.stringify({ ...hello, responders: responders(limits.responders) })).ok);
  assert.match(
    (decodeAgentMessage(JSON.stringify({ ...hello, responders: responders(limits.responders + 1) })) as { error: string }).error,
    /^responders: Too big/,
  );
  const bindings = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`b${i}`, packRows([])]));
  assert.ok(decodeAgentMessage(JSON.stringify({ ...results, bindings: bindings(limits.resultBindings) })).ok);
  assert.match(
    (decodeAgentMessage(JSON.stringify({ ...results, bindings: bindings(limits.resultBindings + 1) })) as { error: string }).error,
    /^bindings: more than 256 bindings/,
  );
  const detail = (n: number) => JSON.stringify({ ...hello, responders: [{ ...responders(1)[0], detail: 'é'.repeat(n) }] });
  assert.ok(decodeAgentMessage(detail(limits.responderDetailChars)).ok);
  assert.match((decodeAgentMessage(detail(limits.responderDetailChars + 1)) as { error: string }).error, /^responders\.0\.detail: Too big/);
});

test("a hello's responders: the plain-loop check accepts exactly what responderInfo accepts, and errors stay zod's", () => {
  const good = { binding: 'internal', address: '198.18.1.1', proto: 'tcp', port: 3306, state: 'listening' };
  const cases: [string, unknown][] = [
    ['as the agent sends it', good],
    ['with a detail', { ...good, state: 'in-use', detail: 'EADDRINUSE' }],
    ['IPv6, udp, denied', { ...good, address: '2001:db8::1', proto: 'udp', state: 'denied' }],
    ['port 65535', { ...good, port: 65535 }],
    ['detail at its bound', { ...good, detail: 'x'.repeat(limits.responderDetailChars) }],
    ['an extra key', { ...good, extra: 1 }],
    ['port 0', { ...good, port: 0 }],
    ['port 65536', { ...good, port: 65536 }],
    ['port 80.5', { ...good, port: 80.5 }],
    ['port as text', { ...good, port: '80' }],
    ['not an IP', { ...good, address: 'node-1' }],
    ['an address of 46 characters', { ...good, address: `${'1'.repeat(46)}` }],
    ['empty binding', { ...good, binding: '' }],
    ['binding of 254', { ...good, binding: 'b'.repeat(254) }],
    ['proto sctp', { ...good, proto: 'sctp' }],
    ['state open', { ...good, state: 'open' }],
    ['detail too long', { ...good, detail: 'x'.repeat(limits.responderDetailChars + 1) }],
    ['detail null', { ...good, detail: null }],
    ['binding missing', { address: good.address, proto: 'tcp', port: 1, state: 'listening' }],
    ['an array', [good]],
    ['null', null],
  ];
  for (const [what, r] of cases) {
    const zod = responderInfo.safeParse(r).success;
    assert.equal(responderOk(r), zod, `${what}: plain loop ${responderOk(r)}, zod ${zod}`);
    const d = decodeAgentMessage(JSON.stringify({ ...hello, responders: [good, r] }));
    const full = z.strictObject({ ...helloMsg.shape, responders: z.array(responderInfo) }).safeParse({ ...hello, responders: [good, r] });
    assert.equal(d.ok, full.success, what);
    if (!d.ok && !full.success)
      assert.match(d.error, new RegExp(`^responders\\.1${full.error.issues[0]!.path.length > 2 ? '\\.' : ':'}`), `${what}: ${d.error}`);
  }
  // Accepted responders come out as they came in.
  const d = decodeAgentMessage(JSON.stringify({ ...hello, responders: [good] }));
  assert.ok(d.ok && d.msg.type === 'hello' && JSON.stringify(d.msg.responders) === JSON.stringify([good]));
});

test("a hello's interfaces and DNS answers: the plain-loop checks accept exactly what zod accepts, and errors stay zod's", () => {
  const iface = { binding: 'internal', address: '198.18.1.1', iface: 'eth0', mtu: 9000, link: 'up' };
  const dns = { kind: 'address', binding: 'internal', query: '198.18.1.1', names: ['node-1.maas'], addresses: ['198.18.1.1'], ok: true };
  const tables: [string, z.ZodType, (x: unknown) => boolean, 'interfaces' | 'dns', [string, unknown][]][] = [
    [
      'interfaces',
      interfaceInfo,
      interfaceOk,
      'interfaces',
      [
        ['as the agent sends it', iface],
        ['no interface holds it, link unknown', { binding: 'internal', address: '2001:db8::1', iface: null, mtu: null }],
        ['lo: MTU 65536', { ...iface, iface: 'lo', mtu: 65536 }],
        ['MTU 68 and 2^20', { ...iface, mtu: 68 }],
        ['MTU 2^20', { ...iface, mtu: 1 << 20 }],
        ['MTU 67', { ...iface, mtu: 67 }],
        ['MTU past 2^20', { ...iface, mtu: (1 << 20) + 1 }],
        ['MTU 1500.5', { ...iface, mtu: 1500.5 }],
        ['MTU missing', { binding: 'internal', address: '198.18.1.1', iface: 'eth0' }],
        ['iface missing', { binding: 'internal', address: '198.18.1.1', mtu: 1500 }],
        ['iface of 65', { ...iface, iface: 'e'.repeat(65) }],
        ['link sideways', { ...iface, link: 'sideways' }],
        ['link null', { ...iface, link: null }],
        ['not an IP', { ...iface, address: 'eth0' }],
        ['empty binding', { ...iface, binding: '' }],
        ['an extra key', { ...iface, speed: 1000 }],
        ['a string', 'eth0'],
      ],
    ],
    [
      'dns',
      dnsCheck,
      dnsCheckOk,
      'dns',
      [
        ['as the agent sends it', dns],
        ['a hostname check without a binding, failed', { kind: 'hostname', query: 'node-1', names: [], addresses: [], ok: false, detail: 'ENOTFOUND' }],
        ['32 names, 64 addresses', { ...dns, names: Array(32).fill('n'), addresses: Array(64).fill('198.18.1.1') }],
        ['33 names', { ...dns, names: Array(33).fill('n') }],
        ['65 addresses', { ...dns, addresses: Array(65).fill('198.18.1.1') }],
        ['a name of 254', { ...dns, names: ['n'.repeat(254)] }],
        ['a name that is a number', { ...dns, names: [7] }],
        ['an address that is not one', { ...dns, addresses: ['node-1'] }],
        ['kind other', { ...dns, kind: 'other' }],
        ['binding null', { ...dns, binding: null }],
        ['empty binding', { ...dns, binding: '' }],
        ['query of 254', { ...dns, query: 'q'.repeat(254) }],
        ['ok as text', { ...dns, ok: 'true' }],
        ['names missing', { kind: 'address', query: 'x', addresses: [], ok: true }],
        ['detail too long', { ...dns, detail: 'd'.repeat(limits.detailChars + 1) }],
        ['detail at its bound', { ...dns, detail: 'd'.repeat(limits.detailChars) }],
        ['an extra key', { ...dns, ttl: 60 }],
        ['null', null],
      ],
    ],
  ];
  for (const [what, schema, ok, key, cases] of tables) {
    const good = cases[0]![1];
    for (const [c, x] of cases) {
      const zod = schema.safeParse(x).success;
      assert.equal(ok(x), zod, `${what}, ${c}: plain loop ${ok(x)}, zod ${zod}`);
      const d = decodeAgentMessage(JSON.stringify({ ...hello, [key]: [good, x] }));
      assert.equal(d.ok, zod, `${what}, ${c}`);
      if (!d.ok) assert.match(d.error, new RegExp(`^${key}\\.1[.:]`), `${what}, ${c}: ${d.error}`);
    }
    // Accepted entries come out as they came in.
    const d = decodeAgentMessage(JSON.stringify({ ...hello, [key]: [good] }));
    assert.ok(d.ok && d.msg.type === 'hello' && JSON.stringify(d.msg[key]) === JSON.stringify([good]), what);
  }
});

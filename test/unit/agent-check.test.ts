// What an agent sends is checked in plain loops (agent/contract/agent-check.ts); zod parses it only to word a
// refusal. The loops must never accept what the schemas refuse, and should accept what agents send: messages as
// the agent's encoders make them, then every field of each replaced by each of a set of wrong values, or removed;
// then the aggregator's decoder against the schema's own on every crafted and hostile message of the fuzz sessions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentMessageOk, decodeFromAgent, resultsOk } from '../../agent/contract/agent-check.js';
import { PeerSet } from '../../agent/contract/peer-set.js';
import { agentMessage, decodeAgentMessage, resultsMsg, WIRE_VERSION, type ResultsMsg, type TargetRow } from '../../agent/contract/wire.js';
import { builtinProfile, planFor } from '../../aggregator/profile.js';
import { fleetInventory, simHello } from '../bench/fleet-lib.js';
import { Gen, mutate, mutations, Session, type FuzzWorld } from '../helpers/fuzz-gen.js';
import { decodeResultsFrame, encodeResultsFrame } from '../../agent/contract/wire-binary.js';
import { resultsMessages, type RoundOut } from '../../agent/results-msg.js';

const rtt = [0.012, 0.2, 0.311, 0.2, 4.5] as [number, number, number, number, number];
const row = (i: number, extra: Partial<TargetRow> = {}): TargetRow => ({
  peer: `node-${i}`,
  addr: i % 2 ? `198.18.0.${i}` : `2001:db8::${i.toString(16)}`,
  icmp: { sent: 3, recv: 3, rtt, outcome: 'ok' },
  tcp: { '3306': 'ok', '5000': i % 3 ? 'ok' : 'refused' },
  ...extra,
});
const rows: TargetRow[] = [
  row(1),
  row(2, { udp: { '4789': 'error' }, mtu: { size: 8972, outcome: 'too-big' } }),
  row(3, { bandwidth: { mbps: 941.5, ms: 2000 } }),
  { peer: 'node-4', addr: '198.18.0.4' },
  row(5, { icmp: { sent: 3, recv: 0, rtt: null, outcome: 'filtered' } }),
];
const set = new PeerSet(Array.from({ length: 6 }, (_, i) => ({ name: `node-${i}`, addresses: { a: [row(i).addr], b: [row(i).addr] } })));
const out = (over: Partial<RoundOut> = {}): RoundOut => ({
  node: 'node-0',
  round: 7,
  durationMs: 1200,
  startedAt: 1_796_000_000_000,
  bindings: { a: rows, b: rows.slice(0, 2) },
  ...over,
});

/** Messages as the agent's encoder makes them, as the aggregator sees them: a frame's head parsed, rows as int32s. */
const asReceived = (m: ResultsMsg): ResultsMsg => {
  const d = decodeResultsFrame(encodeResultsFrame(m)!);
  assert.ok(d.ok, `the encoder's own message refused: ${d.ok ? '' : d.error}`);
  return d.msg;
};
const good: [string, ResultsMsg][] = [
  ['peers named', resultsMessages(out())[0]!],
  ['peers by index into a peer set', resultsMessages(out(), 5000, set)[0]!],
  ['a catch-up with its run-now time', resultsMessages(out({ catchUp: { requestedAt: 1_796_000_000_500 } }), 5000, set)[0]!],
  ['a binding without rows', resultsMessages(out({ bindings: { a: [] } }))[0]!],
  ...resultsMessages(out({ same: { a: { peers: ['node-1', 'node-2'], rows: rows.slice(0, 2) } } }), 5000, set).map(
    (m, i) => [`a delta round, message ${i}`, m] as [string, ResultsMsg],
  ),
];

test('the plain check accepts every message the encoder makes, as JSON and as a decoded frame', () => {
  for (const [what, m] of good) {
    const json = JSON.parse(JSON.stringify(m));
    assert.ok(resultsMsg.safeParse(json).success, `${what}: the schema refuses the encoder's message`);
    assert.equal(resultsOk(json), true, `${what} (JSON)`);
    assert.equal(resultsOk(asReceived(m)), true, `${what} (frame)`);
  }
  assert.ok(
    good.some(([, m]) => Object.values(m.bindings).some((t) => t.same && t.tally)),
    'a table with same and tally is in the table',
  );
});

// Each wrong value at each field: the kinds of mistake a peer can make in JSON.
const wrong: [string, unknown][] = [
  ['null', null],
  ['-1', -1],
  ['1.5', 1.5],
  ['2^53', 2 ** 53],
  ['1e300', 1e300],
  ['true', true],
  ['empty string', ''],
  ['a 254-character string', 'x'.repeat(254)],
  ['"abc"', 'abc'],
  ['an empty array', []],
  ['[1.5]', [1.5]],
  ['["x"]', ['x']],
  ['an object', { a: 1 }],
  ['a 20,001-element array', new Array(20_001).fill(0)],
];

/** Every path into `x` (arrays: the first two elements and the last), the container and the key at each. */
function* paths(x: unknown, at: string[] = []): Generator<string[]> {
  if (Array.isArray(x) || x instanceof Int32Array) {
    const n = x.length;
    for (const i of new Set([0, 1, n - 1].filter((i) => i >= 0 && i < n))) {
      yield [...at, String(i)];
      yield* paths((x as ArrayLike<unknown>)[i], [...at, String(i)]);
    }
  } else if (x && typeof x === 'object') {
    for (const k of Object.keys(x)) {
      yield [...at, k];
      yield* paths((x as Record<string, unknown>)[k], [...at, k]);
    }
  }
}
const cloneWith = (m: unknown, path: string[], v: unknown, del = false): unknown => {
  const c = JSON.parse(JSON.stringify(m));
  let o = c;
  for (const k of path.slice(0, -1)) o = o[k];
  if (del) delete o[path.at(-1)!];
  else o[path.at(-1)!] = v;
  return c;
};

/**
 * Every field of each message replaced by each wrong value, or removed: the plain check must answer as the schema
 * does (never wider; and where zod accepts, the plain check accepts too, else every such message pays zod).
 */
function holdToSchema(messages: [string, unknown][], zodOk: (x: unknown) => boolean, plainOk: (x: unknown) => boolean): { cases: number; refused: number } {
  let cases = 0;
  let refused = 0;
  for (const [what, m] of messages) {
    const json = JSON.parse(JSON.stringify(m));
    assert.ok(zodOk(json), `${what}: the schema refuses it`);
    assert.equal(plainOk(json), true, what);
    for (const path of paths(json)) {
      const variants: [string, unknown][] = [
        ...wrong.map(([w, v]) => [w, cloneWith(json, path, v)] as [string, unknown]),
        ['removed', cloneWith(json, path, undefined, true)],
      ];
      for (const [w, x] of variants) {
        const zod = zodOk(x);
        const plain = plainOk(x);
        cases++;
        if (!zod) refused++;
        assert.equal(plain, zod, `${what}: ${path.join('.')} = ${w}: plain ${plain}, zod ${zod}`);
      }
    }
  }
  return { cases, refused };
}

test('every field of every message, replaced by each wrong value or removed: the plain check is never wider than the schema', () => {
  const { cases, refused } = holdToSchema(good, (x) => resultsMsg.safeParse(x).success, resultsOk);
  assert.ok(cases > 1000 && refused > cases / 2, `${cases} cases, ${refused} refused`);
});

test('keys the schema does not know, at the message and at a table, are refused as zod refuses them', () => {
  const m = JSON.parse(JSON.stringify(good[1]![1]));
  for (const x of [
    { ...m, extra: 1 },
    { ...m, bindings: { ...m.bindings, a: { ...m.bindings.a, extra: 1 } } },
    { ...m, bindings: { ...m.bindings, '': m.bindings.a } },
    { ...m, bindings: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`b${i}`, m.bindings.a])) },
  ]) {
    assert.equal(resultsOk(x), false, JSON.stringify(x).slice(0, 300));
    assert.equal(resultsMsg.safeParse(x).success, false);
  }
  // A binding named __proto__ (JSON.parse makes it an own key): the plain check refuses it, and zod, which the
  // refusal falls back to, drops it as before: the message's other bindings still count.
  const proto = JSON.parse(JSON.stringify(m).replace('"bindings":{', '"bindings":{"__proto__":{"x":1},'));
  assert.equal(resultsOk(proto), false);
  const z = resultsMsg.safeParse(proto);
  assert.ok(z.success);
  assert.deepEqual(Object.keys(z.data.bindings), Object.keys(m.bindings));
});

test("a refused frame still gets the schema's own words", () => {
  const m = good[0]![1];
  const frame = encodeResultsFrame({ ...m, durationMs: 86_400_001 })!;
  const d = decodeResultsFrame(frame);
  assert.equal(d.ok, false);
  assert.match(d.ok ? '' : d.error, /durationMs/);
});

const inv = fleetInventory(4, 3);
const plan = planFor(builtinProfile('openstack'), inv);
const self = inv.nodes[1]!;
const others: [string, unknown][] = [
  ['the first hello', simHello(self)],
  ['the hello with responders open and DNS answers', simHello(self, plan, true)],
  ["a bonded node's hello with link facts", { ...simHello(self, plan, true, true), lldp: 'ok', icmpDetail: 'CAP_NET_RAW missing' }],
  ['a heartbeat', { v: WIRE_VERSION, type: 'heartbeat', node: 'node-1', at: 1_796_000_000_000 }],
  ['a heartbeat with its clock estimate', { v: WIRE_VERSION, type: 'heartbeat', node: 'node-1', at: 1_796_000_000_000, clock: { offsetMs: -3.5, rttMs: 0.4 } }],
  ['a clock request', { v: WIRE_VERSION, type: 'clock', t0: 1_796_000_000_000 }],
];

test("hellos, heartbeats and clock requests: every field replaced or removed, the plain check is the schema's", () => {
  const { cases, refused } = holdToSchema(others, (x) => agentMessage.safeParse(x).success, agentMessageOk);
  assert.ok(cases > 2000 && refused > cases / 2, `${cases} cases, ${refused} refused`);
});

test("the aggregator's decoder gives the schema decoder's answer, word for word, on every fuzz session's messages", () => {
  const w: FuzzWorld = { node: 'fz-0', nodes: ['node-1', 'node-2', 'fz-0', 'fz-1'], bindings: ['internal', 'shared-db'] };
  const g = new Gen(7);
  const counts = { ok: 0, refused: 0 };
  for (let i = 0; i < 30; i++) {
    const s = new Session(g, w);
    for (let j = 0; j < 40; j++) {
      const valid = s.crafted();
      const frames = [valid, ...mutations.map((k) => mutate(g, w, valid, k))];
      for (const f of frames) {
        if (typeof f !== 'string' && !Buffer.isBuffer(f)) continue; // binary frames: decodeResultsFrame's (wire-binary.test)
        const b = Buffer.isBuffer(f) ? f : Buffer.from(f);
        for (const opts of [{}, { maxBytes: 1024 }]) {
          const fast = decodeFromAgent(b, opts);
          const slow = decodeAgentMessage(b, opts);
          assert.deepEqual(fast, slow, `${b.subarray(0, 200).toString()}`);
          counts[fast.ok ? 'ok' : 'refused']++;
        }
      }
    }
  }
  assert.ok(counts.ok > 500 && counts.refused > 500, JSON.stringify(counts));
});

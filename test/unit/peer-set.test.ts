// Peers by index into a peer set (agent/contract/peer-set.ts): the id both ends compute, the agent's encoding
// (indices when every row is in the set, names otherwise), the schema's bounds, the aggregator's resolution (every
// index checked against the set, with the place of the first bad one) and the matrix reading resolved tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerSet, resolvePeerSet, type PeerSetNode } from '../../agent/contract/peer-set.js';
import { emptyTally } from '../../agent/contract/tally.js';
import { decodeAgentMessage, encode, limits, type ResultsMsg, type TargetRow } from '../../agent/contract/wire.js';
import { decodeResultsFrame, encodeResultsFrame } from '../../agent/contract/wire-binary.js';
import { packRows, packRowsIn, unpackRows } from '../../agent/contract/wire-packed.js';
import { resultsMessages, type RoundOut } from '../../agent/results-msg.js';
import { PeerOffer } from '../../agent/peer-offer.js';
import { BindingMatrix } from '../../aggregator/matrix.js';
import { PeerSets } from '../../aggregator/peer-sets.js';

const nodes: PeerSetNode[] = [
  { name: 'a', addresses: { internal: ['198.18.0.1'], public: ['198.18.1.1', '2001:db8::1'] } },
  { name: 'b', addresses: { internal: ['198.18.0.2'] } },
  { name: 'c', addresses: { public: ['198.18.1.3'], internal: ['198.18.0.3'] } },
];
const row = (peer: string, addr: string, outcome: 'ok' | 'refused' = 'ok'): TargetRow => ({
  peer,
  addr,
  icmp: { sent: 3, recv: 3, rtt: [0.1, 0.2, 0.3, 0.2, 0.3], outcome: 'ok' },
  tcp: { '3306': outcome },
});

test('the id: the same names and addresses in the same order give the same id; hostnames and binding key order do not count', () => {
  const id = new PeerSet(nodes).id;
  assert.match(id, /^[0-9a-f]{32}$/);
  const cases: [string, PeerSetNode[], boolean][] = [
    ['a copy', structuredClone(nodes), true],
    [
      'bindings listed in another order, hostnames added',
      nodes.map((n) => ({ ...n, hostname: `${n.name}.maas`, addresses: Object.fromEntries(Object.entries(n.addresses).reverse()) })),
      true,
    ],
    ['nodes in another order', [nodes[1]!, nodes[0]!, nodes[2]!], false],
    ['an address changed', nodes.map((n) => (n.name === 'b' ? { ...n, addresses: { internal: ['198.18.0.42'] } } : n)), false],
    [
      "a node's two addresses swapped",
      nodes.map((n) => (n.name === 'a' ? { ...n, addresses: { ...n.addresses, public: ['2001:db8::1', '198.18.1.1'] } } : n)),
      false,
    ],
    ['a node more', [...nodes, { name: 'd', addresses: { internal: ['198.18.0.4'] } }], false],
    ['a node renamed', nodes.map((n) => (n.name === 'c' ? { ...n, name: 'c2' } : n)), false],
  ];
  for (const [what, other, same] of cases) assert.equal(new PeerSet(other).id === id, same, what);
});

test("a set's lists: names in order, each binding's addresses node by node; indices of both", () => {
  const s = new PeerSet(nodes);
  assert.deepEqual(s.names, ['a', 'b', 'c']);
  assert.deepEqual(s.addrs('internal'), ['198.18.0.1', '198.18.0.2', '198.18.0.3']);
  assert.deepEqual(s.addrs('public'), ['198.18.1.1', '2001:db8::1', '198.18.1.3']);
  assert.deepEqual(s.addrs('nowhere'), []);
  assert.deepEqual([s.indexOf('c'), s.indexOf('z'), s.addrIndexOf('public', '198.18.1.3'), s.addrIndexOf('internal', '198.18.1.3')], [2, -1, 2, -1]);
  assert.equal(s.fits, true);
  const many = Array.from({ length: limits.rowsPerBinding + 1 }, (_, i) => ({ name: `n${i}`, addresses: { internal: ['198.18.0.1'] } }));
  assert.equal(new PeerSet(many).fits, false, 'indices past the wire bound: not offered');
});

const out = (bindings: Record<string, TargetRow[]>, extra: Partial<RoundOut> = {}): RoundOut => ({
  node: 'a',
  round: 1,
  durationMs: 5,
  startedAt: 1000,
  bindings,
  ...extra,
});

/** A message through the wire both ways (binary frame and text) and resolved as the aggregator does. */
function received(m: ResultsMsg, set: PeerSet): ResultsMsg[] {
  const frame = decodeResultsFrame(encodeResultsFrame(m)!);
  const text = decodeAgentMessage(encode(m));
  return [frame, text].map((d) => {
    assert.ok(d.ok, d.ok ? '' : d.error);
    const msg = d.msg as ResultsMsg;
    assert.equal(resolvePeerSet(msg, set), undefined);
    return msg;
  });
}

test('the agent indexes a round into the set, and the aggregator gets back the same rows by name', () => {
  const set = new PeerSet(nodes);
  const rows = { internal: [row('b', '198.18.0.2'), row('c', '198.18.0.3', 'refused')], public: [row('c', '198.18.1.3')] };
  const [m] = resultsMessages(out(rows), 5000, set);
  assert.equal(m!.peerSet, set.id);
  for (const t of Object.values(m!.bindings)) assert.deepEqual([t.peers, t.addrs], [[], []], 'no names on the wire');
  for (const got of received(m!, set)) {
    assert.deepEqual(unpackRows(got.bindings.internal!), rows.internal);
    assert.deepEqual(unpackRows(got.bindings.public!), rows.public);
    assert.equal(got.bindings.internal!.peers, set.names, "the set's own array, not a copy");
  }
  // Without a set, or with a row outside it (an address the set does not list), the message names its peers.
  const outside = { internal: [row('b', '198.18.0.2'), row('b', '198.18.0.99')] };
  for (const m2 of [...resultsMessages(out(rows)), ...resultsMessages(out(outside), 5000, set)]) {
    assert.equal(m2.peerSet, undefined);
    assert.ok(Object.values(m2.bindings).every((t) => t.peers.length > 0));
  }
  assert.equal(packRowsIn(outside.internal, set, 'internal'), undefined);
});

test("a delta round's unchanged peers go as indices too", () => {
  const set = new PeerSet(nodes);
  const same = { internal: { peers: ['b', 'c'], rows: [row('b', '198.18.0.2'), row('c', '198.18.0.3')] } };
  const msgs = resultsMessages(out({ internal: [] }, { same }), 5000, set);
  const t = msgs.find((m) => m.bindings.internal?.same)!;
  assert.equal(t.peerSet, set.id);
  assert.deepEqual(t.bindings.internal!.same, [1, 2]);
  const [got] = received(t, set);
  assert.deepEqual(
    got!.bindings.internal!.same!.map((i) => got!.bindings.internal!.peers[i]),
    ['b', 'c'],
  );
});

test('refused, with the place: bad indices, a table naming peers beside a set, a set never offered', () => {
  const set = new PeerSet(nodes);
  const good = resultsMessages(out({ internal: [row('b', '198.18.0.2')], public: [row('a', '2001:db8::1')] }), 5000, set)[0]!;
  const withRows = (b: string, f: (v: number[]) => void) => {
    const m = structuredClone(good);
    const rows = [...m.bindings[b]!.rows];
    f(rows);
    m.bindings[b]!.rows = rows;
    return m;
  };
  // Past the set: the schema cannot know the set, the resolution refuses it.
  const resolveCases: [string, ResultsMsg, PeerSet | undefined, RegExp][] = [
    ['a peer index past the set', withRows('internal', (v) => (v[0] = 3)), set, /bindings\.internal\.rows\.0: peer 3 is not in the peer set of 3/],
    ['an addr index past the binding', withRows('public', (v) => (v[1] = 3)), set, /bindings\.public\.rows\.0: addr 3 is not among the set's 3 addresses/],
    ['no set here', good, undefined, /peerSet [0-9a-f]{32}: not a peer set this aggregator offered/],
    ['another set', good, new PeerSet(nodes.slice(1)), /not a peer set this aggregator offered/],
  ];
  for (const [what, m, s, want] of resolveCases) assert.match(resolvePeerSet(structuredClone(m), s) ?? 'accepted', want, what);
  const sameOut = structuredClone(good);
  sameOut.bindings.internal = { ...sameOut.bindings.internal!, rows: [], same: [5], tally: emptyTally() };
  // The schema's own checks: tables of an indexed message name nothing; indices are non-negative ints in the wire bound.
  const schemaCases: [string, ResultsMsg, RegExp][] = [
    ['a table with peers beside a set', { ...good, bindings: { internal: packRows([row('b', '198.18.0.2')]) } }, /names no peers or addrs/],
    ['a negative index', withRows('internal', (v) => (v[0] = -1)), /peer or addr index out of range/],
    ['an index past the wire bound', withRows('internal', (v) => (v[1] = limits.rowsPerBinding)), /peer or addr index out of range/],
    ['a set id that is not one', { ...good, peerSet: 'x'.repeat(32) }, /peerSet/],
    ['indices without a set', { ...good, peerSet: undefined }, /peer or addr index out of range/],
  ];
  for (const [what, m, want] of schemaCases) {
    const d = decodeAgentMessage(encode(m));
    assert.equal(d.ok, false, what);
    if (!d.ok) assert.match(d.error, want, what);
  }
  const d = decodeAgentMessage(encode(sameOut));
  assert.ok(d.ok, d.ok ? '' : d.error);
  assert.match(resolvePeerSet(d.msg as ResultsMsg, set) ?? 'accepted', /bindings\.internal\.same: peer 5 is not in the peer set of 3/);
});

test('the matrix reads a resolved table by position and a named one by name: the same cells', () => {
  const sets = new PeerSets();
  const set = sets.adopt(nodes);
  const rows = [row('b', '198.18.0.2'), row('c', '198.18.0.3', 'refused')];
  const byIndex = new BindingMatrix('internal', set.names);
  const byName = new BindingMatrix('internal', ['a', 'b', 'c']);
  const [m] = received(resultsMessages(out({ internal: rows }), 5000, set)[0]!, set);
  assert.deepEqual(
    byIndex.apply('a', m!.bindings.internal!, 1000, () => 0),
    [],
  );
  assert.deepEqual(
    byName.apply('a', packRows(rows), 1000, () => 0),
    [],
  );
  assert.deepEqual(byIndex.stateRows(), byName.stateRows());
  assert.deepEqual(byIndex.cell('a', 'c'), byName.cell('a', 'c'));
  assert.equal(byIndex.cell('a', 'c')!.state, 'port');
});

test('the aggregator keeps the sets of the last reloads; an agent indexes only into a set offered on its connection (the last three)', () => {
  const sets = new PeerSets();
  const ids = [nodes, nodes.slice(0, 2), nodes.slice(1), nodes.slice(0, 1), nodes.slice(2)].map((n) => sets.adopt(n).id);
  assert.equal(sets.offered, ids[4]);
  assert.deepEqual(
    ids.map((id) => sets.get(id) !== undefined),
    [false, true, true, true, true],
    'the oldest of five is gone',
  );
  assert.equal(sets.adopt(nodes.slice(1)).id, ids[2], 'back to an earlier inventory: the same set');
  const offer = new PeerOffer();
  assert.equal(offer.setFor(nodes), undefined, 'nothing offered yet');
  offer.offer(new PeerSet(nodes).id);
  assert.equal(offer.setFor(nodes)?.id, new PeerSet(nodes).id);
  assert.equal(offer.setFor(nodes.slice(1)), undefined, 'our inventory differs from the one offered');
  // A push mid-round: the round's rows were probed with the old set, which the aggregator still holds.
  const inventories = [nodes.slice(1), nodes.slice(2), nodes.slice(3)];
  for (const inv of inventories) offer.offer(new PeerSet(inv).id);
  assert.equal(offer.setFor(nodes), undefined, 'three offers later, the first set is no longer used');
  for (const inv of inventories) assert.equal(offer.setFor(inv)?.id, new PeerSet(inv).id, 'each of the last three offers indexes');
  offer.offer(new PeerSet(inventories[0]!).id); // offered again (a plan with the same peers): newest again
  offer.offer(new PeerSet(nodes).id);
  assert.equal(offer.setFor(inventories[0]!)?.id, new PeerSet(inventories[0]!).id);
  assert.equal(offer.setFor(inventories[1]!), undefined);
  offer.offer(undefined);
  assert.equal(offer.setFor(nodes), undefined, 'an aggregator that stops offering: no earlier offer counts');
  offer.offer(new PeerSet(nodes).id);
  offer.clear();
  assert.equal(offer.setFor(nodes), undefined, 'a new connection forgets the offer');
  // Agents of one process may share the sets (the fleet benchmark's 500 a worker): the factory given is what builds them.
  const shared = new PeerSet(nodes);
  const built: unknown[] = [];
  const offers = [0, 1].map(() => new PeerOffer((n) => (built.push(n), shared)));
  for (const o of offers) o.offer(shared.id);
  assert.ok(offers.every((o) => o.setFor(nodes) === shared));
  assert.equal(built.length, 2, 'once an offer, not once a round');
  offers[0]!.setFor(nodes);
  assert.equal(built.length, 2);
});

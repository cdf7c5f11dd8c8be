// A hello's listening responders grouped by address: the plain-loop check against zod's, the grouping, and the
// hello that carries them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listeningGroups, listeningOk, splitResponders } from '../../agent/contract/listening.js';
import { listeningCount } from '../helpers/listening.js';
import { decodeAgentMessage, limits, WIRE_VERSION, type ResponderInfo } from '../../agent/contract/wire.js';

const good = { binding: 'internal', address: '198.18.1.1', tcp: [3306, 5672], udp: [4789] };

test('a group: the plain-loop check accepts exactly what zod accepts', () => {
  const ports = (n: number) => Array.from({ length: n }, (_, i) => 1 + i);
  const cases: [string, unknown, boolean][] = [
    ['as the agent sends it', good, true],
    ['IPv6, no udp', { ...good, address: '2001:db8::1', udp: [] }, true],
    ['ports at the bound', { ...good, tcp: ports(limits.responders) }, true],
    ['one port past the bound', { ...good, tcp: ports(limits.responders + 1) }, false],
    ['port 0', { ...good, tcp: [0] }, false],
    ['port 65536', { ...good, udp: [65536] }, false],
    ['port 80.5', { ...good, tcp: [80.5] }, false],
    ['port as text', { ...good, tcp: ['80'] }, false],
    ['not an IP', { ...good, address: 'node-1' }, false],
    ['an address of 46 characters', { ...good, address: '1'.repeat(46) }, false],
    ['empty binding', { ...good, binding: '' }, false],
    ['binding of 254', { ...good, binding: 'b'.repeat(254) }, false],
    ['an extra key', { ...good, state: 'listening' }, false],
    ['udp missing', { binding: good.binding, address: good.address, tcp: [] }, false],
    ['ports not a list', { ...good, tcp: 3306 }, false],
    ['an array', [good], false],
    ['null', null, false],
  ];
  for (const [what, x, want] of cases) {
    assert.equal(listeningOk(x), want, `${what}: plain loop`);
    assert.equal(listeningGroups.safeParse([x]).success, want, `${what}: zod`);
  }
});

test('splitResponders: listening ones grouped by address in first-seen order, the rest kept as they are', () => {
  const r = (binding: string, address: string, proto: 'tcp' | 'udp', port: number, state: ResponderInfo['state'] = 'listening'): ResponderInfo => ({
    binding,
    address,
    proto,
    port,
    state,
  });
  const all = [
    r('internal', '198.18.1.1', 'tcp', 3306),
    r('internal', '198.18.1.1', 'tcp', 5672, 'in-use'),
    r('internal', '2001:db8::1', 'tcp', 3306),
    r('internal', '198.18.1.1', 'udp', 4789),
    r('public', '198.18.2.1', 'tcp', 443),
  ];
  const s = splitResponders(all);
  assert.deepEqual(s.responders, [all[1]]);
  assert.deepEqual(s.listening, [
    { binding: 'internal', address: '198.18.1.1', tcp: [3306], udp: [4789] },
    { binding: 'internal', address: '2001:db8::1', tcp: [3306], udp: [] },
    { binding: 'public', address: '198.18.2.1', tcp: [443], udp: [] },
  ]);
  assert.equal(listeningCount(s), 4);
  assert.equal(listeningCount({ responders: all }), 4, 'the long form counts the same');
  assert.deepEqual(splitResponders([all[1]!]), { responders: [all[1]] }, 'none listening: no field');
});

test('a hello: groups bounded by the interfaces bound, and a bad group refused naming its place', () => {
  const hello = {
    v: WIRE_VERSION,
    type: 'hello',
    node: 'node-1',
    agentVersion: '1',
    hostname: 'node-1',
    icmp: 'available',
    interfaces: [],
    responders: [],
  };
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ ...good, address: `198.18.${i >> 8}.${i & 255}` }));
  assert.ok(decodeAgentMessage(JSON.stringify({ ...hello, listening: many(limits.interfaces) })).ok);
  const over = decodeAgentMessage(JSON.stringify({ ...hello, listening: many(limits.interfaces + 1) }));
  assert.ok(!over.ok && /^listening: Too big/.test(over.error), JSON.stringify(over));
  const bad = decodeAgentMessage(JSON.stringify({ ...hello, listening: [good, { ...good, tcp: [0] }] }));
  assert.ok(!bad.ok && /^listening\.1\.tcp\.0: /.test(bad.error), JSON.stringify(bad));
  const ok = decodeAgentMessage(JSON.stringify({ ...hello, listening: [good] }));
  assert.ok(ok.ok && ok.msg.type === 'hello' && ok.msg.listening?.[0]?.tcp[1] === 5672, 'accepted groups come out as they came in');
});

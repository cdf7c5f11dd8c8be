// The link-fact readers against sysfs/procfs fixture trees in the formats real hosts write
// (test/fixtures/sysfs/README.md says where each comes from), and against this machine's own /sys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCarrier, parseDuplex, parseProcBonding, parseSpeed, readLinkFact, readLinkFacts } from '../../agent/link-facts.js';
import { linkFact, type LinkFact } from '../../agent/contract/link-wire.js';

const root = (t: string) => `test/fixtures/sysfs/${t}`;
const partnerA = '58:6a:b1:c7:02:fa';

type Port = Partial<LinkFact['ports'][number]>;
const cases: { tree: string; iface: string; want: Partial<LinkFact>; ports: Port[] }[] = [
  {
    tree: 'bond-8023ad-up',
    iface: 'bond0.100',
    want: {
      kind: 'vlan',
      mtu: 9000,
      carrier: true,
      bond: { mode: '802.3ad', mii: 'up', aggregatorId: 1, ports: 2, actorKey: 15, partnerKey: 8, partnerMac: partnerA },
    },
    ports: [
      { iface: 'eno1', speedMbps: 10000, duplex: 'full', carrier: true, mii: 'up', aggregatorId: 1, partner: { systemMac: partnerA, key: 8, portState: 61 } },
      { iface: 'eno2', speedMbps: 10000, duplex: 'full', carrier: true, mii: 'up', aggregatorId: 1, partner: { systemMac: partnerA, key: 8, portState: 61 } },
    ],
  },
  {
    tree: 'bond-degraded',
    iface: 'bond0',
    want: {
      kind: 'bond',
      speedMbps: 10000,
      bond: { mode: '802.3ad', mii: 'up', aggregatorId: 1, ports: 1, actorKey: 15, partnerKey: 8, partnerMac: partnerA },
    },
    ports: [
      { iface: 'eno1', speedMbps: 10000, mii: 'up', aggregatorId: 1 },
      {
        iface: 'eno2',
        speedMbps: null,
        duplex: null,
        carrier: false,
        operstate: 'down',
        mii: 'down',
        aggregatorId: 2,
        linkFailures: 2,
        partner: { systemMac: '00:00:00:00:00:00', key: 1, portState: 1 },
      },
    ],
  },
  {
    tree: 'bond-partner-mismatch',
    iface: 'bond0',
    want: { kind: 'bond', bond: { mode: '802.3ad', mii: 'up', aggregatorId: 1, ports: 1, actorKey: 15, partnerKey: 8, partnerMac: partnerA } },
    ports: [
      { iface: 'eno1', mii: 'up', aggregatorId: 1, partner: { systemMac: partnerA, key: 8, portState: 61 } },
      { iface: 'eno2', mii: 'up', aggregatorId: 2, partner: { systemMac: '58:6a:b1:c7:0a:11', key: 12, portState: 61 } },
    ],
  },
  {
    tree: 'mixed-speed',
    iface: 'bond0',
    want: { kind: 'bond' },
    ports: [
      { iface: 'eno1', speedMbps: 10000, aggregatorId: 1 },
      { iface: 'eno2', speedMbps: 1000, aggregatorId: 2, actor: { systemMac: '74:85:c4:17:a5:48', key: 15, portState: 69 } },
    ],
  },
  {
    tree: 'mixed-speed',
    iface: 'eno3',
    want: { kind: 'physical', speedMbps: 1000, duplex: 'full', mtu: 1500 },
    ports: [{ iface: 'eno3', speedMbps: 1000, mtu: 1500 }],
  },
  {
    tree: 'veth',
    iface: 'eth1',
    want: { kind: 'virtual', speedMbps: null, duplex: null, carrier: true, mtu: 1500 },
    ports: [{ iface: 'eth1', speedMbps: null }],
  },
  { tree: 'veth', iface: 'eth2', want: { kind: 'virtual', speedMbps: null, mtu: 9000 }, ports: [{ iface: 'eth2', speedMbps: null }] },
];

for (const c of cases) {
  test(`link facts: ${c.tree} ${c.iface}`, () => {
    const f = readLinkFact('ceph-cluster', c.iface, { root: root(c.tree) });
    assert.equal(linkFact.safeParse(f).success, true, `the wire schema accepts it: ${JSON.stringify(linkFact.safeParse(f).error?.issues)}`);
    assert.equal(f.iface, c.iface);
    for (const [k, v] of Object.entries(c.want)) assert.deepEqual(f[k as keyof LinkFact], v, k);
    assert.deepEqual(
      f.ports.map((p) => p.iface),
      c.ports.map((p) => p.iface),
    );
    c.ports.forEach((want, i) => {
      for (const [k, v] of Object.entries(want)) assert.deepEqual(f.ports[i]![k as keyof Port], v, `${want.iface}.${k}`);
    });
    if (c.tree === 'veth' || c.iface === 'eno3') assert.equal(f.bond, undefined);
  });
}

const values: [string, unknown, unknown][] = [
  ['speed 10000', parseSpeed('10000\n'), 10000],
  ['speed -1 (link down)', parseSpeed('-1\n'), null],
  ['speed unreadable (EINVAL)', parseSpeed(undefined), null],
  ['speed garbage', parseSpeed('fast'), null],
  ['duplex unknown', parseDuplex('unknown\n'), null],
  ['duplex half', parseDuplex('half\n'), 'half'],
  ['carrier 0', parseCarrier('0\n'), false],
  ['carrier unreadable', parseCarrier(undefined), null],
];
for (const [what, got, want] of values) test(`parse ${what}`, () => assert.equal(got, want));

test('/proc/net/bonding: both member headers of newer kernels count once; a partner-less member has no partner', () => {
  const text =
    'Bonding Mode: fault-tolerance (active-backup)\nMII Status: up\n\nPort Interface: eth0\nSlave Interface: eth0\nMII Status: up\nSpeed: 25000 Mbps\nDuplex: full\nLink Failure Count: 0\n\nSlave Interface: eth1\nMII Status: going back\nSpeed: Unknown\nDuplex: Unknown\n';
  const b = parseProcBonding(text);
  assert.equal(b.mode, 'active-backup');
  assert.deepEqual(
    b.members.map((m) => [m.iface, m.mii, m.speedMbps]),
    [
      ['eth0', 'up', 25000],
      ['eth1', 'going back', null],
    ],
  );
  assert.equal(b.members[1]!.partner, undefined);
  assert.equal(b.active, undefined);
});

test('a hostile /proc/net/bonding stays bounded: at most 16 members, no value beyond the schema', () => {
  const text = Array.from({ length: 40 }, (_, i) => `Slave Interface: m${i}\nMII Status: up\nAggregator ID: 99999999\n`).join('\n');
  const b = parseProcBonding(text);
  assert.equal(b.members.length, 16);
  assert.ok(
    b.members.every((m) => m.aggregatorId === undefined),
    'a 16-bit id above 65535 is dropped',
  );
});

test("this machine's loopback: speed unknown (the read fails with EINVAL), not an error", () => {
  const f = readLinkFact('internal', 'lo');
  assert.equal(f.kind, 'loopback');
  assert.equal(f.speedMbps, null);
  assert.equal(f.mtu, 65536);
  assert.deepEqual(f.ports, []);
  assert.equal(linkFact.safeParse(f).success, true);
});

test('readLinkFacts: one fact per binding and interface; an address without an interface has none', () => {
  const fs = readLinkFacts(
    [
      { binding: 'a', iface: 'bond0' },
      { binding: 'a', iface: 'bond0' },
      { binding: 'b', iface: 'eno3' },
      { binding: 'c', iface: null },
    ],
    { root: root('mixed-speed') },
  );
  assert.deepEqual(
    fs.map((f) => [f.binding, f.iface]),
    [
      ['a', 'bond0'],
      ['b', 'eno3'],
    ],
  );
});

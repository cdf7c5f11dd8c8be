// A hello's link facts are checked in plain loops (agent/contract/link-check.ts); zod parses them only to word a
// refusal. The loop must accept exactly what the schema accepts: a table of facts, good and bad at every level.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkFactOk } from '../../agent/contract/link-check.js';
import { linkFact, type LinkFact } from '../../agent/contract/link-wire.js';
import { decodeAgentMessage, WIRE_VERSION } from '../../agent/contract/wire.js';
import { fleetInventory, simLinks } from '../bench/fleet-lib.js';

const good: LinkFact = simLinks(fleetInventory(3, 2).nodes[1]!)[0]!;
/** A copy of the good fact changed by `f` (which may set anything, typed or not). */
const mut = (f: (x: any) => void): unknown => {
  const x = structuredClone(good);
  f(x);
  return x;
};

const cases: [string, unknown][] = [
  ['a bonded VLAN as the agent reads it', good],
  [
    'a plain NIC: no bond, no LACP, no LLDP',
    mut((x) => {
      delete x.bond;
      x.kind = 'physical';
      x.ports = [{ iface: 'eth0', speedMbps: 1000, duplex: 'full', carrier: true, mtu: 1500, operstate: 'up' }];
    }),
  ],
  ['everything unknown is null', mut((x) => Object.assign(x, { speedMbps: null, duplex: null, carrier: null, mtu: null, operstate: null }))],
  ['no ports', mut((x) => (x.ports = []))],
  ['16 ports', mut((x) => (x.ports = Array.from({ length: 16 }, () => x.ports[0])))],
  ['17 ports', mut((x) => (x.ports = Array.from({ length: 17 }, () => x.ports[0])))],
  ['an extra key', mut((x) => (x.extra = 1))],
  ['binding empty', mut((x) => (x.binding = ''))],
  ['binding of 254', mut((x) => (x.binding = 'b'.repeat(254)))],
  ['iface of 16', mut((x) => (x.iface = 'e'.repeat(16)))],
  ['iface with a slash', mut((x) => (x.iface = 'a/b'))],
  ['iface with a space', mut((x) => (x.iface = 'a b'))],
  ['kind tunnel', mut((x) => (x.kind = 'tunnel'))],
  ['speed missing', mut((x) => delete x.speedMbps)],
  ['speed 10,000,000', mut((x) => (x.speedMbps = 10_000_000))],
  ['speed 10,000,001', mut((x) => (x.speedMbps = 10_000_001))],
  ['speed 1.5', mut((x) => (x.speedMbps = 1.5))],
  ['speed -1', mut((x) => (x.speedMbps = -1))],
  ['duplex auto', mut((x) => (x.duplex = 'auto'))],
  ['carrier 1', mut((x) => (x.carrier = 1))],
  ['mtu 67', mut((x) => (x.mtu = 67))],
  ['mtu 2^20 + 1', mut((x) => (x.mtu = 2 ** 20 + 1))],
  ['operstate of 17', mut((x) => (x.operstate = 'o'.repeat(17)))],
  ['bond null', mut((x) => (x.bond = null))],
  ['bond mode of 33', mut((x) => (x.bond.mode = 'm'.repeat(33)))],
  ['bond mii null', mut((x) => (x.bond.mii = null))],
  ['bond mii missing', mut((x) => delete x.bond.mii)],
  ['bond partnerMac upper case', mut((x) => (x.bond.partnerMac = '58:6A:B1:C7:02:FA'))],
  ['bond ports 65536', mut((x) => (x.bond.ports = 65536))],
  ['bond with an extra key', mut((x) => (x.bond.lacpRate = 'fast'))],
  ['port mii of 17', mut((x) => (x.ports[0].mii = 'm'.repeat(17)))],
  ['port linkFailures 2^32', mut((x) => (x.ports[0].linkFailures = 2 ** 32))],
  ['port linkFailures 2^32 + 1', mut((x) => (x.ports[0].linkFailures = 2 ** 32 + 1))],
  ['port aggregatorId -1', mut((x) => (x.ports[1].aggregatorId = -1))],
  ['port without its state', mut((x) => delete x.ports[0].carrier)],
  ['port as an array', mut((x) => (x.ports[0] = [x.ports[0]]))],
  ['actor portState 256', mut((x) => (x.ports[0].actor.portState = 256))],
  ['actor key missing', mut((x) => delete x.ports[0].actor.key)],
  ['partner systemMac short', mut((x) => (x.ports[1].partner.systemMac = '58:6a:b1:c7:02'))],
  ['partner with an extra key', mut((x) => (x.ports[1].partner.port = 3))],
  ['8 LLDP neighbours', mut((x) => (x.ports[0].lldp = Array.from({ length: 8 }, () => x.ports[0].lldp[0])))],
  ['9 LLDP neighbours', mut((x) => (x.ports[0].lldp = Array.from({ length: 9 }, () => x.ports[0].lldp[0])))],
  ['LLDP chassis of 256', mut((x) => (x.ports[0].lldp[0].chassis = 'c'.repeat(256)))],
  ['LLDP portDescr null', mut((x) => (x.ports[0].lldp[0].portDescr = null))],
  ['LLDP stale', mut((x) => (x.ports[0].lldp[0].stale = true))],
  ['LLDP stale as text', mut((x) => (x.ports[0].lldp[0].stale = 'yes'))],
  ['LLDP without port', mut((x) => delete x.ports[0].lldp[0].port)],
  ['null', null],
  ['a list', [good]],
];

test('linkFactOk accepts exactly what linkFact accepts', () => {
  for (const [what, x] of cases) assert.equal(linkFactOk(x), linkFact.safeParse(x).success, what);
  // The table has both kinds, or it proves nothing.
  const accepted = cases.filter(([, x]) => linkFactOk(x)).length;
  assert.ok(accepted >= 10 && accepted <= cases.length - 20, `${accepted} of ${cases.length} accepted`);
});

test("a hello's links: accepted as they came, refused naming the place zod names", () => {
  const hello = { v: WIRE_VERSION, type: 'hello', node: 'node-2', agentVersion: '1', hostname: 'node-2', icmp: 'available', interfaces: [], responders: [] };
  const ok = decodeAgentMessage(JSON.stringify({ ...hello, links: [good, good] }));
  assert.ok(ok.ok && ok.msg.type === 'hello');
  assert.deepEqual(ok.msg.type === 'hello' && ok.msg.links, [good, good]);
  const bad = decodeAgentMessage(JSON.stringify({ ...hello, links: [good, mut((x) => (x.ports[1].partner.portState = 256))] }));
  assert.ok(!bad.ok && /^links\.1\.ports\.1\.partner\.portState: /.test(bad.error), JSON.stringify(bad));
  const many = decodeAgentMessage(JSON.stringify({ ...hello, links: Array.from({ length: 65 }, () => good) }));
  assert.ok(!many.ok && /^links: Too big/.test(many.error), JSON.stringify(many));
});

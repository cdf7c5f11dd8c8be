// The agent's link watch: LLDP neighbours joined to the ports they were heard on, kept (stale) when they go
// quiet, the interface of a binding remembered when its link drops out of the interface list, and a changed
// flag only when the hello would say something new.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LinkWatch } from '../../agent/link-watch.js';
import type { LldpRead } from '../../agent/lldp.js';
import { parseLldpNeighbors } from '../../agent/lldp.js';

const sw = { chassis: 'sw-2', chassisId: 'aa:00:00:00:00:02', port: 'swp7', portDescr: 'node-4 eno1' };

test('LLDP heard, then quiet and the link gone: the port keeps its switch, marked stale; hello changes each time', async () => {
  let lldp: LldpRead = { state: 'ok', neighbours: new Map([['eno1', [sw]]]) };
  let now = 0;
  let calls = 0;
  const w = new LinkWatch({ root: 'test/fixtures/sysfs/bond-degraded', lldp: async () => (calls++, lldp), now: () => now });
  assert.deepEqual(w.fields(), {}, 'nothing before the first read');
  const ifs = [{ binding: 'storage', address: '198.18.7.4', iface: 'bond0' as string | null }];
  assert.equal(await w.refresh(ifs), true);
  assert.deepEqual(w.fields().links![0]!.ports[0]!.lldp, [sw]);
  now = 29_000;
  assert.equal(await w.refresh(ifs), false, 'nothing new');
  assert.equal(calls, 1, 'lldpcli asked again only after 30 s once it has answered');
  lldp = { state: 'ok', neighbours: new Map() };
  now = 60_000;
  assert.equal(await w.refresh([{ ...ifs[0]!, iface: null }]), true);
  const f = w.fields().links![0]!;
  assert.equal(f.iface, 'bond0', 'the interface last seen for that address');
  assert.deepEqual(f.ports[0]!.lldp, [{ ...sw, stale: true }]);
  now = 2 * 3_600_000;
  await w.refresh(ifs);
  assert.equal(w.fields().links![0]!.ports[0]!.lldp, undefined, 'forgotten after an hour');
});

test("lldpcli's JSON: one interface as an object, several as a list, named and unnamed chassis; junk skipped", () => {
  const one = {
    lldp: {
      interface: {
        eth1: {
          chassis: { 'sw-a': { id: { type: 'mac', value: '42:fd:3f:8a:24:84' } } },
          port: { id: { type: 'ifname', value: 'p1' }, descr: 'node-1 eth1', ttl: '120' },
        },
      },
    },
  };
  assert.deepEqual([...parseLldpNeighbors(one)], [['eth1', [{ chassis: 'sw-a', chassisId: '42:fd:3f:8a:24:84', port: 'p1', portDescr: 'node-1 eth1' }]]]);
  const many = {
    lldp: {
      interface: [
        { e1: { chassis: { id: { type: 'mac', value: 'aa:bb:cc:dd:ee:ff' } }, port: { id: { type: 'mac', value: '11:22:33:44:55:66' } } } },
        { 'bad/name': {} },
        { e2: { port: {} } },
      ],
    },
  };
  assert.deepEqual([...parseLldpNeighbors(many)], [['e1', [{ chassis: 'aa:bb:cc:dd:ee:ff', chassisId: 'aa:bb:cc:dd:ee:ff', port: '11:22:33:44:55:66' }]]]);
  assert.equal(parseLldpNeighbors({ lldp: {} }).size, 0);
  assert.equal(parseLldpNeighbors('nonsense').size, 0);
  const long = { lldp: { interface: { e1: { chassis: { ['x'.repeat(5000)]: { id: { value: 'y' } } }, port: { id: { value: 'z' } } } } } };
  assert.equal(parseLldpNeighbors(long).get('e1')![0]!.chassis.length, 255);
});

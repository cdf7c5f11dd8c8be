// The engine's own address helpers (it avoids loading node:net at start-up) agree with node:net.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { ipBytes, ipv6Text, isIP } from '../../../agent/probes/icmp-engine.js';

const inputs = [
  '127.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '198.18.1.300',
  '01.2.3.4',
  '1.2.3',
  '1.2.3.4.',
  ' 1.2.3.4',
  '1.2.3.4 ',
  '::',
  '::1',
  '1::',
  '2001:db8::1',
  '2001:DB8::A',
  '2001:db8:0:0:1:0:0:1',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7::',
  '::2:3:4:5:6:7:8',
  '1::2::3',
  ':::',
  '::ffff:1.2.3.4',
  '::1.2.3.4',
  '64:ff9b::1.2.3.4',
  'fe80::1%eth0',
  'fe80::1%',
  'fe80::1%e/0',
  '12345::',
  'g::1',
  '',
  'node-1',
  '1.2.3.4/24',
  '[::1]',
];

describe('isIP agrees with node:net', () => {
  for (const a of inputs) it(JSON.stringify(a), () => assert.equal(isIP(a), net.isIP(a)));
});

/** What node:net (inet_pton + inet_ntop) makes of an IPv6 address. */
const viaNet = (a: string): string => new net.SocketAddress({ address: a, family: 'ipv6' }).address;

describe('ipv6Text writes what inet_ntop does', () => {
  const fixed = [
    '::',
    '::1',
    '1::',
    '2001:db8::1',
    '2001:DB8:0:0:1:0:0:1',
    '2001:db8:0:1:1:1:1:1',
    '1:0:0:2:0:0:0:3',
    '1:0:0:2:0:0:3:4',
    '0:0:1:0:0:0:0:0',
    '::ffff:1.2.3.4',
    '::ffff:0:1.2.3.4',
    '::1.2.3.4',
    '::0.0.1.0',
    '::ffff:0',
    '64:ff9b::1.2.3.4',
    '1:2:3:4:5:6:7:8',
    'fe80::1',
  ];
  for (const a of fixed) it(a, () => assert.equal(ipv6Text(ipBytes(a)!, 0), viaNet(a)));
  it('random addresses with zero runs', () => {
    // Words drawn from {0, 1, 0xffff, random}: many zero runs of every length and position.
    for (let n = 0; n < 5000; n++) {
      const words = Array.from({ length: 8 }, () => {
        const r = Math.random();
        return r < 0.5 ? 0 : r < 0.6 ? 1 : r < 0.7 ? 0xffff : Math.floor(Math.random() * 0x10000);
      });
      const a = words.map((w) => w.toString(16)).join(':');
      assert.equal(ipv6Text(ipBytes(a)!, 0), viaNet(a), a);
    }
  });
});

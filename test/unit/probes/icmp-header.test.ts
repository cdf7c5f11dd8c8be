// The IP headers the ICMP engine writes for requests with a source address, on plain buffers (no sockets).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipBytes, isLocalAddress, pseudoHeaderSum6, writeIp4Header, writeIp6Header } from '../../../agent/probes/icmp-engine.js';

/** RFC 1071 checksum over whole buffers, written independently of the engine's incremental one. */
function checksum(...bufs: Buffer[]): number {
  const all = Buffer.concat(bufs);
  let s = 0;
  for (let i = 0; i < all.length; i += 2) s += (all[i]! << 8) | (all[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

describe('ipBytes', () => {
  const cases: [string, string | undefined][] = [
    ['198.18.1.2', 'c6120102'],
    ['0.0.0.0', '00000000'],
    ['2001:db8:1::3', '20010db8000100000000000000000003'],
    ['::1', '00000000000000000000000000000001'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
    ['2001:db8::', '20010db8000000000000000000000000'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['::ffff:198.18.0.1', '00000000000000000000ffffc6120001'],
    ['node-1', undefined],
    ['198.18.1.300', undefined],
  ];
  for (const [addr, hex] of cases) {
    it(addr, () => assert.equal(ipBytes(addr)?.toString('hex'), hex));
  }
});

describe('writeIp4Header', () => {
  for (const df of [false, true]) {
    it(`df=${df}`, () => {
      const b = Buffer.alloc(20, 0xee);
      writeIp4Header(b, ipBytes('198.18.1.3')!, ipBytes('198.18.2.2')!, df);
      // version/IHL, TOS, total length (kernel), id (kernel), flags, TTL 64, proto ICMP, checksum (kernel), addresses
      assert.equal(b.toString('hex'), `45000000 0000 ${df ? '4000' : '0000'} 4001 0000 c6120103 c6120202`.replace(/ /g, ''));
    });
  }
});

describe('writeIp6Header and the ICMPv6 checksum', () => {
  for (const size of [8, 64, 1461, 65535]) {
    it(`${size}-byte echo`, () => {
      const src = ipBytes('2001:db8:1::3')!;
      const dst = ipBytes('2001:db8:2::2')!;
      const h = Buffer.alloc(40);
      writeIp6Header(h, src, dst, size);
      assert.equal(h.readUInt32BE(0), 0x60000000);
      assert.equal(h.readUInt16BE(4), size);
      assert.equal(h[6], 58);
      assert.equal(h[7], 64);
      assert.deepEqual(h.subarray(8, 24), src);
      assert.deepEqual(h.subarray(24, 40), dst);
      // An echo with some content; its checksum from the pseudo-header sum must match RFC 4443's definition.
      const icmp = Buffer.alloc(size);
      icmp[0] = 128;
      icmp.writeUInt16BE(0xbeef, 4);
      icmp.writeUInt16BE(0x0102, 6);
      for (let i = 8; i < size; i++) icmp[i] = (i * 7) & 0xff;
      let s = pseudoHeaderSum6(src, dst, size);
      for (let i = 0; i < size; i += 2) s += (icmp[i]! << 8) | (icmp[i + 1] ?? 0);
      while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
      const pseudo = Buffer.alloc(40);
      src.copy(pseudo, 0);
      dst.copy(pseudo, 16);
      pseudo.writeUInt32BE(size, 32);
      pseudo[39] = 58;
      assert.equal(~s & 0xffff, checksum(pseudo, icmp));
    });
  }
});

describe('isLocalAddress', () => {
  const cases: [string, 4 | 6, boolean][] = [
    ['127.0.0.1', 4, true],
    ['127.10.0.3', 4, true], // all of 127/8 is routed to lo
    ['::1', 6, true],
    ['198.18.255.254', 4, false], // 198.18/15 exists only inside test namespaces
    ['2001:db8:ffff::1', 6, false],
  ];
  for (const [addr, fam, want] of cases) it(`${addr}: ${want}`, () => assert.equal(isLocalAddress(addr, fam), want));
});

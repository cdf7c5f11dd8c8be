// Packet parsing and outcome mapping of the ICMP engine, on hand-built packets (no sockets).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyIcmpError, classifySendError, errnoOf, newParsed, parseIcmp } from '../../../agent/probes/icmp-engine.js';

const ID = 0x1234;

function echo(type: number, id: number, seq: number, tag: number, size = 64): Buffer {
  const b = Buffer.alloc(size);
  b[0] = type;
  b.writeUInt16BE(id, 4);
  b.writeUInt16BE(seq, 6);
  if (size >= 12) b.writeUInt32BE(tag, 8);
  return b;
}

function ip4(src: string, dst: string, proto: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h[8] = 64;
  h[9] = proto;
  src.split('.').forEach((o, i) => (h[12 + i] = Number(o)));
  dst.split('.').forEach((o, i) => (h[16 + i] = Number(o)));
  return Buffer.concat([h, payload]);
}

function ip6(dst: string, next: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(payload.length, 4);
  h[6] = next;
  h[7] = 64;
  // source ::1, destination from a fully written-out address
  h[23] = 1;
  dst.split(':').forEach((w, i) => h.writeUInt16BE(parseInt(w, 16), 24 + 2 * i));
  return Buffer.concat([h, payload]);
}

function icmpError(type: number, code: number, rest: number, quoted: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h[1] = code;
  h.writeUInt32BE(rest, 4);
  return Buffer.concat([h, quoted]);
}

const parse = (family: 4 | 6, b: Buffer) => parseIcmp(family, b, b.length, newParsed());

describe('parseIcmp IPv4 (buffers include the IP header)', () => {
  it('reads an echo reply after a header of IHL words', () => {
    const b = ip4('127.0.0.1', '127.0.0.1', 1, echo(0, ID, 7, 99));
    const p = parse(4, b);
    assert.equal(p.kind, 'reply');
    assert.deepEqual([p.id, p.seq, p.tag, p.bytes], [ID, 7, 99, 64]);
  });

  it('honours IP options (IHL > 5)', () => {
    const b = ip4('127.0.0.1', '127.0.0.1', 1, Buffer.concat([Buffer.alloc(4), echo(0, ID, 8, 1)]));
    b[0] = 0x46;
    const p = parse(4, b);
    assert.deepEqual([p.kind, p.seq, p.bytes], ['reply', 8, 64]);
  });

  it('has no tag for an 8-byte echo', () => {
    const p = parse(4, ip4('127.0.0.1', '127.0.0.1', 1, echo(0, ID, 9, 0, 8)));
    assert.deepEqual([p.kind, p.tag, p.bytes], ['reply', -1, 8]);
  });

  it('ignores echo requests and unrelated types', () => {
    assert.equal(parse(4, ip4('127.0.0.1', '127.0.0.1', 1, echo(8, ID, 1, 1))).kind, 'none');
    assert.equal(parse(4, ip4('127.0.0.1', '127.0.0.1', 1, echo(13, ID, 1, 1))).kind, 'none');
    assert.equal(parse(4, Buffer.alloc(10)).kind, 'none');
  });

  const quoted = ip4('198.18.1.2', '198.18.2.2', 1, echo(8, ID, 300, 5));
  it('matches dest-unreachable by the quoted echo and its destination', () => {
    const p = parse(4, ip4('198.18.1.1', '198.18.1.2', 1, icmpError(3, 1, 0, quoted)));
    assert.deepEqual([p.kind, p.id, p.seq, p.tag, p.origDst, p.type, p.code], ['error', ID, 300, 5, '198.18.2.2', 3, 1]);
    assert.deepEqual(classifyIcmpError(4, p, '198.18.1.1'), {
      outcome: 'unreachable',
      detail: 'icmp4 3/1 host-unreachable from 198.18.1.1',
    });
  });

  it('reads the next-hop MTU of frag-needed as too-big', () => {
    const p = parse(4, ip4('198.18.1.1', '198.18.1.2', 1, icmpError(3, 4, 1400, quoted)));
    assert.equal(p.mtu, 1400);
    assert.deepEqual(classifyIcmpError(4, p, '198.18.1.1'), {
      outcome: 'too-big',
      detail: 'icmp4 3/4 frag-needed mtu 1400 from 198.18.1.1',
    });
  });

  it('maps time-exceeded to unreachable and parameter-problem to error', () => {
    const te = parse(4, ip4('198.18.1.1', '198.18.1.2', 1, icmpError(11, 0, 0, quoted)));
    assert.equal(classifyIcmpError(4, te, 'x').outcome, 'unreachable');
    const pp = parse(4, ip4('198.18.1.1', '198.18.1.2', 1, icmpError(12, 0, 0, quoted)));
    assert.equal(classifyIcmpError(4, pp, 'x').outcome, 'error');
  });

  it('ignores errors about other protocols or other ICMP messages', () => {
    const udp = ip4('198.18.1.2', '198.18.2.2', 17, Buffer.alloc(8));
    assert.equal(parse(4, ip4('198.18.1.1', '198.18.1.2', 1, icmpError(3, 3, 0, udp))).kind, 'none');
    const reply = ip4('198.18.1.2', '198.18.2.2', 1, echo(0, ID, 1, 1));
    assert.equal(parse(4, ip4('198.18.1.1', '198.18.1.2', 1, icmpError(3, 3, 0, reply))).kind, 'none');
    // quote cut before the ICMP header
    const cut = ip4('198.18.1.1', '198.18.1.2', 1, icmpError(3, 1, 0, quoted.subarray(0, 24)));
    assert.equal(parse(4, cut).kind, 'none');
  });
});

describe('parseIcmp IPv6 (buffers start at the ICMPv6 header)', () => {
  const dst = '2001:db8:2:0:0:0:0:2';
  const quoted = ip6(dst, 58, echo(128, ID, 65535, 0xdeadbeef));

  it('reads an echo reply', () => {
    const p = parse(6, echo(129, ID, 42, 7, 9000));
    assert.deepEqual([p.kind, p.id, p.seq, p.tag, p.bytes], ['reply', ID, 42, 7, 9000]);
  });

  it('matches packet-too-big with its MTU', () => {
    const p = parse(6, icmpError(2, 0, 1400, quoted));
    assert.deepEqual([p.kind, p.seq, p.tag, p.origDst, p.mtu], ['error', 65535, 0xdeadbeef, '2001:db8:2::2', 1400]);
    assert.deepEqual(classifyIcmpError(6, p, '2001:db8:1::1'), {
      outcome: 'too-big',
      detail: 'icmp6 2/0 packet-too-big mtu 1400 from 2001:db8:1::1',
    });
  });

  it('maps dest-unreachable codes and time-exceeded', () => {
    const p = parse(6, icmpError(1, 4, 0, quoted));
    assert.deepEqual(classifyIcmpError(6, p, '2001:db8:2::2'), {
      outcome: 'unreachable',
      detail: 'icmp6 1/4 port-unreachable from 2001:db8:2::2',
    });
    const a = parse(6, icmpError(1, 3, 0, quoted));
    assert.match(classifyIcmpError(6, a, 'r').detail, /address-unreachable/);
    const t = parse(6, icmpError(3, 0, 0, quoted));
    assert.equal(classifyIcmpError(6, t, 'r').outcome, 'unreachable');
    const pp = parse(6, icmpError(4, 0, 0, quoted));
    assert.equal(classifyIcmpError(6, pp, 'r').outcome, 'error');
  });

  it('looks through a fragment header of the first fragment only', () => {
    const frag = Buffer.alloc(8);
    frag[0] = 58;
    const first = ip6(dst, 44, Buffer.concat([frag, echo(128, ID, 5, 5)]));
    assert.equal(parse(6, icmpError(2, 0, 1280, first)).kind, 'error');
    const later = Buffer.from(frag);
    later.writeUInt16BE(1480, 2); // offset != 0: no ICMP header here
    assert.equal(parse(6, icmpError(2, 0, 1280, ip6(dst, 44, Buffer.concat([later, echo(128, ID, 5, 5)])))).kind, 'none');
  });

  it('ignores echo requests and errors about other next headers', () => {
    assert.equal(parse(6, echo(128, ID, 1, 1)).kind, 'none');
    assert.equal(parse(6, icmpError(1, 4, 0, ip6(dst, 17, Buffer.alloc(8)))).kind, 'none');
  });
});

describe('send errors', () => {
  it('recovers errno codes from raw-socket messages', () => {
    assert.equal(errnoOf(new Error('Message too long')), 'EMSGSIZE');
    assert.equal(errnoOf(new Error('Network is unreachable')), 'ENETUNREACH');
    assert.equal(errnoOf(new Error('something new')), 'something new');
  });
  it('maps them to outcomes', () => {
    const table: [string, string][] = [
      ['EMSGSIZE', 'too-big'],
      ['ENETUNREACH', 'unreachable'],
      ['EHOSTUNREACH', 'unreachable'],
      ['EADDRNOTAVAIL', 'unreachable'],
      ['EPERM', 'filtered'],
      ['EINVAL', 'error'],
    ];
    for (const [errno, outcome] of table) assert.equal(classifySendError(errno).outcome, outcome, errno);
  });
});

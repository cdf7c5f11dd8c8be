// A tiny authoritative DNS server on loopback for tests (node:dgram): answers A, AAAA and PTR queries from
// a table, NXDOMAIN for anything else. Enough for the agent's forward/reverse checks; nothing touches
// /etc/hosts or /etc/resolv.conf.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { isIP } from 'node:net';

export interface DnsTable {
  /** name -> addresses (A and AAAA) */
  forward: Record<string, string[]>;
  /** address -> names (PTR) */
  reverse: Record<string, string[]>;
}

export interface DnsServer {
  /** 127.0.0.1:PORT, for --dns-server */
  address: string;
  queries: number;
  close(): Promise<void>;
}

function readName(buf: Buffer, off: number): [string, number] {
  const labels: string[] = [];
  while (buf[off]! !== 0) {
    const len = buf[off]!;
    labels.push(buf.subarray(off + 1, off + 1 + len).toString('ascii'));
    off += len + 1;
  }
  return [labels.join('.'), off + 1];
}

function writeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')])), Buffer.from([0])]);
}

function ptrName(addr: string): string {
  if (isIP(addr) === 4) return `${addr.split('.').reverse().join('.')}.in-addr.arpa`;
  const groups = addr.split('::');
  const head = groups[0] ? groups[0].split(':') : [];
  const tail = groups[1] ? groups[1].split(':') : [];
  const full = [...head, ...new Array(8 - head.length - tail.length).fill('0'), ...tail].map((g) => g.padStart(4, '0')).join('');
  return `${full.split('').reverse().join('.')}.ip6.arpa`;
}

function rdata(type: number, value: string): Buffer {
  if (type === 1) return Buffer.from(value.split('.').map(Number));
  if (type === 28) {
    const p = ptrName(value).replace('.ip6.arpa', '').split('.').reverse().join('');
    return Buffer.from(p, 'hex');
  }
  return writeName(value);
}

export async function startDnsServer(table: DnsTable): Promise<DnsServer> {
  const sock = dgram.createSocket('udp4');
  const ptr = new Map<string, string[]>();
  for (const [a, names] of Object.entries(table.reverse)) ptr.set(ptrName(a), names);
  const server: DnsServer = { address: '', queries: 0, close: () => new Promise((r) => sock.close(() => r())) };
  sock.on('message', (q, rinfo) => {
    server.queries++;
    if (q.length < 17) return;
    const [qname, end] = readName(q, 12);
    const qtype = q.readUInt16BE(end);
    const name = qname.toLowerCase();
    let answers: string[] = [];
    if (qtype === 1 || qtype === 28) answers = (table.forward[name] ?? []).filter((a) => isIP(a) === (qtype === 1 ? 4 : 6));
    else if (qtype === 12) answers = ptr.get(name) ?? [];
    const known = qtype === 12 ? ptr.has(name) : name in table.forward;
    const header = Buffer.alloc(12);
    q.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8400 | (q.readUInt16BE(2) & 0x0100) | (known ? 0 : 3), 2); // response, authoritative, RD echoed, NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const question = q.subarray(12, end + 4);
    const rrs = answers.map((a) => {
      const data = rdata(qtype, a);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(data.length, 10);
      return Buffer.concat([rr, data]);
    });
    sock.send(Buffer.concat([header, question, ...rrs]), rinfo.port, rinfo.address);
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  server.address = `127.0.0.1:${sock.address().port}`;
  return server;
}

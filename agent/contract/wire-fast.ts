// The fast path for results rows (pure).
import { isIP } from 'node:net';
import { outcomes } from './probe.js';
import { isPlain, limits } from './wire-limits.js';

// A 1,000-node round is 6M rows; zod took ~5 us a row here (30 s of one core a round). `rowAccepted` accepts
// exactly what wire.ts's `targetRow` accepts (test/unit/wire-fast.test.ts checks them against each other on valid and
// mutated rows); on any doubt the row goes through zod, which also writes the error message. The schema
// (wire.ts) stays the one source of the types and of the rules.
const outcomeSet: ReadonlySet<unknown> = new Set(outcomes);
const portKey = /^[1-9][0-9]{0,4}$/;
const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isMs = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function portsAccepted(o: unknown): boolean {
  if (!isPlain(o)) return false;
  let n = 0;
  for (const k in o) if (++n > limits.portsPerRow || !portKey.test(k) || !outcomeSet.has(o[k])) return false;
  return true;
}

function icmpAccepted(o: unknown): boolean {
  if (!isPlain(o)) return false;
  let n = 0;
  for (const k in o) {
    n++;
    if (k !== 'sent' && k !== 'recv' && k !== 'rtt' && k !== 'outcome') return false;
  }
  if (n !== 4 || !isCount(o.sent) || !isCount(o.recv) || !outcomeSet.has(o.outcome)) return false;
  const rtt = o.rtt;
  if (rtt === null) return true;
  return Array.isArray(rtt) && rtt.length === 5 && rtt.every(isMs);
}

export function rowAccepted(r: unknown): boolean {
  if (!isPlain(r)) return false;
  for (const k in r) {
    const v = r[k];
    switch (k) {
      case 'peer':
        if (typeof v !== 'string' || v.length < 1 || v.length > 253) return false;
        break;
      case 'addr':
        if (typeof v !== 'string' || isIP(v) === 0) return false;
        break;
      case 'icmp':
        if (!icmpAccepted(v)) return false;
        break;
      case 'tcp':
      case 'udp':
        if (!portsAccepted(v)) return false;
        break;
      case 'mtu': {
        if (!isPlain(v)) return false;
        let n = 0;
        for (const mk in v) {
          n++;
          if (mk !== 'size' && mk !== 'outcome') return false;
        }
        const size = v.size;
        if (n !== 2 || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 68 || size > 65535 || !outcomeSet.has(v.outcome)) return false;
        break;
      }
      case 'bandwidth': {
        if (!isPlain(v)) return false;
        let n = 0;
        for (const bk in v) {
          n++;
          if (bk !== 'mbps' && bk !== 'ms') return false;
        }
        const { mbps, ms: w } = v;
        if (n !== 2 || !isMs(mbps) || (mbps as number) > limits.bandwidthMbps) return false;
        if (typeof w !== 'number' || !Number.isSafeInteger(w) || w < 0 || w > limits.bandwidthMs) return false;
        break;
      }
      default:
        return false;
    }
  }
  return 'peer' in r && 'addr' in r;
}

// One echo request inside the engine (Pending) and the checks a request passes before it is queued.
import { canonical6, ipBytes, isIP, isLocalAddress } from './address.js';
import { DEFAULT_SIZE, MAX_SIZE, type PingRequest, type PingResult } from './types.js';

export interface Pending {
  target: string; // canonical text, compared with the reply's source
  sendTo: string; // as given (keeps an IPv6 scope id)
  family: 4 | 6;
  df: boolean;
  /** With a source: its bytes and the target's, for the header we write; the socket is the family's HDRINCL one. */
  src: Buffer | undefined;
  dst: Buffer | undefined;
  size: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  cb: (r: PingResult) => void;
  seq: number; // -1 while queued
  tag: number;
  sentAt: number; // nowMs(): a double with sub-microsecond resolution, no BigInt per ping
  txAt: number; // the socket's send stamp (its own clock: see EngineSocket)
  deadline: number; // nowMs()
  done: boolean;
}

/** The request as a Pending not yet sent, or the detail of the 'error' it ends with (bad target, size or source). */
export function checkRequest(req: PingRequest, cb: (r: PingResult) => void): Pending | string {
  const family = isIP(req.target);
  if (family !== 4 && family !== 6) return `PINGER_ERR_ICMP_BAD_TARGET: '${req.target}' is not an IP address`;
  const target = family === 6 ? canonical6(req.target) : req.target;
  if (family === 6 && target.startsWith('::ffff:') && isIP(target.slice(7)) === 4) {
    return `PINGER_ERR_ICMP_BAD_TARGET: '${req.target}' is IPv4-mapped; use the IPv4 form`;
  }
  const size = req.size ?? DEFAULT_SIZE;
  if (!Number.isInteger(size) || size < 8 || size > MAX_SIZE[family]) {
    return `PINGER_ERR_ICMP_BAD_SIZE: ${size} (8..${MAX_SIZE[family]})`;
  }
  const df = req.df === true;
  let src: Buffer | undefined;
  let dst: Buffer | undefined;
  if (req.source !== undefined) {
    const sf = isIP(req.source);
    const bad = (why: string): string => `PINGER_ERR_ICMP_BAD_SOURCE: source '${req.source}' ${why}`;
    if (sf !== 4 && sf !== 6) return bad('is not an IP address');
    if (sf !== family) return bad(`is IPv${sf}, target '${req.target}' is IPv${family}`);
    const source = sf === 6 ? canonical6(req.source.replace(/%.*$/, '')) : req.source;
    // Never put an address that is not ours in a header: that would be a spoofed packet.
    if (!isLocalAddress(source, family)) return bad('is not an address of this host');
    src = ipBytes(source);
    dst = ipBytes(target);
  }
  return {
    target,
    sendTo: req.target,
    family,
    df,
    src,
    dst,
    size,
    timeoutMs: Math.max(0, req.timeoutMs),
    signal: req.signal,
    onAbort: undefined,
    cb,
    seq: -1,
    tag: 0,
    sentAt: 0,
    txAt: 0,
    deadline: 0,
    done: false,
  };
}

// The UDP echo probe and the echo protocol its responder speaks. A UDP port says nothing by itself (no
// handshake), so peers run a tiny echo responder on the overlay ports. It must never be usable for
// reflection: it answers only datagrams tagged with a key derived from the cluster secret and bound to its
// own address and port, recent (±10 min), its reply is exactly as long as the request, and it is rate-limited.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { ProbeFn, ProbeResult } from '../contract/probe.js';

const Q = Buffer.from('PNGQ');
const R = Buffer.from('PNGR');
/** magic 4 + time 8 + nonce 12 + tag 16: requests and replies are the same size, so there is no amplification. */
export const UDP_ECHO_BYTES = 40;
/** A request older or newer than this is ignored: a captured probe cannot be replayed for long. */
export const UDP_ECHO_WINDOW_MS = 10 * 60_000;

/**
 * The echo key: derived by the aggregator from the cluster secret (the secret never goes on the wire) and
 * sent to each agent in `welcome.udpKey`: agents hold only their own node credential.
 */
export function udpEchoKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('pinger-udp-echo-v1').digest();
}

/** Where probes and responders find the key: filled in when the aggregator's welcome brings it. */
export interface UdpKeyRef {
  current?: Buffer;
}

function tag(key: Buffer, parts: (Buffer | string)[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest().subarray(0, 16);
}

export function encodeRequest(key: Buffer, dst: string, port: number, now: number, nonce = randomBytes(12)): Buffer {
  const head = Buffer.alloc(12);
  Q.copy(head, 0);
  head.writeBigUInt64BE(BigInt(Math.floor(now)), 4);
  return Buffer.concat([head, nonce, tag(key, ['Q', head, nonce, `${dst}/${port}`])]);
}

/**
 * The responder's decision on one datagram: the reply to send, or null to stay silent. `dst`/`port` are
 * the responder's own address and port (a probe tagged for another responder is ignored).
 */
export function answer(key: Buffer, msg: Buffer, dst: string, port: number, now: number): Buffer | null {
  if (msg.length !== UDP_ECHO_BYTES || !msg.subarray(0, 4).equals(Q)) return null;
  const head = msg.subarray(0, 12);
  const ts = Number(msg.readBigUInt64BE(4));
  if (Math.abs(now - ts) > UDP_ECHO_WINDOW_MS) return null;
  const nonce = msg.subarray(12, 24);
  if (!timingSafeEqual(msg.subarray(24, 40), tag(key, ['Q', head, nonce, `${dst}/${port}`]))) return null;
  const reply = Buffer.from(msg);
  R.copy(reply, 0);
  tag(key, ['R', reply.subarray(0, 24)]).copy(reply, 24);
  return reply;
}

/** Whether `reply` answers `request` (same nonce, tagged with our key). */
export function isReplyTo(key: Buffer, request: Buffer, reply: Buffer): boolean {
  if (reply.length !== UDP_ECHO_BYTES || !reply.subarray(0, 4).equals(R)) return false;
  if (!reply.subarray(4, 24).equals(request.subarray(4, 24))) return false;
  return timingSafeEqual(reply.subarray(24, 40), tag(key, ['R', reply.subarray(0, 24)]));
}

/** A token bucket: at most `rate` replies a second, bursts up to `burst`. */
export class RateLimit {
  private tokens: number;
  private last: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The UDP echo probe for one cluster: 'ok' when a valid echo comes back, 'refused' on ICMP port unreachable. */
export function udpProbe(keyRef: UdpKeyRef): ProbeFn {
  return (req) =>
    new Promise<ProbeResult>((resolve) => {
      const key = keyRef.current;
      if (!key) return resolve({ outcome: 'error', detail: 'no UDP echo key from the aggregator yet' });
      const family = net.isIP(req.target);
      if (family === 0) return resolve({ outcome: 'error', detail: `PINGER_ERR_UDP_BAD_TARGET: '${req.target}' is not an IP address` });
      const port = req.port;
      if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535)
        return resolve({ outcome: 'error', detail: `PINGER_ERR_UDP_BAD_PORT: ${port}` });
      if (req.signal?.aborted) return resolve({ outcome: 'error', detail: 'aborted' });
      const sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
      const request = encodeRequest(key, req.target, port, Date.now());
      let done = false;
      const start = process.hrtime.bigint();
      const finish = (r: ProbeResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        sock.removeAllListeners();
        sock.on('error', () => {});
        try {
          sock.close();
        } catch {
          /* already closed */
        }
        resolve(r);
      };
      const onAbort = () => finish({ outcome: 'error', detail: 'aborted' });
      req.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => finish({ outcome: 'filtered', detail: 'timeout' }), Math.max(0, req.timeoutMs));
      sock.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? err.message;
        if (code === 'ECONNREFUSED') finish({ outcome: 'refused', detail: code });
        else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') finish({ outcome: 'unreachable', detail: code });
        else finish({ outcome: 'error', detail: code });
      });
      sock.on('message', (msg) => {
        if (isReplyTo(key, request, msg)) finish({ outcome: 'ok', rttMs: Number(process.hrtime.bigint() - start) / 1e6 });
      });
      // Connected: only the peer's datagrams reach us, and an ICMP port unreachable surfaces as ECONNREFUSED.
      sock.bind({ port: 0, ...(req.source ? { address: req.source } : {}) }, () => {
        sock.connect(port, req.target, () => sock.send(request));
      });
    });
}

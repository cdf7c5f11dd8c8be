// A hostile or broken "agent" for tests: opens a WebSocket to the aggregator, sends frames as given (text or
// binary, pipelined), and reports how the aggregator closed the connection.
import WebSocket from 'ws';
import { agentAuthorization, nodeCredential } from '../../agent/credential.js';

/** The Authorization header of `node`'s agent (its credential derived from the cluster secret). */
export const authAs = (secret: string, node: string) => agentAuthorization(node, nodeCredential(secret, node));

export interface Exchange {
  /** Close code (1006 when the connection dropped without a close frame; 0 when still open at the deadline). */
  code: number;
  reason: Buffer;
  /** Text messages the aggregator sent (welcome, clock replies). */
  received: string[];
  ms: number;
}

export interface PeerOptions {
  /** Authorization header value (see authAs). */
  auth: string;
  /** Source address on loopback (127.0.0.0/8): a distinct peer for the aggregator's per-peer limits. */
  localAddress?: string;
  /** Wait at most this long for the close; then close ourselves (code 0 in the result). */
  timeoutMs?: number;
  perMessageDeflate?: boolean;
  /** Wait for this many replies before sending the frames after the first (e.g. the welcome). */
  afterFirstWaitFor?: number;
}

export const agentWsUrl = (httpUrl: string) => `${httpUrl.replace(/^http/, 'ws')}/api/v1/agent`;

export function exchange(url: string, frames: (string | Buffer | { binary: Buffer })[], o: PeerOptions): Promise<Exchange> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { authorization: o.auth },
      perMessageDeflate: o.perMessageDeflate ?? false,
      maxPayload: 64 * 1024 * 1024,
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    const received: string[] = [];
    let done = false;
    const finish = (code: number, reason: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ code, reason, received, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => {
      finish(0, Buffer.alloc(0));
      ws.terminate();
    }, o.timeoutMs ?? 10_000);
    const sendAll = (list: typeof frames) => {
      for (const f of list) {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (typeof f === 'string') ws.send(f);
        else if (Buffer.isBuffer(f)) ws.send(f, { binary: false });
        else ws.send(f.binary, { binary: true });
      }
    };
    ws.on('open', () => {
      if (o.afterFirstWaitFor) sendAll(frames.slice(0, 1));
      else sendAll(frames);
    });
    ws.on('message', (d) => {
      received.push(d.toString());
      if (o.afterFirstWaitFor && received.length === o.afterFirstWaitFor) sendAll(frames.slice(1));
    });
    ws.on('close', (code, reason) => finish(code, reason));
    ws.on('error', (err) => {
      if (!done && ws.readyState === WebSocket.CONNECTING) {
        done = true;
        clearTimeout(timer);
        reject(err);
      }
    });
    ws.on('unexpected-response', (_req, res) => finish(res.statusCode ?? 0, Buffer.alloc(0)));
  });
}

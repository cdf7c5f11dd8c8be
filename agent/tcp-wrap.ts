// Node's own TCP handles (the tcp_wrap binding under node:net), for the probe and the responders.
// Why: a net.Socket is a full stream (state objects, events, buffers) and a probe only needs "did the
// handshake complete". Measured on loopback, both sides in one process: ~160 us of CPU per connect+accept
// through node:net, ~60 us through the handles (test/bench/round-cpu.ts). With 50 agents on 2 cores that
// is most of a probe round. The binding is on process.binding's allow-list on Node 20; where it is missing
// (a future Node) the callers fall back to node:net, which gives the same outcomes.
import { getSystemErrorName } from 'node:util';

interface ConnectReq {
  oncomplete: (status: number) => void;
}
interface SockName {
  address?: string;
  port?: number;
}
export interface TcpHandle {
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  listen(backlog: number): number;
  getsockname(out: SockName): number;
  getpeername(out: SockName): number;
  /** Closes with SO_LINGER 0: an RST, so no TIME_WAIT entry is left behind. */
  reset(cb?: () => void): number;
  close(cb?: () => void): void;
  onconnection: ((status: number, client: TcpHandle | undefined) => void) | null;
}
interface TcpWrapBinding {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectReq;
  constants: { SOCKET: number; SERVER: number };
}

function load(): TcpWrapBinding | undefined {
  try {
    const b = (process as unknown as { binding(name: string): TcpWrapBinding }).binding('tcp_wrap');
    const h = new b.TCP(b.constants.SOCKET);
    const ok = ['bind', 'bind6', 'connect', 'connect6', 'listen', 'getsockname', 'getpeername', 'reset', 'close'].every(
      (m) => typeof (h as unknown as Record<string, unknown>)[m] === 'function',
    );
    h.close();
    return ok && typeof b.TCPConnectWrap === 'function' ? b : undefined;
  } catch {
    return undefined;
  }
}

const binding = process.env.PINGER_TCP_NET === '1' ? undefined : load();

/** Whether the handle path is in use (false: node:net). Tests run both. */
export const tcpHandlesAvailable = binding !== undefined;

// libuv reports errors as negative errno values.
export const errName = (status: number): string => {
  try {
    return getSystemErrorName(status);
  } catch {
    return `E${-status}`;
  }
};

// Handles in flight are held here: nothing else in JavaScript references them while libuv works.
const live = new Set<TcpHandle>();

export interface ConnectOutcome {
  /** 0 when the handshake completed; else the errno name (ECONNREFUSED, EHOSTUNREACH, ...) or 'timeout'. */
  error: string | 0;
  rttMs?: number;
  /** Connected to itself (no listener on an ephemeral port): only checked when asked. */
  selfConnect?: boolean;
}

/**
 * One TCP handshake to target:port from source (any when undefined), then an RST. Never rejects. `abort`
 * is called back with a function that ends the attempt early (result 'aborted').
 */
export function connectOnce(
  target: string,
  family: 4 | 6,
  port: number,
  source: string | undefined,
  timeoutMs: number,
  checkSelf: boolean,
  onAbort?: (end: () => void) => void,
): Promise<ConnectOutcome> {
  const b = binding!;
  return new Promise((resolve) => {
    const h = new b.TCP(b.constants.SOCKET);
    live.add(h);
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: ConnectOutcome, reset: boolean): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      live.delete(h);
      // RST instead of FIN: an actively closed connection would sit in TIME_WAIT for 60 s, and 10k probes
      // per sweep exhaust the ephemeral ports. A still-connecting handle has nothing to reset.
      if (!reset || h.reset() !== 0) h.close();
      resolve(r);
    };
    if (source !== undefined) {
      const err = family === 6 ? h.bind6(source, 0, 0) : h.bind(source, 0);
      if (err) return finish({ error: errName(err) }, false);
    }
    const req = new b.TCPConnectWrap();
    const start = performance.now();
    req.oncomplete = (status: number) => {
      if (status !== 0) return finish({ error: errName(status) }, false);
      const rttMs = performance.now() - start;
      if (checkSelf) {
        const me: SockName = {};
        const peer: SockName = {};
        if (h.getsockname(me) === 0 && h.getpeername(peer) === 0 && me.port === peer.port && me.address === peer.address) {
          return finish({ error: 0, rttMs, selfConnect: true }, true);
        }
      }
      finish({ error: 0, rttMs }, true);
    };
    const err = family === 6 ? h.connect6(req, target, port) : h.connect(req, target, port);
    if (err) return finish({ error: errName(err) }, false);
    // libuv runs timers before polling for I/O: after the process was starved of CPU (many agents on few
    // cores) the timeout would fire before a connect that completed long ago is seen. Give the poll phase one
    // look first (setImmediate runs after it), so a busy prober does not report an open port as filtered.
    timer = setTimeout(() => setImmediate(() => finish({ error: 'timeout' }, false)), Math.max(0, timeoutMs));
    onAbort?.(() => finish({ error: 'aborted' }, false));
  });
}

export interface TcpListener {
  close(): Promise<void>;
}

/**
 * A listener that completes handshakes and closes each accepted connection at once: a prober only needs
 * the handshake. Throws an Error with the errno name as `code` (EADDRINUSE, EACCES, ...) when it cannot bind.
 */
export function listenOnce(address: string, family: 4 | 6, port: number, backlog: number): TcpListener {
  const b = binding!;
  const h = new b.TCP(b.constants.SERVER);
  const fail = (status: number): never => {
    h.close();
    const code = errName(status);
    throw Object.assign(new Error(`listen ${address} port ${port}: ${code}`), { code });
  };
  const bound = family === 6 ? h.bind6(address, port, 0) : h.bind(address, port);
  if (bound) fail(bound);
  h.onconnection = (_status, client) => {
    // FIN at once: the prober resets right after its handshake, so neither side keeps a TIME_WAIT entry.
    client?.close();
  };
  const listening = h.listen(backlog);
  if (listening) fail(listening);
  live.add(h);
  return {
    close: () =>
      new Promise<void>((r) => {
        if (!live.delete(h)) return r();
        h.close(() => r());
      }),
  };
}

// The TCP connect probe: is the port open from this source, and how long does the handshake take?
// Facts behind the choices (measured here): resetAndDestroy leaves no TIME_WAIT; a backlog overflow looks
// like a timeout; a closed port in the ephemeral range can connect to itself.
import net from 'node:net';
import { connectOnce, tcpHandlesAvailable } from '../tcp-wrap.js';
import type { ProbeFn, ProbeRequest, ProbeResult } from '../contract/probe.js';

// EACCES: Linux reports an ICMPv6 administratively-prohibited answer this way (IPv4's is EHOSTUNREACH).
const unreachableCodes = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EACCES']);

/** The outcome an errno name (ECONNREFUSED, EHOSTUNREACH, ...) stands for. */
function outcomeOf(code: string): ProbeResult {
  if (code === 'ECONNREFUSED') return { outcome: 'refused', detail: code };
  if (unreachableCodes.has(code)) return { outcome: 'unreachable', detail: code };
  if (code === 'ETIMEDOUT') return { outcome: 'filtered', detail: code }; // the kernel gave up on SYNs
  if (code === 'EPERM') return { outcome: 'filtered', detail: 'EPERM (local firewall)' }; // OUTPUT drop
  return { outcome: 'error', detail: code };
}

/** The request's mistakes, if any, as the probe's error result. */
function invalid(req: ProbeRequest, family: number): ProbeResult | undefined {
  // Literals only: a host name would mean a DNS lookup inside the probe's time.
  if (family === 0) return { outcome: 'error', detail: `PINGER_ERR_TCP_BAD_TARGET: '${req.target}' is not an IP address` };
  const port = req.port;
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return { outcome: 'error', detail: `PINGER_ERR_TCP_BAD_PORT: ${port}` };
  if (req.source !== undefined && net.isIP(req.source) !== family) {
    return { outcome: 'error', detail: `PINGER_ERR_TCP_BAD_SOURCE: '${req.source}' is not an IPv${family} address` };
  }
  if (req.signal?.aborted) return { outcome: 'error', detail: 'aborted' };
  return undefined;
}

/** Through Node's TCP handles: the same outcomes as node:net at a third of the CPU (see ../tcp-wrap.ts). */
const tcpProbeHandles: ProbeFn = async (req) => {
  const family = net.isIP(req.target);
  const bad = invalid(req, family);
  if (bad) return bad;
  const signal = req.signal;
  let onAbort: (() => void) | undefined;
  // A port in the ephemeral range with no listener can "connect" to itself (simultaneous open): that is a
  // closed port, not an open one. Bound to another source address it cannot (and asking costs two syscalls).
  const checkSelf = req.source === undefined || req.source === req.target;
  const r = await connectOnce(
    req.target,
    family as 4 | 6,
    req.port!,
    req.source,
    req.timeoutMs,
    checkSelf,
    signal && ((end) => signal.addEventListener('abort', (onAbort = end), { once: true })),
  );
  if (onAbort) signal!.removeEventListener('abort', onAbort);
  if (r.error === 0) return r.selfConnect ? { outcome: 'refused', detail: 'self-connect' } : { outcome: 'ok', rttMs: r.rttMs! };
  if (r.error === 'timeout') return { outcome: 'filtered', detail: 'timeout' };
  if (r.error === 'aborted') return { outcome: 'error', detail: 'aborted' };
  return outcomeOf(r.error);
};

/** Through node:net: where Node's TCP handles are not reachable. */
export const tcpProbeNet: ProbeFn = (req) =>
  new Promise<ProbeResult>((resolve) => {
    const family = net.isIP(req.target);
    const bad = invalid(req, family);
    if (bad) return resolve(bad);
    const port = req.port!;

    let done = false;
    let socket: net.Socket | undefined;
    const finish = (r: ProbeResult, rst: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (socket) {
        socket.removeAllListeners();
        socket.on('error', () => {}); // late errors after we decided
        // RST instead of FIN: an actively closed connection would sit in TIME_WAIT for 60 s, and 10k probes
        // per sweep exhaust the ephemeral ports. A still-connecting socket has nothing to reset.
        if (rst) socket.resetAndDestroy();
        else socket.destroy();
      }
      resolve(r);
    };
    const onAbort = (): void => finish({ outcome: 'error', detail: 'aborted' }, false);
    // libuv runs timers before polling for I/O: after the process was starved of CPU (many agents on few
    // cores) the timeout would fire before a connect that completed long ago is seen. Give the poll phase one
    // look first (setImmediate runs after it), so a busy prober does not report an open port as filtered.
    const timer = setTimeout(() => setImmediate(() => finish({ outcome: 'filtered', detail: 'timeout' }, false)), Math.max(0, req.timeoutMs));
    req.signal?.addEventListener('abort', onAbort, { once: true });

    const start = performance.now();
    try {
      socket = net.connect({ host: req.target, port, family, localAddress: req.source });
    } catch (e) {
      finish({ outcome: 'error', detail: (e as NodeJS.ErrnoException).code ?? String(e) }, false);
      return;
    }
    socket.once('connect', () => {
      const rttMs = performance.now() - start;
      const s = socket!;
      // A port in the ephemeral range with no listener can "connect" to itself (simultaneous open):
      // that is a closed port, not an open one. Bound to another source address it cannot (and asking
      // for the local address is a syscall per probe).
      if ((req.source === undefined || req.source === req.target) && s.localPort === s.remotePort && s.localAddress === s.remoteAddress) {
        finish({ outcome: 'refused', detail: 'self-connect' }, true);
        return;
      }
      finish({ outcome: 'ok', rttMs }, true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => finish(outcomeOf(err.code ?? err.message), false));
  });

/** The TCP connect probe: Node's TCP handles where available, else node:net. */
export const tcpProbe: ProbeFn = tcpHandlesAvailable ? tcpProbeHandles : tcpProbeNet;

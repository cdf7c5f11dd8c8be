// The ICMP echo probe: a thin ProbeFn over an IcmpEngine (agent/probes/icmp-engine.ts).
// `req.source` (the binding's own address) is honoured: the engine writes the IP header itself, since raw-socket
// has no bind() and the kernel would otherwise pick the source by route (on a node with several addresses, or
// the demo's 127.x addresses on lo, that tests another path). A source that is not ours is refused, never sent.
import { IcmpEngine, IcmpUnavailableError } from './icmp-engine.js';
import type { ProbeFn, ProbeResult } from '../contract/probe.js';

const unavailableDetail: Record<string, string> = {
  PINGER_ERR_ICMP_NO_CAP_NET_RAW: 'no CAP_NET_RAW',
  PINGER_ERR_ICMP_WORKER_THREAD: 'ICMP not available in a worker_thread',
};

export function makeIcmpProbe(engine: IcmpEngine): ProbeFn {
  return async (req): Promise<ProbeResult> => {
    try {
      const r = await engine.ping({
        target: req.target,
        size: req.size,
        df: req.df,
        ...(req.source !== undefined ? { source: req.source } : {}),
        timeoutMs: req.timeoutMs,
        signal: req.signal,
      });
      const out: ProbeResult = { outcome: r.outcome };
      if (r.rttMs !== undefined) out.rttMs = r.rttMs;
      if (r.lagged) out.lagged = true;
      if (r.detail !== undefined) out.detail = r.detail;
      return out;
    } catch (e) {
      // ICMP cannot run here at all: say so, never report it as up or down.
      if (e instanceof IcmpUnavailableError) {
        return { outcome: 'not-measured', detail: unavailableDetail[e.code] ?? `${e.code}: ${e.message}` };
      }
      return { outcome: 'error', detail: e instanceof Error ? e.message : String(e) };
    }
  };
}

let defaultEngine: IcmpEngine | undefined;

/** The process-wide engine most callers share (one id, up to four sockets, closed when idle). */
export function defaultIcmpEngine(): IcmpEngine {
  if (!defaultEngine || defaultEngine.isClosed) defaultEngine = new IcmpEngine();
  return defaultEngine;
}

/** ICMP probe on the shared default engine. */
export const icmpProbe: ProbeFn = (req) => makeIcmpProbe(defaultIcmpEngine())(req);

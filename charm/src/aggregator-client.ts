// The few calls the charm makes to the aggregator: the report (status, get-report) and run-check. Short
// timeouts: a hook must never wait long on the network.
import type { Report } from '../../aggregator/report.js';

export async function fetchReport(url: string, timeoutMs = 3000): Promise<Report | { error: string }> {
  try {
    const r = await fetch(`${url}/api/v1/report?matrix=states`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return { error: `HTTP ${r.status}` };
    return (await r.json()) as Report;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { error: e.cause?.code ?? (e.name === 'TimeoutError' ? 'timed out' : e.message) };
  }
}

export async function requestRound(url: string, token: string, timeoutMs = 3000): Promise<number> {
  const r = await fetch(`${url}/api/v1/run-check`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
  if (!r.ok) throw new Error(`run-check: HTTP ${r.status} ${await r.text()}`);
  return ((await r.json()) as { requested: number }).requested;
}

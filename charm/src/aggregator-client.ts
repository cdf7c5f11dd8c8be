// The few calls the charm makes to the aggregator: the report (status, get-report) and run-check. Short
// timeouts: a hook must never wait long on the network. Over https the cluster's CA is the only one trusted;
// with read auth on, the read token goes as a Bearer token.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Report } from '../../aggregator/report.js';

export interface Access {
  readToken?: string;
  /** PEM of the cluster CA (https only). */
  ca?: string;
}

function call(url: string, o: { method?: string; bearer?: string; ca?: string; timeoutMs: number }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: o.method ?? 'GET', headers: o.bearer ? { authorization: `Bearer ${o.bearer}` } : {}, ...(o.ca ? { ca: o.ca } : {}), timeout: o.timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
          if (body.length > 64 << 20) req.destroy(new Error('report larger than 64 MiB'));
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'timed out' })));
    req.on('error', reject);
    req.end();
  });
}

export async function fetchReport(url: string, timeoutMs = 3000, access: Access = {}): Promise<Report | { error: string }> {
  try {
    const r = await call(`${url}/api/v1/report?matrix=states`, {
      timeoutMs,
      ...(access.readToken ? { bearer: access.readToken } : {}),
      ...(access.ca ? { ca: access.ca } : {}),
    });
    if (r.status !== 200) return { error: `HTTP ${r.status}` };
    return JSON.parse(r.body) as Report;
  } catch (err) {
    const e = err as Error & { code?: string };
    return { error: e.code ?? e.message };
  }
}

export async function requestRound(url: string, token: string, timeoutMs = 3000, access: Access = {}): Promise<number> {
  const r = await call(`${url}/api/v1/run-check`, { method: 'POST', bearer: token, timeoutMs, ...(access.ca ? { ca: access.ca } : {}) });
  if (r.status !== 200) throw new Error(`run-check: HTTP ${r.status} ${r.body}`);
  return (JSON.parse(r.body) as { requested: number }).requested;
}

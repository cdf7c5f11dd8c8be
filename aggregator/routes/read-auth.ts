// Optional authentication of the read routes (report, pair, events, exports, page, /metrics), like
// Prometheus' web config: HTTP Basic with any user name and the read token as password (browsers ask once,
// then send it with every fetch and EventSource of the page), or `Authorization: Bearer <read token>`.
// The cluster secret is accepted too (its holder can do more anyway). /healthz stays open for probes;
// the agents' endpoint and the admin POST routes check their own credentials.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AGENT_WS_PATH } from '../../agent/contract/wire.js';
import { aggregatorErrors } from '../errors.js';

const open: ReadonlySet<string> = new Set(['/healthz', AGENT_WS_PATH]);

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The secret a request presents: the Basic password or the Bearer value. */
export function presented(header: string | undefined): string | undefined {
  if (!header) return undefined;
  if (header.startsWith('Bearer ')) return header.slice(7).trim();
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i < 0 ? undefined : decoded.slice(i + 1);
  }
  return undefined;
}

export function readAuth(app: FastifyInstance, opts: { readToken: string; secret: string }): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return;
    const path = req.url.split('?', 1)[0]!;
    if (open.has(path)) return;
    const given = presented(req.headers.authorization);
    if (given !== undefined && (same(given, opts.readToken) || same(given, opts.secret))) return;
    await reply
      .code(401)
      .header('www-authenticate', 'Basic realm="pinger", charset="UTF-8"')
      .send({ code: 'PINGER_ERR_AUTH_READ', error: aggregatorErrors.PINGER_ERR_AUTH_READ.message });
  });
}

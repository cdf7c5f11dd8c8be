// Admin routes that change the aggregator: only for holders of the cluster secret (the agents' token file).
import type { FastifyInstance } from 'fastify';
import { aggregatorErrors } from '../errors.js';
import type { ReloadResult } from '../reload.js';
import { tokenMatches } from './agent-ws.js';

export async function adminRoutes(app: FastifyInstance, opts: { token: string; reload?: () => ReloadResult }): Promise<void> {
  // Live inventory: the charm (or an operator) rewrote the inventory or profile; same as SIGHUP, with an answer.
  app.post('/api/v1/admin/reload', async (req, reply) => {
    if (!tokenMatches(req, opts.token)) return reply.code(401).send({ code: 'PINGER_ERR_AUTH_TOKEN', error: aggregatorErrors.PINGER_ERR_AUTH_TOKEN.message });
    if (!opts.reload) return reply.code(404).send({ code: 'PINGER_ERR_HTTP_NOT_FOUND', error: 'this aggregator was started without files to reload' });
    const r = opts.reload();
    if (!r.ok) {
      req.log.warn({ code: r.code }, `PINGER_ERR_RELOAD_REFUSED: ${r.error}; the running inventory and profile stay`);
      return reply.code(aggregatorErrors.PINGER_ERR_RELOAD_REFUSED.http).send({ code: 'PINGER_ERR_RELOAD_REFUSED', cause: r.code, error: r.error });
    }
    req.log.info(r.summary, 'inventory and profile reloaded');
    return r.summary;
  });
}

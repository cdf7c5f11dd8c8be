// GET /metrics: Prometheus exposition from the aggregator's own prom-client Registry (never the global one,
// so tests and embedders get exactly these series), then Pinger's families from metrics.ts, built once per scrape
// and written by exposition.ts.
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { HelloMsg, ResultsMsg } from '../../agent/contract/wire.js';
import { warmLinkLines } from '../link-metrics.js';
import { expositionChunks } from '../exposition.js';
import { collectMetrics, defaultMetricsOptions, ProbeTally, type MetricsOptions } from '../metrics.js';
import type { AggregatorState } from '../state.js';

/** prom-client's default metrics that break Prometheus naming (gauges ending in _total; promtool rejects them). */
const misnamedDefaults = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface MetricsRouteOptions {
  state: AggregatorState;
  metrics?: Partial<MetricsOptions>;
}

export async function metricsRoutes(app: FastifyInstance, opts: MetricsRouteOptions): Promise<void> {
  const { state } = opts;
  const options: MetricsOptions = { ...defaultMetricsOptions, ...opts.metrics };
  const registry = new Registry();
  // The process's own health (CPU, memory, event-loop lag, GC); the plain-count gauges duplicate the
  // misnamed ones, so dropping those loses nothing.
  collectDefaultMetrics({ register: registry });
  for (const n of misnamedDefaults) registry.removeSingleMetric(n);

  const tally = new ProbeTally(state.inventory.bindings);
  const onResults = (msg: ResultsMsg) => tally.observe(msg, (peers) => state.nodes.upOf(peers));
  state.on('results', onResults);
  const onHello = (node: string, hello: HelloMsg) => hello.links && warmLinkLines(node, hello.links);
  state.on('hello', onHello);
  app.addHook('onClose', async () => {
    state.off('results', onResults);
    state.off('hello', onHello);
  });

  let lastCollectSeconds = 0;
  app.get('/metrics', async (_req, reply) => {
    const t0 = process.hrtime.bigint();
    const s = state.snapshot();
    const families = collectMetrics({
      verdict: s.verdict,
      findings: s.findings,
      nodes: s.nodes,
      expected: state.inventory.nodes.length,
      matrices: state.matrices,
      inventory: state.inventory,
      counters: state.counters,
      tally,
      options,
      lastCollectSeconds,
      bandwidth: state.bandwidth,
      coverage: s.coverage,
    });
    // The process's metrics from prom-client, then ours from one plain writer (exposition.ts: ~5x faster a series),
    // as bytes: the families that did not change since the last scrape are sent as they were encoded then.
    const body = Buffer.concat([Buffer.from(`${await registry.metrics()}\n`), ...expositionChunks(families)]);
    lastCollectSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return reply.type(registry.contentType).send(body);
  });
}

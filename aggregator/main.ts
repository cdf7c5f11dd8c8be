// `pinger aggregator`: wires inventory, profile, state and server together, then listens.
import { parseArgs } from 'node:util';
import { makeLog, parseListen, readToken, required } from '../agent/cli-util.js';
import { PingerError } from '../agent/errors.js';
import { loadInventory } from '../agent/inventory.js';
import { builtinNames, loadProfile } from './profile.js';
import { makeReloader } from './reload.js';
import { buildServer, listenAlso } from './server.js';
import { AggregatorState } from './state.js';

export const aggregatorUsage = `pinger aggregator --listen HOST:PORT|unix:PATH [--listen ...] --inventory FILE --token-file FILE
  [--profile NAME|FILE] readiness profile: built in (${builtinNames().join(', ')}; default openstack) or a YAML file
  [--log-level LEVEL]  fatal, error, warn, info (default), debug
  [--pair-metrics-max-nodes N]  /metrics has series for every pair up to N nodes, else failing pairs only (default: 20)`;

export async function aggregatorMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      // Repeatable: e.g. 127.0.0.1:9300 for people plus a unix socket for agents in network namespaces.
      listen: { type: 'string', multiple: true },
      inventory: { type: 'string' },
      'token-file': { type: 'string' },
      profile: { type: 'string', default: 'openstack' },
      'log-level': { type: 'string', default: 'info' },
      'pair-metrics-max-nodes': { type: 'string', default: '20' },
    },
    strict: true,
  });
  required(values, ['listen', 'inventory', 'token-file'], 'PINGER_ERR_AGG_USAGE');
  const listens = values.listen!.map((l) => (l.startsWith('unix:') ? { path: unixPath(l) } : parseListen(l)));
  const profile = loadProfile(values.profile!);
  const pairMaxNodes = Number(values['pair-metrics-max-nodes']);
  if (!/^\d+$/.test(values['pair-metrics-max-nodes']!) || pairMaxNodes > 10_000) {
    throw new PingerError('PINGER_ERR_AGG_USAGE', `--pair-metrics-max-nodes ${JSON.stringify(values['pair-metrics-max-nodes'])}: expected a whole number of nodes, 0 to 10000`);
  }
  const state = new AggregatorState({ inventory: loadInventory(values.inventory!), profile });
  const reload = makeReloader(state, { inventory: values.inventory!, profile: values.profile! });
  const app = await buildServer({
    state,
    reload,
    token: readToken(values['token-file']!, 'PINGER_ERR_AGG_TOKEN'),
    logLevel: values['log-level']!,
    metrics: { pairMaxNodes },
  });
  const log = makeLog('pinger-aggregator');
  // fastify listens once; any further listener forwards its requests and upgrades to the same app.
  const [first, ...more] = listens;
  const addr = await app.listen('path' in first! ? { path: first.path } : { host: first!.host, port: first!.port });
  log('info', `listening on ${addr}; report at ${addr}/api/v1/report`);
  for (const l of more) {
    const extra = await listenAlso(app, l);
    log('info', `also listening on ${extra}`);
  }
  // Live inventory: `systemctl reload` (ExecReload=/bin/kill -HUP $MAINPID) re-reads inventory and profile.
  process.on('SIGHUP', () => {
    const r = reload();
    if (r.ok) log('info', `reloaded: ${r.summary.nodes} nodes (added ${r.summary.added.length}, removed ${r.summary.removed.length}, changed ${r.summary.changed.length}), ${r.summary.keptPairs} pair results kept`);
    else log('error', `PINGER_ERR_RELOAD_REFUSED: ${r.error}; the running inventory and profile stay`);
  });
  await new Promise<void>((resolve) => {
    const stop = () => void app.close().then(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

function unixPath(l: string): string {
  const path = l.slice('unix:'.length);
  if (!path.startsWith('/')) throw new PingerError('PINGER_ERR_AGG_USAGE', `--listen ${JSON.stringify(l)}: expected unix:/absolute/path`);
  return path;
}

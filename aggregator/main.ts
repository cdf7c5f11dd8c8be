// `pinger aggregator`: wires inventory, profile, state and server together, then listens.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { makeLogger } from '../agent/log.js';
import { parseListen, readToken, required } from '../agent/cli-util.js';
import { PingerError } from '../agent/contract/errors.js';
import { loadInventory } from '../agent/contract/inventory.js';
import { loadProfile } from './profile.js';
import { makeReloader } from './reload.js';
import { buildServer, listenAlso } from './server.js';
import { AggregatorState } from './state.js';
import { listenOrExplain, showAddress } from './listen-error.js';

/** The options of `pinger aggregator`, as commander hands them over (cli/pinger.ts declares them). */
export interface AggregatorOptions {
  listen?: string[];
  inventory?: string;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  plain?: boolean;
  readTokenFile?: string;
  profile?: string;
  logLevel?: string;
  pairMetricsMaxNodes?: string;
}

export async function aggregatorMain(opts: AggregatorOptions): Promise<number> {
  const values = { profile: 'openstack', logLevel: 'info', pairMetricsMaxNodes: '20', ...opts };
  required(values, ['listen', 'inventory', 'token-file'], 'PINGER_ERR_AGG_USAGE');
  const listens = values.listen!.map((l) => (l.startsWith('unix:') ? { path: unixPath(l) } : parseListen(l)));
  const profile = loadProfile(values.profile!);
  const pairMaxNodes = Number(values.pairMetricsMaxNodes);
  if (!/^\d+$/.test(values.pairMetricsMaxNodes!) || pairMaxNodes > 10_000) {
    throw new PingerError(
      'PINGER_ERR_AGG_USAGE',
      `--pair-metrics-max-nodes ${JSON.stringify(values.pairMetricsMaxNodes)}: expected a whole number of nodes, 0 to 10000`,
    );
  }
  const tls = tlsFiles(values.tlsCert, values.tlsKey, values.plain ?? false);
  const readTok = values.readTokenFile ? readToken(values.readTokenFile, 'PINGER_ERR_AGG_TOKEN') : undefined;
  const state = new AggregatorState({ inventory: loadInventory(values.inventory!), profile });
  const reload = makeReloader(state, { inventory: values.inventory!, profile: values.profile! });
  const app = await buildServer({
    state,
    reload,
    token: readToken(values.tokenFile!, 'PINGER_ERR_AGG_TOKEN'),
    ...(tls ? { tls } : {}),
    ...(readTok ? { readToken: readTok } : {}),
    logLevel: values.logLevel!,
    metrics: { pairMaxNodes },
  });
  // Start-up lines at info whatever --log-level says: people and tests read the address from them.
  const log = makeLogger({ component: 'aggregator', level: 'info' });
  // fastify listens once; any further listener forwards its requests and upgrades to the same app.
  const [first, ...more] = listens;
  let addr: string;
  try {
    addr = await listenOrExplain(showAddress(first!), () => app.listen('path' in first! ? { path: first.path } : { host: first!.host, port: first!.port }));
    log.info(`listening on ${addr}; report at ${addr}/api/v1/report`);
    for (const l of more) {
      const extra = await listenOrExplain(showAddress(l), () => listenAlso(app, l));
      log.info(`also listening on ${extra}`);
    }
  } catch (err) {
    await app.close();
    throw err;
  }
  // Live inventory: `systemctl reload` (ExecReload=/bin/kill -HUP $MAINPID) re-reads inventory and profile.
  process.on('SIGHUP', () => {
    const r = reload();
    if (r.ok)
      app.log.info(
        `reloaded: ${r.summary.nodes} nodes (added ${r.summary.added.length}, removed ${r.summary.removed.length}, changed ${r.summary.changed.length}), ${r.summary.keptPairs} pair results kept`,
      );
    else app.log.error({ code: 'PINGER_ERR_RELOAD_REFUSED' }, `PINGER_ERR_RELOAD_REFUSED: ${r.error}; the running inventory and profile stay`);
  });
  await new Promise<void>((resolve) => {
    const stop = () => void app.close().then(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** The certificate and key, checked now (a key that does not match its certificate fails here, not per client). */
function tlsFiles(cert: string | undefined, key: string | undefined, plain: boolean): { cert: Buffer; key: Buffer } | undefined {
  if (plain && (cert || key)) throw new PingerError('PINGER_ERR_AGG_USAGE', '--plain and --tls-cert/--tls-key exclude each other');
  if (plain) return undefined;
  if (!cert || !key) {
    throw new PingerError(
      'PINGER_ERR_AGG_TLS',
      'give --tls-cert and --tls-key (README "Security": how to make them with openssl), or --plain for plain HTTP and ws://',
    );
  }
  const read = (f: string) => {
    try {
      return readFileSync(f);
    } catch (err) {
      throw new PingerError('PINGER_ERR_AGG_TLS', `${f}: ${(err as Error).message}`);
    }
  };
  const files = { cert: read(cert), key: read(key) };
  try {
    createSecureContext(files);
  } catch (err) {
    throw new PingerError('PINGER_ERR_AGG_TLS', `--tls-cert ${cert} / --tls-key ${key}: ${(err as Error).message}`);
  }
  return files;
}

function unixPath(l: string): string {
  const path = l.slice('unix:'.length);
  if (!path.startsWith('/')) throw new PingerError('PINGER_ERR_AGG_USAGE', `--listen ${JSON.stringify(l)}: expected unix:/absolute/path`);
  return path;
}

// `pinger aggregator`: wires inventory, profile, state and server together, then listens.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { parseArgs } from 'node:util';
import { makeLog, parseListen, readToken, required } from '../agent/cli-util.js';
import { PingerError } from '../agent/errors.js';
import { loadInventory } from '../agent/inventory.js';
import { builtinNames, loadProfile } from './profile.js';
import { buildServer, listenAlso } from './server.js';
import { AggregatorState } from './state.js';

export const aggregatorUsage = `pinger aggregator --listen HOST:PORT|unix:PATH [--listen ...] --inventory FILE --token-file FILE
       --tls-cert FILE --tls-key FILE | --plain
  --token-file FILE    the cluster secret: node credentials derive from it (\`pinger credential\`); admin routes take it
  --tls-cert, --tls-key  PEM certificate and key: https:// and wss:// on every listener
  [--plain]            plain HTTP and ws:// instead, asked for explicitly
  [--read-token-file FILE]  read routes (report, events, exports, page, /metrics) need this token: Basic password or Bearer
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
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      plain: { type: 'boolean' },
      'read-token-file': { type: 'string' },
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
  const tls = tlsFiles(values['tls-cert'], values['tls-key'], values.plain ?? false);
  const readTok = values['read-token-file'] ? readToken(values['read-token-file'], 'PINGER_ERR_AGG_TOKEN') : undefined;
  const state = new AggregatorState({ inventory: loadInventory(values.inventory!), profile });
  const app = await buildServer({
    state,
    token: readToken(values['token-file']!, 'PINGER_ERR_AGG_TOKEN'),
    ...(tls ? { tls } : {}),
    ...(readTok ? { readToken: readTok } : {}),
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
    throw new PingerError('PINGER_ERR_AGG_TLS', 'give --tls-cert and --tls-key (README "Security": how to make them with openssl), or --plain for plain HTTP and ws://');
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

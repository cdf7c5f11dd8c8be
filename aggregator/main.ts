// `pinger aggregator`: wires inventory, profile, state and server together, then listens.
import { parseArgs } from 'node:util';
import { makeLog, parseListen, readToken, required } from '../agent/cli-util.js';
import { PingerError } from '../agent/errors.js';
import { loadInventory } from '../agent/inventory.js';
import { builtinProfiles } from './profile.js';
import { buildServer } from './server.js';
import { AggregatorState } from './state.js';

export const aggregatorUsage = `pinger aggregator --listen HOST:PORT --inventory FILE --token-file FILE
  [--profile NAME]     readiness profile (default: openstack; built in: ${Object.keys(builtinProfiles).join(', ')})
  [--log-level LEVEL]  fatal, error, warn, info (default), debug`;

export async function aggregatorMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string' },
      inventory: { type: 'string' },
      'token-file': { type: 'string' },
      profile: { type: 'string', default: 'openstack' },
      'log-level': { type: 'string', default: 'info' },
    },
    strict: true,
  });
  required(values, ['listen', 'inventory', 'token-file'], 'PINGER_ERR_AGG_USAGE');
  const { host, port } = parseListen(values.listen!);
  const profile = builtinProfiles[values.profile!];
  if (!profile) throw new PingerError('PINGER_ERR_AGG_PROFILE', `--profile ${values.profile}: unknown (built in: ${Object.keys(builtinProfiles).join(', ')})`);
  const state = new AggregatorState({ inventory: loadInventory(values.inventory!), profile });
  const app = await buildServer({ state, token: readToken(values['token-file']!, 'PINGER_ERR_AGG_TOKEN'), logLevel: values['log-level']! });
  const addr = await app.listen({ host, port });
  makeLog('pinger-aggregator')('info', `listening on ${addr}; report at ${addr}/api/v1/report`);
  await new Promise<void>((resolve) => {
    const stop = () => void app.close().then(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

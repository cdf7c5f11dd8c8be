// `pinger agent`: wires the inventory, the probes, the responders and the link together. Nothing else.
import { parseArgs } from 'node:util';
import { Agent, DEFAULT_CONCURRENCY } from './agent.js';
import { makeLog, readToken, required } from './cli-util.js';
import { PingerError } from './errors.js';
import { loadInventory } from './inventory.js';
import { defaultProbes, icmpStatus } from './probes/index.js';

export const agentUsage = `pinger agent --inventory FILE --node NAME --aggregator ws://HOST:PORT/api/v1/agent --token-file FILE
  [--concurrency N]   targets probed at once (default ${DEFAULT_CONCURRENCY})
  [--quiet]           log warnings and errors only
  [--dns-server HOST:PORT] resolver for the forward/reverse DNS checks (default: the system's)
  [--no-responders]   answer on no port (release OpenStack's ports); probing goes on`;

export async function agentMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      inventory: { type: 'string' },
      node: { type: 'string' },
      aggregator: { type: 'string' },
      'token-file': { type: 'string' },
      concurrency: { type: 'string' },
      quiet: { type: 'boolean' },
      'no-responders': { type: 'boolean' },
      'dns-server': { type: 'string' },
    },
    strict: true,
  });
  required(values, ['inventory', 'node', 'aggregator', 'token-file'], 'PINGER_ERR_AGENT_USAGE');
  const inventory = loadInventory(values.inventory!);
  if (!inventory.nodes.some((n) => n.name === values.node)) {
    throw new PingerError('PINGER_ERR_AGENT_UNKNOWN_NODE', `${values.inventory}: no node ${JSON.stringify(values.node)} (nodes: ${inventory.nodes.map((n) => n.name).join(', ')})`);
  }
  const concurrency = values.concurrency ? Number(values.concurrency) : DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new PingerError('PINGER_ERR_AGENT_USAGE', `--concurrency must be a positive integer`);
  const log = makeLog(`pinger-agent[${values.node}]`, values.quiet);
  const token = readToken(values['token-file']!);
  const dnsServer = values['dns-server'];
  if (dnsServer !== undefined && !/^(?:\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/.test(dnsServer)) {
    throw new PingerError('PINGER_ERR_AGENT_USAGE', `--dns-server ${JSON.stringify(dnsServer)}: expected IP:PORT or [IPv6]:PORT`);
  }
  const agent = new Agent({
    inventory,
    node: values.node!,
    url: values.aggregator!,
    token,
    probes: defaultProbes(token),
    ...(values['dns-server'] ? { dnsServer: values['dns-server'] } : {}),
    icmp: icmpStatus(),
    log,
    concurrency,
    respondersOn: !values['no-responders'],
  });
  agent.start();
  // Live inventory: `systemctl reload` (ExecReload=/bin/kill -HUP $MAINPID) re-reads the inventory file; a
  // file that does not parse is refused with its file:line:field error and the running peer set stays.
  process.on('SIGHUP', () => {
    try {
      agent.setInventory(loadInventory(values.inventory!));
    } catch (err) {
      log('error', `${err instanceof PingerError ? `${err.code}: ` : ''}${(err as Error).message}; keeping the running inventory`);
    }
  });
  await new Promise<void>((resolve) => {
    const stop = () => void agent.stop().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

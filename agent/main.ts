// `pinger agent`: wires the inventory, the probes, the responders and the link together. Nothing else.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent, DEFAULT_CONCURRENCY } from './agent.js';
import { makeLog, readToken, required } from './cli-util.js';
import { nodeCredential } from './credential.js';
import { PingerError } from './errors.js';
import { loadInventory } from './inventory.js';
import { defaultProbes, icmpStatus } from './probes/index.js';

export const agentUsage = `pinger agent --inventory FILE --node NAME --aggregator wss://HOST:PORT/api/v1/agent --credential-file FILE
  [--ca-file FILE]    CA the aggregator's certificate must chain to (default: the system's CAs)
  [--token-file FILE] the cluster secret instead of --credential-file (the agent derives its credential)
  [--plain]           allow a plain ws:// (or ws+unix://) aggregator URL: no encryption, asked for explicitly
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
      'credential-file': { type: 'string' },
      'ca-file': { type: 'string' },
      plain: { type: 'boolean' },
      concurrency: { type: 'string' },
      quiet: { type: 'boolean' },
      'no-responders': { type: 'boolean' },
      'dns-server': { type: 'string' },
    },
    strict: true,
  });
  required(values, ['inventory', 'node', 'aggregator'], 'PINGER_ERR_AGENT_USAGE');
  if (!values['credential-file'] === !values['token-file']) {
    throw new PingerError('PINGER_ERR_AGENT_USAGE', 'give one of --credential-file (this node\'s credential: `pinger credential`) or --token-file (the cluster secret)');
  }
  const url = values.aggregator!;
  if (/^ws(\+unix)?:/.test(url) && !values.plain) {
    throw new PingerError('PINGER_ERR_AGENT_PLAIN', `--aggregator ${url}: a plain ws:// link is neither encrypted nor authenticates the aggregator; use wss:// with --ca-file, or ask for plain text with --plain`);
  }
  if (!/^(wss?|wss?\+unix):/.test(url)) throw new PingerError('PINGER_ERR_AGENT_USAGE', `--aggregator ${url}: expected wss://HOST:PORT/api/v1/agent (or wss+unix:///PATH:/api/v1/agent)`);
  let ca: Buffer | undefined;
  if (values['ca-file']) {
    try {
      ca = readFileSync(values['ca-file']);
    } catch (err) {
      throw new PingerError('PINGER_ERR_AGENT_TLS', `--ca-file ${values['ca-file']}: ${(err as Error).message}`);
    }
  }
  const inventory = loadInventory(values.inventory!);
  if (!inventory.nodes.some((n) => n.name === values.node)) {
    throw new PingerError('PINGER_ERR_AGENT_UNKNOWN_NODE', `${values.inventory}: no node ${JSON.stringify(values.node)} (nodes: ${inventory.nodes.map((n) => n.name).join(', ')})`);
  }
  const concurrency = values.concurrency ? Number(values.concurrency) : DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new PingerError('PINGER_ERR_AGENT_USAGE', `--concurrency must be a positive integer`);
  const log = makeLog(`pinger-agent[${values.node}]`, values.quiet);
  // The credential file holds this node's credential; a cluster secret (hand-run setups, older charms) is
  // turned into it here, so only the derived credential is ever sent.
  const credential = values['credential-file'] ? readToken(values['credential-file']) : nodeCredential(readToken(values['token-file']!), values.node!);
  const udpKey = {};
  const dnsServer = values['dns-server'];
  if (dnsServer !== undefined && !/^(?:\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/.test(dnsServer)) {
    throw new PingerError('PINGER_ERR_AGENT_USAGE', `--dns-server ${JSON.stringify(dnsServer)}: expected IP:PORT or [IPv6]:PORT`);
  }
  const agent = new Agent({
    inventory,
    node: values.node!,
    url,
    credential,
    ...(ca ? { ca } : {}),
    udpKey,
    probes: defaultProbes(udpKey),
    ...(values['dns-server'] ? { dnsServer: values['dns-server'] } : {}),
    icmp: icmpStatus(),
    log,
    concurrency,
    respondersOn: !values['no-responders'],
  });
  agent.start();
  await new Promise<void>((resolve) => {
    const stop = () => void agent.stop().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

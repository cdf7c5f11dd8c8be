// `pinger agent`: wires the inventory, the probes, the responders and the link together. Nothing else.
import { Agent, DEFAULT_CONCURRENCY } from './agent.js';
import { makeLog, readToken, required } from './cli-util.js';
import { PingerError } from './contract/errors.js';
import { loadInventory } from './contract/inventory.js';
import { defaultProbes, icmpStatus } from './probes/index.js';

/** The options of `pinger agent`, as commander hands them over (aggregator/cli/pinger.ts declares them). */
export interface AgentOptions {
  inventory?: string;
  node?: string;
  aggregator?: string;
  tokenFile?: string;
  concurrency?: string;
  quiet?: boolean;
  /** false with --no-responders */
  responders?: boolean;
  dnsServer?: string;
  /** lldpd's control socket (lldpd -u), for LLDP neighbours. */
  lldpSocket?: string;
}

export async function agentMain(values: AgentOptions): Promise<number> {
  required(values, ['inventory', 'node', 'aggregator', 'token-file'], 'PINGER_ERR_AGENT_USAGE');
  const inventory = loadInventory(values.inventory!);
  if (!inventory.nodes.some((n) => n.name === values.node)) {
    throw new PingerError('PINGER_ERR_AGENT_UNKNOWN_NODE', `${values.inventory}: no node ${JSON.stringify(values.node)} (nodes: ${inventory.nodes.map((n) => n.name).join(', ')})`);
  }
  const concurrency = values.concurrency ? Number(values.concurrency) : DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new PingerError('PINGER_ERR_AGENT_USAGE', `--concurrency must be a positive integer`);
  const log = makeLog(`pinger-agent[${values.node}]`, values.quiet);
  const token = readToken(values.tokenFile!);
  const dnsServer = values.dnsServer;
  if (dnsServer !== undefined && !/^(?:\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/.test(dnsServer)) {
    throw new PingerError('PINGER_ERR_AGENT_USAGE', `--dns-server ${JSON.stringify(dnsServer)}: expected IP:PORT or [IPv6]:PORT`);
  }
  const agent = new Agent({
    inventory,
    node: values.node!,
    url: values.aggregator!,
    token,
    probes: defaultProbes(token),
    ...(values.dnsServer ? { dnsServer: values.dnsServer } : {}),
    ...(values.lldpSocket ? { lldpSocket: values.lldpSocket } : {}),
    icmp: icmpStatus(),
    log,
    concurrency,
    respondersOn: values.responders !== false,
  });
  agent.start();
  await new Promise<void>((resolve) => {
    const stop = () => void agent.stop().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

// `pinger agent`: wires the inventory, the probes, the responders and the link together. Nothing else.
import { readFileSync } from 'node:fs';
import { Agent, DEFAULT_CONCURRENCY } from './agent.js';
import { makeLog, readToken, required } from './cli-util.js';
import { nodeCredential } from './credential.js';
import { PingerError } from './contract/errors.js';
import { loadInventory } from './contract/inventory.js';
import { defaultProbes, icmpStatus } from './probes/index.js';

/** The options of `pinger agent`, as commander hands them over (aggregator/cli/pinger.ts declares them). */
export interface AgentOptions {
  inventory?: string;
  node?: string;
  aggregator?: string;
  tokenFile?: string;
  credentialFile?: string;
  caFile?: string;
  plain?: boolean;
  concurrency?: string;
  quiet?: boolean;
  /** false with --no-responders */
  responders?: boolean;
  dnsServer?: string;
  /** lldpd's control socket (lldpd -u), for LLDP neighbours. */
  lldpSocket?: string;
  /** --compress: permessage-deflate on the link to the aggregator. */
  compress?: boolean;
}

// size: the command's wiring, one step after another in start-up order
export async function agentMain(values: AgentOptions): Promise<number> {
  required(values, ['inventory', 'node', 'aggregator'], 'PINGER_ERR_AGENT_USAGE');
  if (!values.credentialFile === !values.tokenFile) {
    throw new PingerError(
      'PINGER_ERR_AGENT_USAGE',
      "give one of --credential-file (this node's credential: `pinger credential`) or --token-file (the cluster secret)",
    );
  }
  const url = values.aggregator!;
  if (/^ws(\+unix)?:/.test(url) && !values.plain) {
    throw new PingerError(
      'PINGER_ERR_AGENT_PLAIN',
      `--aggregator ${url}: a plain ws:// link is neither encrypted nor authenticates the aggregator; use wss:// with --ca-file, or ask for plain text with --plain`,
    );
  }
  if (!/^(wss?|wss?\+unix):/.test(url))
    throw new PingerError('PINGER_ERR_AGENT_USAGE', `--aggregator ${url}: expected wss://HOST:PORT/api/v1/agent (or wss+unix:///PATH:/api/v1/agent)`);
  let ca: Buffer | undefined;
  if (values.caFile) {
    try {
      ca = readFileSync(values.caFile);
    } catch (err) {
      throw new PingerError('PINGER_ERR_AGENT_TLS', `--ca-file ${values.caFile}: ${(err as Error).message}`);
    }
  }
  const inventory = loadInventory(values.inventory!);
  if (!inventory.nodes.some((n) => n.name === values.node)) {
    throw new PingerError(
      'PINGER_ERR_AGENT_UNKNOWN_NODE',
      `${values.inventory}: no node ${JSON.stringify(values.node)} (nodes: ${inventory.nodes.map((n) => n.name).join(', ')})`,
    );
  }
  const concurrency = values.concurrency ? Number(values.concurrency) : DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new PingerError('PINGER_ERR_AGENT_USAGE', `--concurrency must be a positive integer`);
  const log = makeLog('agent', values.node, values.quiet);
  // The credential file holds this node's credential; a cluster secret (hand-run setups, older charms) is
  // turned into it here, so only the derived credential is ever sent.
  const credential = values.credentialFile ? readToken(values.credentialFile) : nodeCredential(readToken(values.tokenFile!), values.node!);
  const udpKey = {};
  const dnsServer = values.dnsServer;
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
    ...(values.dnsServer ? { dnsServer: values.dnsServer } : {}),
    ...(values.lldpSocket ? { lldpSocket: values.lldpSocket } : {}),
    icmp: icmpStatus(),
    log,
    concurrency,
    respondersOn: values.responders !== false,
    compression: values.compress === true,
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

// `pinger demo`: an aggregator and a few agents on loopback addresses (127.<binding>.0.<node>), in one
// process, printing the report URL and every verdict change. Runs as a normal user (ICMP not measured,
// TCP only) and as root (ICMP too).
import { randomBytes } from 'node:crypto';
import { buildServer } from '../server.js';
import { AggregatorState } from '../state.js';
import { listenOrExplain, showAddress } from '../listen-error.js';
import { builtinProfile } from '../profile.js';
import { Agent } from '../../agent/agent.js';
import { makeLog, parseListen } from '../../agent/cli-util.js';
import { nodeCredential } from '../../agent/credential.js';
import { PingerError } from '../../agent/contract/errors.js';
import type { Inventory } from '../../agent/contract/inventory.js';
import { defaultProbes, icmpStatus } from '../../agent/probes/index.js';
import { AGENT_WS_PATH } from '../../agent/contract/wire.js';

export function demoInventory(nodes: number): Inventory {
  const bindings = ['internal', 'shared-db', 'ceph-cluster'];
  return {
    bindings: [...bindings].sort(),
    spaces: { internal: 'internal-api', 'shared-db': 'internal-api', 'ceph-cluster': 'storage-cluster' },
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `node-${i + 1}`,
      addresses: Object.fromEntries(bindings.map((b, j) => [b, [`127.${j + 10}.0.${i + 1}`]])),
    })),
  };
}

/** The options of `pinger demo`, as commander hands them over (./pinger.ts declares them). */
export interface DemoOptions {
  nodes?: string;
  listen?: string;
  for?: string;
}

export async function demoMain(opts: DemoOptions): Promise<number> {
  const values = { nodes: '4', listen: '127.0.0.1:9300', ...opts };
  const n = Number(values.nodes);
  if (!Number.isInteger(n) || n < 2 || n > 250) throw new PingerError('PINGER_ERR_AGENT_USAGE', '--nodes must be 2..250');
  const { host, port } = parseListen(values.listen!, 'PINGER_ERR_AGENT_USAGE');
  const inventory = demoInventory(n);
  const token = randomBytes(24).toString('base64url');
  const demoProfile = builtinProfile('demo');
  const state = new AggregatorState({ inventory, profile: demoProfile });
  const app = await buildServer({ state, token, logLevel: 'warn' });
  let url: string;
  try {
    url = await listenOrExplain(showAddress({ host, port }), () => app.listen({ host, port }));
  } catch (err) {
    await app.close();
    throw err;
  }
  const icmp = icmpStatus();
  const out = (s: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
  out(`Pinger demo: ${n} nodes x 3 bindings on loopback, profile "${demoProfile.name}"`);
  out(`report:  ${url}/   (JSON: ${url}/api/v1/report)`);
  out('plain HTTP and ws:// on loopback, no read auth: a demo; `pinger aggregator` serves TLS (see README "Security")');
  out(icmp.state === 'available' ? 'ICMP: measured' : `ICMP: not measured (${icmp.detail}); TCP checks only`);
  const agents = inventory.nodes.map((node) => {
    const udpKey = {};
    return new Agent({
      inventory,
      node: node.name,
      url: `ws://${host.includes(':') ? `[${host}]` : host}:${new URL(url).port}${AGENT_WS_PATH}`,
      credential: nodeCredential(token, node.name),
      probes: defaultProbes(udpKey),
      udpKey,
      icmp,
      log: makeLog('agent', node.name, true),
    });
  });
  for (const a of agents) a.start();
  let last = '';
  const show = () => {
    const r = state.report('none');
    const line = `verdict: ${r.verdict} - ${r.summary}`;
    if (line !== last) out(line);
    last = line;
  };
  state.on('change', show);
  const timer = setInterval(show, 1000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (values.for) setTimeout(resolve, Number(values.for) * 1000);
  });
  out('stopping');
  clearInterval(timer);
  await Promise.all(agents.map((a) => a.stop()));
  await app.close();
  return 0;
}

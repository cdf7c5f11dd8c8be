// `npm run lab -- --nodes 6 --spaces 3 --fault mtu:node-3:ceph-cluster`: a lab for people. Brings the
// networks, the aggregator and the agents up, prints the report URL and every verdict change, keeps
// running until Ctrl-C, then tears everything down (namespaces by exact name, processes by PID).
import { parseArgs } from 'node:util';
import { FaultSyntaxError, faultSyntax, parseFault } from './faults.js';
import { Lab, type SpaceSpec } from './lab.js';

// The lab profile's bindings first: ceph-cluster needs jumbo frames there, overlay carries Geneve.
const defaultSpaces: SpaceSpec[] = [
  { name: 'internal' },
  { name: 'shared-db' },
  { name: 'ceph-cluster', mtu: 9000 },
  { name: 'overlay' },
  { name: 'ceph-public' },
  { name: 'amqp' },
  { name: 'public' },
  { name: 'admin' },
];

const usage = `npm run lab -- [options]     (needs root: network namespaces, nftables)
  --nodes N             nodes (default 4, up to 254)
  --spaces N|LIST       N spaces (${defaultSpaces.map((s) => s.name).join(', ')}, in that order; default 3),
                        or a list NAME[:MTU][:v4|v6|dual],... e.g. internal,ceph-cluster:9000,storage:v6
  --fault FAULT         inject a fault before the agents start (repeatable):
${Object.values(faultSyntax)
  .map((s) => `                          ${s}`)
  .join('\n')}
  --profile NAME|FILE   aggregator profile (default test/lab/profile.yaml)
  --listen HOST:PORT    where the report is served (default 127.0.0.1:9400)
  --dist                run dist/ (npm run build) instead of the TypeScript sources: faster start`;

export class UsageError extends Error {}

export function parseSpaces(arg: string): SpaceSpec[] {
  if (/^\d+$/.test(arg)) {
    const n = Number(arg);
    if (n < 1) throw new UsageError(`--spaces ${arg}: at least 1`);
    return n <= defaultSpaces.length
      ? defaultSpaces.slice(0, n)
      : [...defaultSpaces, ...Array.from({ length: n - defaultSpaces.length }, (_, i) => ({ name: `space-${i + defaultSpaces.length + 1}` }))];
  }
  return arg.split(',').map((item) => {
    const [name, ...opts] = item.split(':');
    const spec: SpaceSpec = { name: name! };
    for (const o of opts) {
      if (/^\d+$/.test(o)) spec.mtu = Number(o);
      else if (o === 'v4' || o === 'v6' || o === 'dual') spec.family = o;
      else throw new UsageError(`--spaces: ${JSON.stringify(item)}: ${JSON.stringify(o)} is neither an MTU nor v4, v6 or dual`);
    }
    return spec;
  });
}

const stamp = () => new Date().toTimeString().slice(0, 8);
const say = (msg: string) => process.stdout.write(`${stamp()} ${msg}\n`);

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '4' },
      spaces: { type: 'string', default: '3' },
      fault: { type: 'string', multiple: true, default: [] },
      profile: { type: 'string', default: new URL('./profile.yaml', import.meta.url).pathname },
      listen: { type: 'string', default: '127.0.0.1:9400' },
      dist: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const nodes = Number(values.nodes);
  const faults = values.fault!.map(parseFault);
  const spaces = parseSpaces(values.spaces!);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new UsageError('the lab needs root (it creates network namespaces)');
  const lab = await Lab.create({
    nodes,
    spaces,
    faults,
    profile: values.profile!,
    listen: values.listen!,
    runtime: values.dist ? 'dist' : 'tsx',
    log: say,
  });
  say(`report:  ${lab.url}/   (JSON: ${lab.url}/api/v1/report)`);
  say(`TLS: the per-run CA is ${lab.tls!.ca} (curl --cacert ${lab.tls!.ca}; a browser asks to accept the certificate)`);
  say(`inventory: ${lab.inventoryFile}; a node's shell: ip netns exec ${lab.nodeNs('node-1')} bash`);
  say(`${lab.agents.size} agents starting; Ctrl-C tears the lab down`);
  let last = '';
  const timer = setInterval(() => {
    lab
      .report('?matrix=none')
      .then((r) => {
        const line = `verdict: ${r.verdict} - ${r.summary}`;
        if (line !== last) say((last = line));
      })
      .catch(() => {});
  }, 1000);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(timer);
  say('tearing the lab down');
  await lab.down();
  say('done');
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const e = err as Error & { code?: string };
  const bad = err instanceof UsageError || err instanceof FaultSyntaxError || e.code?.startsWith('ERR_PARSE_ARGS') || /^lab: /.test(e.message);
  process.stderr.write(`${bad ? 'usage' : 'error'}: ${e.message}\n${bad ? `${usage}\n` : ''}`);
  process.exitCode = bad ? 2 : 1;
}

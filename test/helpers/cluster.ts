// A loopback cluster for integration tests: an inventory on a per-run 127.x.y.0/24 block, a token file,
// an aggregator and agents as real `pinger` processes. Everything is stopped by PID in `close()`.
// Plain HTTP/ws:// unless `tls` (then a per-run CA made by the README's openssl commands); with `readToken`,
// the read routes need it and `report()` sends it.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inventoryToText, type Inventory } from '../../agent/contract/inventory.js';
import type { Report } from '../../aggregator/report.js';
import { pingerCmd, start, stopAll, waitUntil, type Started } from './procs.js';
import { basic, get, makeTls, type TlsFiles } from './tls.js';

export interface Cluster {
  dir: string;
  inventory: Inventory;
  inventoryFile: string;
  tokenFile: string;
  token: string;
  /** The CA and the aggregator's certificate, when started with `tls`. */
  tls: TlsFiles | undefined;
  readToken: string | undefined;
  readTokenFile: string | undefined;
  url: string;
  aggregator: Started;
  agents: Map<string, Started>;
  /** `args` replace the default credentials (--token-file and --plain or --ca-file). */
  startAgent(node: string, wrap?: string[], args?: string[]): Started;
  /** The agent URL (ws:// or wss://). */
  agentUrl(): string;
  startAggregator(port?: number): Promise<void>;
  report(q?: string): Promise<Report>;
  waitVerdict(v: Report['verdict'], timeoutMs?: number): Promise<Report>;
  close(): Promise<void>;
}

/** A loopback block no other test file uses at the same time: 127.<pid-derived>.<random>.0/24 per binding. */
export function loopbackInventory(nodes: number, bindings: string[]): Inventory {
  const a = 20 + (process.pid % 200);
  const b = Math.floor(Math.random() * 200);
  return {
    bindings: [...bindings].sort(),
    spaces: {},
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `node-${i + 1}`,
      addresses: Object.fromEntries(bindings.map((bn, j) => [bn, [`127.${a}.${b + j}.${i + 1}`]])),
    })),
  };
}

export async function startCluster(inventory: Inventory, opts: { profile?: string; tls?: boolean; readToken?: string } = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'pinger-it-'));
  chmodSync(dir, 0o755); // agents run as nobody in the unprivileged test
  const inventoryFile = join(dir, 'inventory.yaml');
  const tokenFile = join(dir, 'token');
  const token = `t-${Math.random().toString(36).slice(2)}`;
  writeFileSync(inventoryFile, inventoryToText(inventory), { mode: 0o644 });
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o644 });
  const tls = opts.tls ? makeTls(dir) : undefined;
  const readTokenFile = opts.readToken ? join(dir, 'read-token') : undefined;
  if (readTokenFile) writeFileSync(readTokenFile, `${opts.readToken}\n`, { mode: 0o644 });
  const [node, pre] = pingerCmd();
  const c: Cluster = {
    dir,
    inventory,
    inventoryFile,
    tokenFile,
    token,
    tls,
    readToken: opts.readToken,
    readTokenFile,
    url: '',
    aggregator: undefined as unknown as Started,
    agents: new Map(),
    async startAggregator(port = 0) {
      const security = tls ? ['--tls-cert', tls.cert, '--tls-key', tls.key] : ['--plain'];
      if (readTokenFile) security.push('--read-token-file', readTokenFile);
      c.aggregator = start(node, [
        ...pre,
        'aggregator',
        '--listen',
        `127.0.0.1:${port}`,
        '--inventory',
        inventoryFile,
        '--token-file',
        tokenFile,
        ...security,
        '--profile',
        opts.profile ?? 'demo',
        '--log-level',
        'warn',
      ]);
      const line = await c.aggregator.waitFor(/listening on (https?:\/\/\S+?);/);
      c.url = /listening on (https?:\/\/\S+?);/.exec(line)![1]!;
    },
    agentUrl: () => `${c.url.replace('http', 'ws')}/api/v1/agent`,
    startAgent(name, wrap = [], creds = ['--token-file', tokenFile, ...(tls ? ['--ca-file', tls.ca] : ['--plain'])]) {
      const args = [...pre, 'agent', '--inventory', inventoryFile, '--node', name, '--aggregator', c.agentUrl(), ...creds];
      const p = wrap.length ? start(wrap[0]!, [...wrap.slice(1), node, ...args]) : start(node, args);
      c.agents.set(name, p);
      return p;
    },
    async report(q = '') {
      const r = await get(`${c.url}/api/v1/report${q}`, {
        ...(tls ? { ca: tls.ca } : {}),
        ...(opts.readToken ? { authorization: basic(opts.readToken) } : {}),
      });
      if (r.status !== 200) throw new Error(`report: HTTP ${r.status}: ${r.body.slice(0, 200)}`);
      return JSON.parse(r.body) as Report;
    },
    async waitVerdict(v, timeoutMs = 30_000) {
      let last: Report | undefined;
      try {
        return await waitUntil(
          async () => {
            last = await c.report();
            return last.verdict === v ? last : undefined;
          },
          `verdict ${v}`,
          timeoutMs,
          200,
        );
      } catch (err) {
        throw new Error(
          `${(err as Error).message}; last report: ${JSON.stringify(last && { verdict: last.verdict, summary: last.summary, findings: last.findings })}`,
        );
      }
    },
    async close() {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await c.startAggregator();
  return c;
}

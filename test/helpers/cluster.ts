// A loopback cluster for integration tests: an inventory on a per-run 127.x.y.0/24 block, a token file,
// an aggregator and agents as real `pinger` processes. Everything is stopped by PID in `close()`.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inventoryToText, type Inventory } from '../../agent/contract/inventory.js';
import type { Report } from '../../aggregator/report.js';
import { pingerCmd, start, stopAll, waitUntil, type Started } from './procs.js';

export interface Cluster {
  dir: string;
  inventory: Inventory;
  inventoryFile: string;
  tokenFile: string;
  token: string;
  url: string;
  aggregator: Started;
  agents: Map<string, Started>;
  startAgent(node: string, wrap?: string[]): Started;
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

export async function startCluster(inventory: Inventory, opts: { profile?: string } = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'pinger-it-'));
  chmodSync(dir, 0o755); // agents run as nobody in the unprivileged test
  const inventoryFile = join(dir, 'inventory.yaml');
  const tokenFile = join(dir, 'token');
  const token = `t-${Math.random().toString(36).slice(2)}`;
  writeFileSync(inventoryFile, inventoryToText(inventory), { mode: 0o644 });
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o644 });
  const [node, pre] = pingerCmd();
  const c: Cluster = {
    dir,
    inventory,
    inventoryFile,
    tokenFile,
    token,
    url: '',
    aggregator: undefined as unknown as Started,
    agents: new Map(),
    async startAggregator(port = 0) {
      c.aggregator = start(node, [...pre, 'aggregator', '--listen', `127.0.0.1:${port}`, '--inventory', inventoryFile, '--token-file', tokenFile, '--profile', opts.profile ?? 'demo', '--log-level', 'warn']);
      const line = await c.aggregator.waitFor(/listening on (http:\/\/\S+?);/);
      c.url = /listening on (http:\/\/\S+?);/.exec(line)![1]!;
    },
    startAgent(name, wrap = []) {
      const ws = `${c.url.replace('http', 'ws')}/api/v1/agent`;
      const args = [...pre, 'agent', '--inventory', inventoryFile, '--node', name, '--aggregator', ws, '--token-file', tokenFile];
      const p = wrap.length ? start(wrap[0]!, [...wrap.slice(1), node, ...args]) : start(node, args);
      c.agents.set(name, p);
      return p;
    },
    async report(q = '') {
      const r = await fetch(`${c.url}/api/v1/report${q}`);
      return (await r.json()) as Report;
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
        throw new Error(`${(err as Error).message}; last report: ${JSON.stringify(last && { verdict: last.verdict, summary: last.summary, findings: last.findings })}`);
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

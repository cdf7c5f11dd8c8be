// The people's lab command: up with a fault, report URL printed, verdict changes printed, Ctrl-C tears
// everything down (no namespace, no agent left); bad arguments are refused before anything is built.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { isRoot, requireEnv } from '../helpers/env.js';
import { start, stopAll } from '../helpers/procs.js';
import { get } from '../helpers/tls.js';
import { ensureTools, listNamespaces, processesMentioning, repoRoot } from './lab.js';

after(() => stopAll());

const lab = (args: string[]) => start(process.execPath, ['--import', 'tsx', 'test/lab/cli.ts', ...args], { cwd: repoRoot });

test('bad arguments are refused with the problem and the usage, before anything is built', async () => {
  for (const [args, re] of [
    [['--fault', 'mtu:node-3'], /usage: fault "mtu:node-3": expected mtu-mismatch:NODE:SPACE\[:MTU\]/],
    [['--spaces', 'internal:jumbo'], /usage: --spaces: "internal:jumbo": "jumbo" is neither an MTU nor v4, v6 or dual/],
    [['--bogus'], /usage: Unknown option '--bogus'/],
  ] as [string[], RegExp][]) {
    const p = lab(args);
    const [code] = (await once(p.child, 'exit')) as [number];
    assert.equal(code, 2, args.join(' '));
    assert.match(p.output(), re);
    assert.match(p.output(), /--nodes N/);
  }
});

test('npm run lab: up with a fault, the report URL, then Ctrl-C cleans up', async (t) => {
  if (isRoot()) ensureTools(); // installs iproute2 / nftables when missing
  if (!requireEnv(t, { root: true, commands: ['ip', 'nft', 'perl'] })) return;
  const p = lab(['--nodes', '3', '--spaces', '2', '--listen', '127.0.0.1:0', '--fault', 'port-refused:node-2:shared-db:3306']);
  // A failed assertion must still tear the lab down: stopAll's SIGKILL would leave its namespaces and agents.
  t.after(async () => {
    if (p.child.exitCode === null && p.child.signalCode === null) await p.stop('SIGINT');
  });
  const line = await p.waitFor(/report: +https:\/\/127\.0\.0\.1:\d+\//, 60_000);
  const url = /https:\S+\//.exec(line)![0];
  const ca = /TLS: the per-run CA is (\S+)/.exec(await p.waitFor(/TLS: the per-run CA is \S+/))![1]!;
  const prefix = /lab (pl[0-9a-z]+): 3 nodes x 2 spaces up/.exec(p.output())![1]!;
  assert.equal(listNamespaces().filter((n) => n.startsWith(`${prefix}-`)).length, 4, 'switch + 3 nodes');
  await p.waitFor(/verdict: not-ready - not ready: .*shared-db: TCP 3306 refused/, 60_000);
  const r = JSON.parse((await get(`${url}api/v1/report`, { ca })).body) as { findings: { kind: string; nodes: string[] }[] };
  assert.ok(
    r.findings.some((f) => f.kind === 'port-refused' && f.nodes.join() === 'node-2'),
    JSON.stringify(r.findings),
  );
  p.child.kill('SIGINT');
  const [code] = (await once(p.child, 'exit')) as [number];
  assert.equal(code, 0, p.output());
  assert.match(p.output(), /torn down \(4 namespaces deleted\)/);
  assert.deepEqual(
    listNamespaces().filter((n) => n.startsWith(`${prefix}-`)),
    [],
  );
  assert.deepEqual(processesMentioning(prefix), [], 'no agent or aggregator of the lab is left');
  await assert.rejects(get(url, { ca }), 'the aggregator is gone');
});

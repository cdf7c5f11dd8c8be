// What a welcome carries: the peers up now (`up`) when the agent's first round uses them, and not with a
// pinglist, where the agent probes its window whatever is up (agent/agent.ts), so the list would be sent
// 1,000 times as a big fleet starts for nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loopbackInventory, startCluster } from '../helpers/cluster.js';
import { agentWsUrl, authAs, exchange } from '../helpers/ws-peer.js';

const hello = (node: string) =>
  JSON.stringify({ v: 3, type: 'hello', node, agentVersion: 't', hostname: 'h', icmp: 'not-measured', interfaces: [], responders: [] });

/** The welcome node-1 gets from an aggregator with this profile. */
async function welcomeWith(profileText: string | undefined): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'pinger-welcome-'));
  let profile: string | undefined;
  if (profileText) writeFileSync((profile = join(dir, 'p.yaml')), profileText);
  const c = await startCluster(loopbackInventory(5, ['internal']), profile ? { profile } : {});
  try {
    const x = await exchange(agentWsUrl(c.url), [hello('node-1')], { auth: authAs(c.token, 'node-1'), timeoutMs: 1500 });
    const welcome = x.received.map((m) => JSON.parse(m) as Record<string, unknown>).find((m) => m.type === 'welcome');
    assert.ok(welcome, `no welcome in ${JSON.stringify(x.received).slice(0, 300)}`);
    return welcome;
  } finally {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('without a pinglist the welcome lists the peers up (none yet here)', async () => {
  const w = await welcomeWith(undefined);
  assert.deepEqual(w.up, []);
  assert.equal((w.plan as { pinglist?: unknown }).pinglist, undefined);
});

test('with a pinglist the welcome carries the plan and no up list', async () => {
  const w = await welcomeWith('name: pl\nextends: demo\npinglist:\n  above: 2\n  per_round: 2\n');
  assert.ok((w.plan as { pinglist?: unknown }).pinglist, 'the plan has the pinglist');
  assert.equal('up' in w, false);
});

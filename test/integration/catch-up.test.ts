// A late agent is probed by the others at once (a catch-up of just that peer), not at their next round:
// with a 60 s interval the verdict follows the join within seconds, and the others' round counts stay put.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loopbackInventory, startCluster, type Cluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/procs.js';

let c: Cluster;
let dir: string;
before(async () => {
  const inv = loopbackInventory(3, ['internal', 'shared-db']);
  dir = mkdtempSync(join(tmpdir(), 'pinger-catchup-'));
  const profile = join(dir, 'slow.yaml');
  writeFileSync(profile, 'name: slow\nextends: demo\ninterval: 60s\n');
  c = await startCluster(inv, { profile });
});
after(async () => {
  await c?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a late agent is caught up by targeted probes within seconds, far inside the 60 s interval', async () => {
  c.startAgent('node-1');
  c.startAgent('node-2');
  // Both have done their first round; node-3 is still missing, so the verdict waits.
  const early = await waitUntil(
    async () => {
      const r = await c.report();
      return r.nodes.filter((n) => n.state === 'reporting' && n.rounds >= 1).length === 2 ? r : undefined;
    },
    'node-1 and node-2 reporting',
    30_000,
  );
  assert.equal(early.verdict, 'pending');
  // Their first rounds probed only the peers that were up (welcome.up): nothing toward node-3 yet, whose
  // agent is not running (probed anyway, its ports would show refused).
  for (const b of early.bindings) assert.deepEqual([b.matrix!.states[0]![2], b.matrix!.states[1]![2]], ['?', '?'], b.name);
  const roundsBefore = early.nodes.map((n) => n.rounds);
  const t0 = Date.now();
  c.startAgent('node-3');
  const r = await c.waitVerdict('ready', 30_000);
  const took = Date.now() - t0;
  // Without the catch-up node-1 and node-2 would probe node-3 again only at their next round (48-72 s).
  assert.ok(took < 30_000, `ready ${took} ms after node-3 started`);
  assert.deepEqual(r.findings, []);
  for (const b of r.bindings) assert.deepEqual(b.matrix!.states, ['-oo', 'o-o', 'oo-'], b.name);
  // The catch-up is not a round: node-1 and node-2 did not start another full round for the join.
  assert.deepEqual(
    r.nodes.slice(0, 2).map((n) => n.rounds),
    roundsBefore.slice(0, 2),
  );
});

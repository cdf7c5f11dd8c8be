// The bandwidth sample on real namespaces: four nodes, node-3's link shaped to 20 Mb/s with tc tbf, the
// others unshaped; the agents sample each other in their slots through their own sinks (rate cap 300 Mb/s,
// minimum 80 Mb/s). The verdict carries exactly one bandwidth-low finding, on internal, naming node-3 as
// the slow side; the unshaped nodes' medians pass the minimum, node-3's does not.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { requireEnv } from '../helpers/env.js';
import { Lab, processesMentioning } from './lab.js';

const PROFILE = new URL('./bandwidth-profile.yaml', import.meta.url).pathname;

describe('lab: bandwidth sample', { concurrency: false }, () => {
  const labs: Lab[] = [];
  after(async () => {
    for (const lab of labs) {
      await lab.down();
      assert.deepEqual(lab.leftovers(), []);
      assert.deepEqual(processesMentioning(lab.prefix), []);
    }
  });

  test('node-3 shaped to 20 Mb/s: one bandwidth-low naming node-3 on internal', async (t) => {
    if (!requireEnv(t, { root: true, commands: ['ip', 'nft', 'tc'] })) return;
    const lab = await Lab.create({ nodes: 4, spaces: ['internal'], profile: PROFILE, startAgents: false });
    labs.push(lab);
    const ns = lab.nodeNs('node-3');
    const dev = lab.names.iface('internal');
    // node-3's sending side: its interface's egress (inside its namespace) at 20 Mb/s.
    execFileSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', '20mbit', 'burst', '32kbit', 'latency', '50ms']);
    assert.match(execFileSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'show', 'dev', dev]).toString(), /tbf .*rate 20Mbit/);
    lab.startAgents();
    const t0 = Date.now();
    // Every node measured with every peer (node-3 with all three), and the finding settled on that.
    const r = await lab.waitFor(
      (x) => {
        const bw = x.findings.filter((f) => f.kind === 'bandwidth-low');
        return bw.length === 1 && /node-3 is slow with 3 of 3 peers/.test(bw[0]!.summary) && x.nodes.every((n) => n.bandwidthMbps?.internal !== undefined);
      },
      'one bandwidth-low naming node-3',
      75_000,
      500,
    );
    const bw = r.findings.filter((f) => f.kind === 'bandwidth-low');
    assert.equal(bw.length, 1, JSON.stringify(r.findings.map((f) => f.summary)));
    const f = bw[0]!;
    assert.equal(f.binding, 'internal');
    assert.deepEqual(f.nodes, ['node-3']);
    assert.equal(f.severity, 'error');
    assert.ok(
      f.evidence!.every((e) => e.from === 'node-3' || e.to === 'node-3'),
      JSON.stringify(f.evidence),
    );
    const median = (n: string) => r.nodes.find((x) => x.name === n)!.bandwidthMbps!.internal!;
    assert.ok(median('node-3') < 30, `node-3 sends at ${median('node-3')} Mb/s (shaped to 20)`);
    for (const n of ['node-1', 'node-2', 'node-4']) {
      assert.ok(median(n) >= 80, `${n} sends at ${median(n)} Mb/s: over the 80M minimum`);
      assert.ok(median(n) <= 300 * 1.1, `${n} sends at ${median(n)} Mb/s: within the 300M rate cap`);
    }
    t.diagnostic(
      `settled in ${Date.now() - t0} ms; medians ${r.nodes.map((n) => `${n.name}=${n.bandwidthMbps?.internal}`).join(' ')}; findings ${r.findings.map((x) => x.kind).join(',')}`,
    );
  });
});

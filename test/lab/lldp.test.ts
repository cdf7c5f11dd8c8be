// Switch-level diagnosis on real namespaces: two "switches", each a namespace with lldpd announcing its name
// and per-port descriptions; every node runs lldpd too and its agent reads its neighbours. With every node
// behind sw-2 cut off, the verdict carries ONE switch-fault naming sw-2 (not a finding per node); without
// lldpd the report says "no LLDP data" and nothing fails for it.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Report } from '../../aggregator/report.js';
import { requireEnv } from '../helpers/env.js';
import { Lab, listNamespaces, processesMentioning } from './lab.js';
import { Switches } from './switches.js';

const PROFILE = new URL('./profile.yaml', import.meta.url).pathname;
const SETTLE_MS = 60_000;

describe('lab: LLDP and switch attribution', { concurrency: false }, () => {
  const labs: { lab: Lab; sw?: Switches }[] = [];
  after(async () => {
    for (const { lab, sw } of labs) {
      await sw?.down();
      await lab.down();
      assert.deepEqual(lab.leftovers(), []);
      assert.deepEqual(processesMentioning(lab.prefix), []);
    }
  });

  test('6 nodes on two switches: every node behind sw-2 cut off gives one switch-fault naming sw-2', async (t) => {
    if (!requireEnv(t, { root: true, commands: ['ip', 'nft', 'lldpd', 'lldpcli'] })) return;
    let sw: Switches | undefined;
    const lab = await Lab.create({ nodes: 6, spaces: ['internal'], profile: PROFILE, startAgents: false, agentArgs: (n) => sw!.agentArgs(n) });
    sw = new Switches(lab, 2, (n) => (lab.nodes.indexOf(n) < 3 ? 1 : 2));
    labs.push({ lab, sw });
    await sw.wire();
    lab.startAgents();
    const heard = await lab.waitFor((r) => r.verdict === 'ready' && r.lldp?.state === 'ok', 'ready with LLDP from every node', SETTLE_MS);
    const chassisOf = (r: Report, n: string) => r.nodes.find((x) => x.name === n)?.links?.[0]?.ports[0]?.lldp?.[0];
    for (const n of lab.nodes) {
      const nb = chassisOf(heard, n);
      assert.equal(nb?.chassis, lab.nodes.indexOf(n) < 3 ? 'sw-1' : 'sw-2', `${n}'s neighbour`);
      assert.equal(nb?.portDescr, `${n} eth1`);
    }
    assert.equal(heard.lldp?.note, undefined);

    const faults = [];
    for (const n of ['node-4', 'node-5', 'node-6']) faults.push(await lab.inject({ kind: 'node-isolated', node: n, space: 'internal' }));
    // While the faults land one by one the findings pass through other shapes; the settled one is the point.
    const r = await lab.waitFor(
      (x) =>
        x.verdict === 'not-ready' &&
        x.findings
          .filter((f) => f.severity === 'error')
          .map((f) => f.kind)
          .join() === 'switch-fault',
      'exactly one error: a switch-fault',
      SETTLE_MS,
    );
    const errors = r.findings.filter((f) => f.severity === 'error');
    assert.deepEqual(
      errors.map((f) => f.kind),
      ['switch-fault'],
      `one finding, not one per node: ${JSON.stringify(errors.map((f) => f.summary))}`,
    );
    const f = errors[0]!;
    assert.equal(f.binding, 'internal');
    assert.deepEqual(f.nodes, ['node-4', 'node-5', 'node-6']);
    assert.equal(f.switch?.name, 'sw-2');
    assert.deepEqual(
      f.switch?.ports.map((p) => `${p.node}:${p.port}`),
      ['node-4:n4s1', 'node-5:n5s1', 'node-6:n6s1'],
    );
    for (const a of faults) await lab.remove(a);
    await lab.waitVerdict('ready', SETTLE_MS);
  });

  test('no lldpd: the report says "no LLDP data", the verdict does not suffer', async (t) => {
    if (!requireEnv(t, { root: true, commands: ['ip', 'nft'] })) return;
    let dir = '';
    // A socket nobody listens on: deterministic even where the host runs its own lldpd.
    const lab = await Lab.create({
      nodes: 3,
      spaces: ['internal'],
      profile: PROFILE,
      agentArgs: () => ['--lldp-socket', `${dir}/no-lldpd.sock`],
      startAgents: false,
    });
    dir = lab.dir;
    labs.push({ lab });
    lab.startAgents();
    const r = await lab.waitFor(
      (x) => x.verdict === 'ready' && x.lldp?.state === 'none' && x.nodes.every((n) => n.lldp === 'not-running'),
      'ready, without LLDP',
      SETTLE_MS,
    );
    assert.match(r.lldp!.note!, /^no LLDP data from node-1, node-2, node-3 \(lldpd not running\): switch-level diagnosis is off/);
    assert.deepEqual(r.findings, []);
    assert.ok(listNamespaces().some((n) => n.startsWith(lab.prefix)));
  });
});

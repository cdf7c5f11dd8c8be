// End to end on real networks: namespaces, veths, bridges, real ICMP/TCP, real MTUs, nftables. A healthy lab
// is `ready`; each fault gives `not-ready` with the finding of its kind naming the right node(s) and binding
// and no error-severity finding about anything else; removing it brings `ready` back with nothing restarted.
import assert from 'node:assert/strict';
import { after, describe, test, type TestContext } from 'node:test';
import type { Report } from '../../aggregator/report.js';
import { isRoot, requireEnv } from '../helpers/env.js';
import type { Fault } from './faults.js';
import { ensureTools, Lab, listNamespaces, processesMentioning } from './lab.js';

const PROFILE = new URL('./profile.yaml', import.meta.url).pathname;
const SETTLE_MS = 45_000; // a 2-core machine shared with other suites: generous, the usual is 3-8 s

interface Expect {
  kind: string;
  binding?: string;
  /** The nodes the finding must name; `exact` (default) means no others. */
  nodes: string[];
  exact?: boolean;
  /** For partitions: one of the groups. */
  group?: string[];
}

const matches = (f: Report['findings'][number], e: Expect) =>
  f.kind === e.kind &&
  (e.binding === undefined || f.binding === e.binding) &&
  e.nodes.every((n) => f.nodes.includes(n)) &&
  (e.exact === false || f.nodes.length === e.nodes.length) &&
  (!e.group || ((f as { groups?: string[][] }).groups ?? []).some((g) => JSON.stringify(g) === JSON.stringify(e.group)));

/** Waits until the report is not-ready with exactly the expected findings among its errors. */
async function expectFindings(lab: Lab, expected: Expect[], verdict: Report['verdict'] = 'not-ready'): Promise<Report> {
  return lab.waitFor(
    (r) =>
      r.verdict === verdict &&
      expected.every((e) => r.findings.some((f) => matches(f, e))) &&
      // Nothing healthy is blamed: every error is one of those expected.
      r.findings.filter((f) => f.severity === 'error').every((f) => expected.some((e) => matches(f, e))),
    `${verdict} with ${expected.map((e) => `${e.kind}${e.binding ? `@${e.binding}` : ''}[${e.nodes.join(',')}]`).join(' + ')} and no other error`,
    SETTLE_MS,
  );
}

async function withFaults(lab: Lab, faults: Fault[], expected: Expect[], verdict: Report['verdict'] = 'not-ready'): Promise<void> {
  const active = [];
  try {
    for (const f of faults) active.push(await lab.inject(f));
    await expectFindings(lab, expected, verdict);
  } finally {
    for (const a of active) await lab.remove(a);
  }
  const r = await lab.waitVerdict('ready', SETTLE_MS);
  assert.deepEqual(
    r.findings.filter((f) => f.severity === 'error'),
    [],
  );
}

const pidsOf = (lab: Lab) => new Map([...lab.agents].map(([n, p]) => [n, p.child.pid]));

describe('lab: 5 nodes x 4 spaces, one fault at a time, then two', { concurrency: false }, () => {
  let lab: Lab | undefined;
  let pids: Map<string, number | undefined>;
  let skip = false;
  const run = (name: string, fn: (l: Lab) => Promise<void>) =>
    test(name, async (t: TestContext) => {
      if (skip) return t.skip('lab not available (see the first test)');
      if (!lab) throw new Error('the lab did not come up (see the first test)');
      await fn(lab);
    });

  after(async () => {
    const prefix = lab?.prefix;
    const agents = lab ? [...lab.agents.values()] : [];
    await lab?.down();
    if (prefix)
      assert.deepEqual(
        listNamespaces().filter((n) => n.startsWith(`${prefix}-`)),
        [],
        'no namespace of the lab is left',
      );
    for (const a of agents) assert.notEqual(a.child.exitCode ?? a.child.signalCode, null, `agent pid ${a.child.pid} is gone`);
    if (prefix) assert.deepEqual(processesMentioning(prefix), [], 'no process of the lab is left');
  });

  test('a healthy lab is ready', async (t) => {
    if (isRoot()) ensureTools(); // installs iproute2 / nftables when missing
    if (!requireEnv(t, { root: true, commands: ['ip', 'nft', 'perl'] })) return void (skip = true);
    lab = await Lab.create({
      nodes: 5,
      spaces: ['internal', 'shared-db', { name: 'ceph-cluster', mtu: 9000 }, 'overlay'],
      profile: PROFILE,
    });
    const r = await lab.waitVerdict('ready', SETTLE_MS);
    assert.equal(r.reporting, 5);
    assert.deepEqual(
      r.findings.filter((f) => f.severity === 'error'),
      [],
    );
    // Real interfaces with real MTUs, as the agents found them.
    const n1 = r.nodes.find((n) => n.name === 'node-1')!;
    assert.deepEqual(n1.bindings['ceph-cluster'], [{ address: '198.18.3.1', iface: 'eth3', mtu: 9000 }]);
    assert.equal(n1.icmp, 'available');
    for (const b of r.bindings) assert.equal(b.counts.ok, 5 * 4, `${b.name}: every pair ok`);
    pids = pidsOf(lab);
  });

  run('node-isolated: node-3 down on internal', (lab) =>
    withFaults(lab, [{ kind: 'node-isolated', node: 'node-3', space: 'internal' }], [{ kind: 'node-isolated', binding: 'internal', nodes: ['node-3'] }]),
  );

  run('partition: shared-db split into {node-1, node-2} and the rest', (lab) =>
    withFaults(
      lab,
      [{ kind: 'partition', space: 'shared-db', nodes: ['node-1', 'node-2'] }],
      [{ kind: 'partition', binding: 'shared-db', nodes: ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'], group: ['node-1', 'node-2'] }],
    ),
  );

  run('asymmetric: node-2 drops all new inbound traffic on internal', (lab) =>
    withFaults(
      lab,
      [{ kind: 'asymmetric', node: 'node-2', space: 'internal', direction: 'in', proto: 'all' }],
      [{ kind: 'asymmetric', binding: 'internal', nodes: ['node-2'] }],
    ),
  );

  run('asymmetric: node-4 sends no ICMP echoes out on shared-db', (lab) =>
    withFaults(
      lab,
      [{ kind: 'asymmetric', node: 'node-4', space: 'shared-db', direction: 'out', proto: 'icmp' }],
      [{ kind: 'asymmetric', binding: 'shared-db', nodes: ['node-4'] }],
    ),
  );

  run('port-filtered: node-2 drops 3306 on shared-db', (lab) =>
    withFaults(
      lab,
      [{ kind: 'port-filtered', node: 'node-2', space: 'shared-db', port: 3306 }],
      [{ kind: 'port-filtered', binding: 'shared-db', nodes: ['node-2'] }],
    ),
  );

  run('port-refused: node-4 resets 8774 on internal', (lab) =>
    withFaults(
      lab,
      [{ kind: 'port-refused', node: 'node-4', space: 'internal', port: 8774 }],
      [{ kind: 'port-refused', binding: 'internal', nodes: ['node-4'] }],
    ),
  );

  run('mtu-mismatch: node-3 at 1500 on the 9000 ceph-cluster', (lab) =>
    withFaults(
      lab,
      [{ kind: 'mtu-mismatch', node: 'node-3', space: 'ceph-cluster', mtu: 1500 }],
      [{ kind: 'mtu-mismatch', binding: 'ceph-cluster', nodes: ['node-3'] }],
    ),
  );

  run('udp-blocked: node-5 drops the Geneve port on overlay', (lab) =>
    withFaults(lab, [{ kind: 'udp-blocked', node: 'node-5', space: 'overlay', port: 6081 }], [{ kind: 'udp-blocked', binding: 'overlay', nodes: ['node-5'] }]),
  );

  run('loss: node-5 drops half its inbound echoes on internal', (lab) =>
    withFaults(
      lab,
      [{ kind: 'loss', node: 'node-5', space: 'internal', percent: 50, proto: 'icmp' }],
      [{ kind: 'loss', binding: 'internal', nodes: ['node-5'] }],
    ),
  );

  run('two faults at once give both findings', (lab) =>
    withFaults(
      lab,
      [
        { kind: 'port-filtered', node: 'node-2', space: 'shared-db', port: 3306 },
        { kind: 'mtu-mismatch', node: 'node-3', space: 'ceph-cluster', mtu: 1500 },
      ],
      [
        { kind: 'port-filtered', binding: 'shared-db', nodes: ['node-2'] },
        { kind: 'mtu-mismatch', binding: 'ceph-cluster', nodes: ['node-3'] },
      ],
    ),
  );

  run('nothing was restarted to heal: the same agent processes ran throughout', async (lab) => {
    assert.deepEqual(pidsOf(lab), pids);
    for (const [, p] of lab.agents) assert.equal(p.child.exitCode, null);
  });

  // The verdict waits (`pending`) for a grace period after an agent goes away, then the agent-missing finding
  // makes it `not-ready` (README "The report").
  run('agent-missing: node-5 stops; back when it starts again', (lab) =>
    withFaults(lab, [{ kind: 'agent-missing', node: 'node-5' }], [{ kind: 'agent-missing', nodes: ['node-5'] }], 'not-ready'),
  );
});

describe('lab: faults before the agents start, and an IPv6-only space', { concurrency: false }, () => {
  let lab: Lab | undefined;
  after(async () => {
    const prefix = lab?.prefix;
    await lab?.down();
    if (prefix)
      assert.deepEqual(
        listNamespaces().filter((n) => n.startsWith(`${prefix}-`)),
        [],
      );
    if (prefix) assert.deepEqual(processesMentioning(prefix), []);
  });

  test('port-in-use and agent-missing from the start, on v4 and v6-only spaces', async (t) => {
    if (isRoot()) ensureTools(); // installs iproute2 / nftables when missing
    if (!requireEnv(t, { root: true, commands: ['ip', 'nft', 'perl'] })) return;
    lab = await Lab.create({
      nodes: 4,
      spaces: ['internal', { name: 'storage', family: 'v6' }],
      profile: PROFILE,
      faults: [
        { kind: 'port-in-use', node: 'node-2', space: 'internal', port: 5000 },
        { kind: 'agent-missing', node: 'node-4' },
      ],
    });
    assert.equal(lab.agents.has('node-4'), false, 'the missing agent never started');
    await expectFindings(
      lab,
      [
        { kind: 'agent-missing', nodes: ['node-4'] },
        { kind: 'port-in-use', binding: 'internal', nodes: ['node-2'] },
      ],
      'not-ready', // node-4 never reported: past the grace it is a fault
    );
    const r = await lab.report();
    assert.deepEqual(
      r.nodes.find((n) => n.name === 'node-2')!.responderProblems.map((p) => [p.binding, p.port, p.state]),
      [['internal', 5000, 'in-use']],
    );
    for (const a of [...lab.active]) await lab.remove(a);
    await lab.waitVerdict('ready', SETTLE_MS);
  });

  test('the IPv6-only space is probed and a fault on it is found', async (t) => {
    if (!lab) return t.skip('no lab');
    // Every ordered pair of the 4 nodes on the v6-only space is measured ok (rounds may still be landing).
    const r = await lab.waitFor((x) => x.bindings.find((b) => b.name === 'storage')?.counts.ok === 4 * 3, 'storage: 12 ok pairs', SETTLE_MS);
    assert.deepEqual(r.nodes.find((n) => n.name === 'node-3')!.bindings.storage, [{ address: '2001:db8:2::3', iface: 'eth2', mtu: 1500 }]);
    await withFaults(lab, [{ kind: 'node-isolated', node: 'node-3', space: 'storage' }], [{ kind: 'node-isolated', binding: 'storage', nodes: ['node-3'] }]);
  });
});

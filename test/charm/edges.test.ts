// The rest of the seed's story, with services recorded but not started (hooks only): a unit removed, an
// address changed, a binding with no address, the leader changing, network-get in the old YAML-only form,
// several NICs and IPv6, the metrics relations, and Juju's commit rules for a failing hook.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGGREGATOR_NODE_FLAGS } from '../../aggregator/node-flags.js';
import { addr, appData, block, inventoryOf, machine, simOptions } from './fixture.js';
import { Sim } from './sim/sim.js';

async function deployed(n: number, over: Parameters<typeof simOptions>[0] = { goal: n, systemd: 'record' }): Promise<Sim> {
  const sim = await Sim.create(simOptions(over));
  for (let i = 0; i < n; i++) sim.addUnit();
  await sim.settle();
  return sim;
}

test('a unit removed: the others drop it from their inventories; it takes its services with it', async () => {
  const sim = await deployed(3);
  try {
    assert.deepEqual(
      inventoryOf(sim, 'pinger/0').nodes.map((n) => n.name),
      ['pinger/0', 'pinger/1', 'pinger/2'],
    );
    const starts = sim.service('pinger/0', 'pinger-agent').starts;
    sim.removeUnit('pinger/2');
    await sim.settle();
    for (const u of ['pinger/0', 'pinger/1']) {
      assert.deepEqual(
        inventoryOf(sim, u).nodes.map((n) => n.name),
        ['pinger/0', 'pinger/1'],
        u,
      );
      assert.doesNotMatch(sim.model().units[u]!.status.message, /waiting for peers/, u);
    }
    assert.equal(sim.service('pinger/0', 'pinger-agent').starts, starts, 'not restarted: the departure is a reload');
    assert.ok((sim.service('pinger/0', 'pinger-agent').reloads ?? 0) >= 1, 'systemctl reload with the new inventory');
    await sim.runHook({ unit: 'pinger/0', hook: 'upgrade-charm' });
    assert.equal(sim.service('pinger/0', 'pinger-agent').starts, starts + 1, 'upgrade-charm restarts onto the new code');
    assert.match(sim.model().units['pinger/0']!.version!, /^\d+\.\d+\.\d+$/, 'application-version-set');
    assert.equal(sim.model().units['pinger/2'], undefined);
    const gone = sim.service('pinger/2', 'pinger-agent');
    assert.equal(gone.active, false);
    assert.equal(gone.file, undefined, 'unit file removed');
    assert.equal(existsSync(join(sim.root('pinger/2'), 'var/lib/pinger')), false, 'its data (token, credential) removed');
  } finally {
    await sim.close();
  }
});

test('an address changed (config-changed): the unit republishes and every peer rewrites its inventory', async () => {
  const sim = await deployed(3);
  try {
    const moved = `127.${block}.1.99`;
    sim.update((m) => {
      const eth1 = m.machines['1']!.devices!.find((d) => d.name === 'eth1')!;
      eth1.addresses[0]!.value = moved;
    });
    sim.configChanged(['pinger/1']);
    const runs = await sim.settle();
    assert.deepEqual(
      runs
        .filter((r) => r.hook === 'peers-relation-changed')
        .map((r) => [r.unit, r.remote])
        .sort(),
      [
        ['pinger/0', 'pinger/1'],
        ['pinger/2', 'pinger/1'],
      ],
    );
    for (const u of ['pinger/0', 'pinger/1', 'pinger/2']) assert.deepEqual(inventoryOf(sim, u).nodes[1]!.addresses.internal, [moved], u);
  } finally {
    await sim.close();
  }
});

test('a binding with no address on a machine: that unit is blocked naming it; the others leave it out there', async () => {
  const sim = await deployed(3, { goal: 3, systemd: 'record', machine: (i) => machine(i, i === 2 ? { skip: ['storage-cluster'] } : {}) });
  try {
    const m = sim.model();
    assert.equal(m.units['pinger/2']!.status.state, 'blocked');
    assert.match(m.units['pinger/2']!.status.message, /^binding ceph-cluster has no address on this machine/);
    assert.ok(m.log.some((l) => l.startsWith('pinger/2 WARNING network-get ceph-cluster: ERROR no network config found for binding "ceph-cluster"')));
    const n2 = inventoryOf(sim, 'pinger/0').nodes[2]!;
    assert.deepEqual(Object.keys(n2.addresses).sort(), ['internal', 'public', 'shared-db']);
    assert.equal(m.units['pinger/0']!.status.state, 'waiting', 'the others are fine (waiting for a verdict: nothing runs here)');
  } finally {
    await sim.close();
  }
});

test('the leader changing: the new leader runs the aggregator, the old one stops its own, units follow the URL', async () => {
  const sim = await deployed(3);
  try {
    const before = appData(sim);
    assert.ok(sim.service('pinger/0', 'pinger-aggregator').active);
    sim.setLeader('pinger/1');
    await sim.settle();
    const after = appData(sim);
    const port = sim.model().config['aggregator-port'];
    assert.equal(after['aggregator-url'], `https://${addr('oam', 1)}:${port}`);
    assert.equal(after['cluster-secret-id'], before['cluster-secret-id'], 'the cluster secret survives a leader change');
    assert.equal(after.token, undefined, 'no secret in the peer databag on Juju >= 3.1');
    assert.deepEqual(sim.model().units['pinger/0']!.openPorts, [], 'the old leader closed the aggregator port');
    assert.deepEqual(sim.model().units['pinger/1']!.openPorts, [`${port}/tcp`]);
    assert.ok(sim.service('pinger/1', 'pinger-aggregator').active);
    const exec = (u: string, svc: string) => /^ExecStart=(.*)$/m.exec(sim.service(u, svc).file!)![1]!.split(' ');
    assert.deepEqual(
      exec('pinger/1', 'pinger-aggregator').slice(1, 1 + AGGREGATOR_NODE_FLAGS.length),
      AGGREGATOR_NODE_FLAGS,
      "node's flags for the aggregator, before the script",
    );
    assert.match(exec('pinger/1', 'pinger-aggregator')[1 + AGGREGATOR_NODE_FLAGS.length]!, /pinger\.js$/);
    assert.match(exec('pinger/1', 'pinger-agent')[1]!, /pinger\.js$/, 'the agent runs with node defaults');
    assert.equal(sim.service('pinger/0', 'pinger-aggregator').file, undefined);
    assert.equal(sim.service('pinger/0', 'pinger-aggregator').active, false);
    for (const u of ['pinger/0', 'pinger/1', 'pinger/2'])
      assert.match(sim.service(u, 'pinger-agent').file!, new RegExp(`--aggregator wss://${addr('oam', 1).replace(/\./g, '\\.')}:${port}/`), u);
    assert.match(sim.model().appHistory.at(-1)!, /^waiting: /, 'the new leader sets the application status');
  } finally {
    await sim.close();
  }
});

test('network-get in the old YAML-only form (Juju < 2.9), several NICs and IPv6: every address is kept', async () => {
  const sim = await deployed(2, {
    goal: 2,
    systemd: 'record',
    networkGetFormat: 'legacy-yaml',
    machine: (i) => {
      const m = machine(i, { v6: true });
      // A second NIC in internal-api (a bond member left unbonded, say): its address counts too.
      m.devices.push({ name: 'eth9', mac: '00:16:3e:00:09:00', addresses: [{ value: `127.${block}.1.${i + 101}`, cidr: `127.${block}.1.0/24` }] });
      return m;
    },
  });
  try {
    const ran = sim.model().log;
    assert.ok(!ran.some((l) => / ERROR /.test(l)), ran.join('\n'));
    const n1 = inventoryOf(sim, 'pinger/0').nodes[1]!;
    assert.deepEqual(n1.addresses.internal, [addr('internal-api', 1), `2001:db8:${block}:1::2`, `127.${block}.1.102`]);
    assert.deepEqual(n1.addresses['ceph-cluster'], [addr('storage-cluster', 1), `2001:db8:${block}:2::2`]);
    const bag = sim.peers().unitData['pinger/1']!;
    assert.deepEqual(
      (JSON.parse(bag.interfaces!) as { iface: string }[]).filter((r) => (r as unknown as { binding: string }).binding === 'internal').map((r) => r.iface),
      ['eth1', 'eth1', 'eth9'],
    );
  } finally {
    await sim.close();
  }
});

test('metrics relations: cos-agent gets the scrape job on the leader, the rules and the dashboards (xz+base64)', async () => {
  const sim = await deployed(2);
  try {
    sim.update((m) => {
      m.relations.push({
        id: 7,
        endpoint: 'cos-agent',
        remoteApp: 'grafana-agent',
        remoteUnits: ['grafana-agent/0'],
        seen: { 'pinger/0': ['grafana-agent/0'], 'pinger/1': ['grafana-agent/0'] },
        unitData: {},
        appData: {},
      });
      m.relations.push({
        id: 8,
        endpoint: 'metrics-endpoint',
        remoteApp: 'prometheus',
        remoteUnits: ['prometheus/0'],
        seen: { 'pinger/0': ['prometheus/0'], 'pinger/1': ['prometheus/0'] },
        unitData: {},
        appData: {},
      });
    });
    for (const u of ['pinger/0', 'pinger/1']) await sim.runHook({ unit: u, hook: 'cos-agent-relation-changed', relId: 7, remote: 'grafana-agent/0' });
    const m = sim.model();
    const cos = m.relations.find((r) => r.id === 7)!;
    const port = m.config['aggregator-port'];
    const leaderCfg = JSON.parse(cos.unitData['pinger/0']!.config!);
    const otherCfg = JSON.parse(cos.unitData['pinger/1']!.config!);
    assert.deepEqual(leaderCfg.metrics_scrape_jobs[0].static_configs, [
      {
        targets: [`localhost:${port}`],
        labels: { juju_model: 'openstack', juju_model_uuid: m.model.uuid, juju_application: 'pinger', juju_unit: 'pinger/0', juju_charm: 'pinger' },
      },
    ]);
    assert.deepEqual(otherCfg.metrics_scrape_jobs, []);
    // The dashboards are the files in dashboards/, shipped in the charm, each xz-compressed and base64'd.
    const shipped = JSON.parse(
      execFileSync('sh', ['-c', `ls ${join(sim.charmDir, 'dashboards')}/*.json 2>/dev/null | wc -l`], { encoding: 'utf8' }).trim() || '0',
    );
    assert.equal(leaderCfg.dashboards.length, shipped);
    for (const d of leaderCfg.dashboards as string[]) {
      const json = execFileSync('xz', ['-dc'], { input: Buffer.from(d, 'base64') }).toString();
      assert.ok(JSON.parse(json), 'each dashboard decompresses to JSON');
    }
    assert.ok(Array.isArray(leaderCfg.metrics_alert_rules.groups));
    const scrape = m.relations.find((r) => r.id === 8)!;
    assert.deepEqual(JSON.parse(scrape.appData.pinger!.scrape_jobs!)[0].static_configs, [
      {
        targets: [`${addr('oam', 0)}:${port}`],
        labels: { juju_model: 'openstack', juju_model_uuid: m.model.uuid, juju_application: 'pinger', juju_unit: 'pinger/0', juju_charm: 'pinger' },
      },
    ]);
    // Alert rules carry the application's topology (and every one its runbook).
    for (const g of JSON.parse(scrape.appData.pinger!.alert_rules!).groups as {
      rules: { labels: Record<string, string>; annotations: Record<string, string> }[];
    }[]) {
      for (const r of g.rules) {
        assert.equal(r.labels.juju_application, 'pinger');
        assert.equal(r.labels.juju_model_uuid, m.model.uuid);
        assert.match(r.annotations.runbook_url!, /#runbook-pinger/);
      }
    }
    assert.equal(scrape.unitData['pinger/1']!.prometheus_scrape_unit_name, 'pinger/1');
  } finally {
    await sim.close();
  }
});

test("a hook that fails commits nothing but its status; hook tools answer like Juju's", async () => {
  const sim = await deployed(1);
  try {
    // Replace the charm's dispatch with a script, the way Juju would run any charm's.
    const dispatch = join(sim.charmDir, 'dispatch');
    const original = readFileSync(dispatch, 'utf8');
    const probe = (script: string) => {
      writeFileSync(dispatch, `#!/bin/sh\n${script}\n`);
      return sim.runHook({ unit: 'pinger/0', hook: 'update-status' });
    };
    let r = await probe('relation-set -r peers:0 probe=1; open-port 9999/tcp; status-set maintenance "about to fail"; exit 1');
    assert.equal(r.code, 1);
    let m = sim.model();
    assert.equal(sim.peers(m).unitData['pinger/0']!.probe, undefined, 'relation-set not committed');
    assert.ok(!m.units['pinger/0']!.openPorts.includes('9999/tcp'), 'open-port not committed');
    assert.deepEqual(m.units['pinger/0']!.status, { state: 'maintenance', message: 'about to fail' }, 'status-set is immediate');
    r = await probe('relation-set -r peers:0 probe=1');
    assert.equal(sim.peers().unitData['pinger/0']!.probe, '1', 'committed when the hook exits 0');
    const cases: [string, number, string, string][] = [
      ['network-get nosuch --format=json', 1, '', 'ERROR binding name "nosuch" not defined by the unit\'s charm\n'],
      ['network-get', 2, '', 'ERROR no arguments specified\n'],
      ['network-get internal --primary-address --format=json', 2, '', 'ERROR --primary-address must be the only flag specified\n'],
      ['network-get internal --bogus', 2, '', 'ERROR flag provided but not defined: --bogus\n'],
      ['network-get internal --primary-address', 0, `${addr('internal-api', 0)}\n`, ''],
      ['relation-ids peers --format=json', 0, '["peers:0"]\n', ''],
      ['relation-get -r peers:9 - pinger/0', 2, '', 'ERROR invalid value "peers:9" for option -r: relation not found\n'],
      ['is-leader --format=json', 0, 'true\n', ''],
      ['status-set happy "x"', 2, '', 'ERROR invalid status "happy", expected one of [maintenance blocked waiting active]\n'],
      ['action-get', 1, '', 'ERROR not running an action\n'],
      ['open-port 70000-/tcp', 2, '', 'ERROR invalid port or range "70000-/tcp"\n'],
    ];
    for (const [cmd, code, out, err] of cases) {
      r = await probe(`${cmd}; code=$?; echo "exit=$code" >&2; exit 0`);
      assert.equal(r.out, out, cmd);
      assert.equal(r.err, `${err}exit=${code}\n`, cmd);
    }
    const nj = await probe('network-get internal --format=json');
    assert.deepEqual(JSON.parse(nj.out)['bind-addresses'][0], {
      'mac-address': '00:16:3e:00:01:00',
      'interface-name': 'eth1',
      addresses: [{ hostname: '', value: addr('internal-api', 0), cidr: `127.${block}.1.0/24` }],
    });
    writeFileSync(dispatch, original);
  } finally {
    await sim.close();
  }
});

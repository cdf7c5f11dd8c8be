// The charm as an operator lives with it (issue 17), through the real dispatch and hook tools that behave
// like Juju's: 20 units joining one by one with no service restart after the first start, statuses by Juju's
// conventions (maintenance, one unit blocked for its own fault, the others pointing at the report), the
// aggregator port closed on leadership loss, removal leaving nothing, and the cluster secret in a Juju secret,
// used and rotated. Services are recorded, not run: what is counted is every systemctl call the charm made.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import type { Report } from '../../aggregator/report.js';
import { features } from '../../charm/src/handlers.js';
import { appData, simOptions } from './fixture.js';
import { Sim } from './sim/sim.js';

const cred = (secret: string, node: string) => createHmac('sha256', secret).update(`pinger-node-v1:${node}`).digest('hex');
const calls = (sim: Sim, unit: string): string[] => {
  const f = join(sim.root(unit), 'run/systemd-sim/calls.log');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : [];
};
const data = (sim: Sim, unit: string, f: string) => join(sim.root(unit), 'var/lib/pinger', f);
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? files(join(dir, e)) : [join(dir, e)]));
}
function clusterSecret(sim: Sim): { id: string; content: Record<string, string> } {
  const m = sim.model();
  const id = appData(sim)['cluster-secret-id']!;
  const s = m.secrets![id]!;
  return { id, content: s.revisions.at(-1)! };
}

// O(N^2) hooks, as Juju runs them (each join fires joined + changed on both sides): ~900 hooks for 20 units,
// each a real dispatch (a Node process). It fits the suite's 30-minute budget per file (test/run.sh) because a hook loads
// only what it runs (no zod, no YAML parser), reads only the peer bag that changed, the hook tools are a C
// client, and hooks on different machines run 4 at once as Juju's agents run them (figures: README
// "Deploying with Juju"). PINGER_CHARM_UNITS=N runs another size; the assertions hold for any N >= 3.
const N = Number(process.env.PINGER_CHARM_UNITS ?? 20);

test(`${N} units joining one by one: every service starts once, peer changes reload, zero restarts`, { timeout: 3_600_000 }, async (t) => {
  const sim = await Sim.create(simOptions({ goal: N, systemd: 'record' }));
  try {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      sim.addUnit();
      await sim.settle(2000);
    }
    const ms = sim.runs.map((r) => r.ms).sort((a, b) => a - b);
    t.diagnostic(
      `${N} units: ${sim.runs.length} hooks in ${Math.round((performance.now() - t0) / 1000)} s, median ${Math.round(ms[ms.length >> 1]!)} ms a hook (tool client ${sim.toolClient})`,
    );
    const m = sim.model();
    const units = Object.keys(m.units);
    assert.equal(units.length, N);
    const restarts = units.flatMap((u) =>
      calls(sim, u)
        .filter((c) => /^restart\b/.test(c))
        .map((c) => `${u}: ${c}`),
    );
    assert.deepEqual(restarts, [], 'no systemctl restart after the first start');
    for (const u of units) {
      assert.equal(sim.service(u, 'pinger-agent').starts, 1, `${u} agent started once`);
      assert.match(sim.service(u, 'pinger-agent').file!, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
      // Every unit's inventory lists all N, reached by reloads only.
      assert.equal(Object.keys(JSON.parse(readFileSync(data(sim, u, 'inventory.yaml'), 'utf8').replace(/^#.*\n/, '')).nodes).length, N, u);
      assert.match(m.units[u]!.history[0]!, /^maintenance: installing/, `${u}: ${m.units[u]!.history.slice(0, 2).join(' | ')}`);
    }
    assert.equal(sim.service('pinger/0', 'pinger-aggregator').starts, 1);
    assert.ok(
      sim.service('pinger/0', 'pinger-aggregator').reloads! >= N - 1,
      `aggregator reloaded for each join (${sim.service('pinger/0', 'pinger-aggregator').reloads})`,
    );
    assert.ok(sim.service('pinger/0', 'pinger-agent').reloads! >= N - 1);
    // The cluster secret: an application-owned Juju secret; each unit's credential its own unit-owned secret,
    // granted to that unit only; no secret in the peer relation data.
    const { content } = clusterSecret(sim);
    assert.equal(sim.model().secrets![appData(sim)['cluster-secret-id']!]!.owner, 'application');
    const app = appData(sim);
    assert.equal(app.token, undefined);
    const ids = JSON.parse(app['credential-ids']!) as Record<string, string>;
    assert.deepEqual(Object.keys(ids).sort(), [...units].sort());
    for (const u of units) {
      const s = m.secrets![ids[u]!]!;
      assert.equal(s.owner, 'pinger/0');
      assert.deepEqual(s.grants, u === 'pinger/0' ? [] : [u], `${u}'s credential granted to ${u} only`);
      assert.equal(s.revisions.at(-1)!.credential, cred(content.secret!, u));
      if (features(sim.charmDir).credential) {
        assert.equal(readFileSync(data(sim, u, 'credential'), 'utf8').trim(), cred(content.secret!, u));
        assert.equal(statSync(data(sim, u, 'credential')).mode & 0o777, 0o600);
        if (u !== 'pinger/0') assert.equal(existsSync(data(sim, u, 'token')), false, `${u} holds no cluster secret`);
      }
    }
    // The leader made a CA; its certificate is shared, its key stays in the Juju secret.
    assert.match(content['ca-cert']!, /^-----BEGIN CERTIFICATE-----/);
    assert.equal(app['ca-cert'], content['ca-cert']);
    for (const u of units)
      assert.ok(
        !files(join(sim.root(u), 'var/lib/pinger')).some((f) => readFileSync(f, 'utf8').includes('PRIVATE KEY') && f.includes('ca')),
        `${u}: no CA key on disk`,
      );
  } finally {
    await sim.close();
  }
});

/** A stand-in aggregator serving one report (aggregator-mode=external), so the statuses come from a known fault. */
function reportServer(r: Report): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(r));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server })),
  );
}

function faultReport(units: string[], bad: string): Report {
  const row = (i: number) => units.map((u, j) => (i === j ? '-' : u === bad || units[i] === bad ? 'x' : 'o')).join('');
  const ok = units.map((_, i) => units.map((_, j) => (i === j ? '-' : 'o')).join(''));
  const node = (u: string) => ({
    name: u,
    state: 'reporting' as const,
    rounds: 3,
    bindings: { internal: [{ address: '127.0.0.1', iface: 'lo', mtu: 65536 }] },
    responderProblems: [],
  });
  return {
    verdict: 'not-ready',
    generatedAt: new Date().toISOString(),
    profile: 'demo',
    summary: 'not-ready: 1 error',
    expected: units.length,
    reporting: units.length,
    nodes: units.map(node),
    bindings: [
      { name: 'internal', nodes: units, counts: {} as never, matrix: { legend: {}, states: units.map((_, i) => row(i)) } },
      { name: 'public', nodes: units, counts: {} as never, matrix: { legend: {}, states: ok } },
    ],
    findings: [
      {
        severity: 'error',
        kind: 'node-isolated',
        binding: 'internal',
        family: 'ipv6',
        nodes: [bad],
        summary: `internal: ${bad} is unreachable from every peer`,
        hint: `${bad}'s internal interface reaches no peer and no peer reaches it: check its link, switch port, VLAN and address`,
        evidence: units.filter((u) => u !== bad).map((u) => ({ from: u, to: bad, detail: 'nothing came back' })),
      } as Report['findings'][number],
    ],
  };
}

test("a fault on one unit: only that unit is blocked, naming the cause; the others point at the leader's report", { timeout: 3_600_000 }, async () => {
  const units = ['pinger/0', 'pinger/1', 'pinger/2', 'pinger/3'];
  const { url, server } = await reportServer(faultReport(units, 'pinger/2'));
  const sim = await Sim.create(simOptions({ goal: 4, systemd: 'record' }));
  try {
    sim.update((m) => Object.assign(m.config, { 'aggregator-mode': 'external', 'external-aggregator-url': url, 'external-aggregator-token': 'x'.repeat(32) }));
    for (let i = 0; i < 4; i++) sim.addUnit();
    await sim.settle();
    const m = sim.model();
    const st = Object.fromEntries(units.map((u) => [u, m.units[u]!.status]));
    assert.equal(st['pinger/2']!.state, 'blocked');
    assert.match(st['pinger/2']!.message, /^internal IPv6: pinger\/2's internal interface reaches no peer/);
    for (const u of ['pinger/0', 'pinger/1', 'pinger/3']) {
      assert.equal(st[u]!.state, 'active', u);
      assert.match(st[u]!.message, /^degraded: 4 bindings, 2\/3 peers reachable; see pinger\/0 get-report$/, u);
    }
    for (const u of units) assert.ok(st[u]!.message.length < 120, `${u}: ${st[u]!.message.length} chars`);
    assert.equal(m.appStatus.state, 'blocked');
    assert.match(m.appStatus.message, /^not-ready: internal: pinger\/2 is unreachable from every peer$/);
  } finally {
    server.close();
    await sim.close();
  }
});

test('maintenance on install and upgrade; close-port on leadership loss; remove-unit leaves no file and no service', { timeout: 3_600_000 }, async () => {
  const sim = await Sim.create(simOptions({ goal: 3, systemd: 'record' }));
  try {
    for (let i = 0; i < 3; i++) sim.addUnit();
    await sim.settle();
    const port = `${sim.model().config['aggregator-port']}/tcp`;
    assert.deepEqual(sim.model().units['pinger/0']!.openPorts, [port]);
    // Upgrade: maintenance while the services move onto the new code (one restart each), then the real status.
    await sim.runHook({ unit: 'pinger/1', hook: 'upgrade-charm' });
    const h = sim.model().units['pinger/1']!.history;
    assert.match(h.at(-2)!, /^maintenance: upgrading/);
    assert.doesNotMatch(h.at(-1)!, /^maintenance/);
    assert.equal(calls(sim, 'pinger/1').filter((c) => c.startsWith('restart')).length, 1);
    // Leadership moves: the old leader stops its aggregator and closes the port, the new one opens it.
    sim.setLeader('pinger/1');
    await sim.settle();
    assert.deepEqual(sim.model().units['pinger/0']!.openPorts, []);
    assert.deepEqual(sim.model().units['pinger/1']!.openPorts, [port]);
    assert.equal(sim.service('pinger/0', 'pinger-aggregator').file, undefined);
    // remove-unit: nothing of Pinger left under the unit's root but the fake systemd's own records.
    sim.removeUnit('pinger/0');
    await sim.settle();
    const left = files(sim.root('pinger/0'))
      .map((f) => relative(sim.root('pinger/0'), f))
      .filter((f) => !f.startsWith('run/systemd-sim/'));
    assert.deepEqual(left, []);
    assert.equal(sim.service('pinger/0', 'pinger-agent').active, false);
    assert.equal(sim.service('pinger/0', 'pinger-agent').enabled, false);
    // A runtime that cannot start on this base: install says so in the status instead of failing every hook.
    const rt = join(sim.charmDir, 'runtime/node');
    const real = process.execPath;
    unlinkSync(rt);
    writeFileSync(
      rt,
      '#!/bin/sh\necho "./runtime/node: /lib/x86_64-linux-gnu/libc.so.6: version \\`GLIBC_2.38\' not found (required by ./runtime/node)" >&2\nexit 1\n',
    );
    chmodSync(rt, 0o755);
    try {
      const r = await sim.runHook({ unit: 'pinger/2', hook: 'install' });
      assert.equal(r.code, 0);
      const s = sim.model().units['pinger/2']!.status;
      assert.equal(s.state, 'blocked');
      assert.equal(s.message, 'bundled Node runtime cannot start here (needs GLIBC_2.38): deploy a charm built for this base');
    } finally {
      rmSync(rt);
      symlinkSync(real, rt);
    }
  } finally {
    await sim.close();
  }
});

test('the cluster secret is used and rotated: every credential follows, the peer databag never holds it', { timeout: 3_600_000 }, async () => {
  const sim = await Sim.create(simOptions({ goal: 3, systemd: 'record' }));
  try {
    for (let i = 0; i < 3; i++) sim.addUnit();
    await sim.settle();
    const before = clusterSecret(sim);
    assert.equal(readFileSync(data(sim, 'pinger/0', 'aggregator-token'), 'utf8').trim(), before.content.secret, 'the aggregator runs with the secret');
    const starts = Object.fromEntries(['pinger/0', 'pinger/1', 'pinger/2'].map((u) => [u, sim.service(u, 'pinger-agent').starts]));
    const notLeader = await sim.runAction('pinger/1', 'rotate-secret');
    assert.match(notLeader.failed!, /^run it on the leader: juju run pinger\/leader rotate-secret$/);
    const r = await sim.runAction('pinger/0', 'rotate-secret');
    assert.equal(r.failed, undefined, r.err);
    assert.equal(r.results.store, 'juju-secret');
    const runs = await sim.settle();
    assert.deepEqual(
      runs
        .filter((x) => x.hook === 'secret-changed')
        .map((x) => x.unit)
        .sort(),
      ['pinger/1', 'pinger/2'],
      'each unit hears its credential changed',
    );
    const after = clusterSecret(sim);
    assert.equal(after.id, before.id, 'same secret, new revision');
    assert.notEqual(after.content.secret, before.content.secret);
    assert.equal(sim.model().secrets![after.id]!.revisions.length, 2);
    assert.equal(readFileSync(data(sim, 'pinger/0', 'aggregator-token'), 'utf8').trim(), after.content.secret);
    const ids = JSON.parse(appData(sim)['credential-ids']!) as Record<string, string>;
    for (const u of ['pinger/0', 'pinger/1', 'pinger/2']) {
      assert.equal(sim.model().secrets![ids[u]!]!.revisions.at(-1)!.credential, cred(after.content.secret!, u), u);
      if (features(sim.charmDir).credential) assert.equal(readFileSync(data(sim, u, 'credential'), 'utf8').trim(), cred(after.content.secret!, u), u);
      // A new secret is read only at start: one restart each, no more.
      assert.equal(sim.service(u, 'pinger-agent').starts, starts[u]! + 1, u);
    }
    assert.ok(!JSON.stringify(sim.peers().appData).includes(after.content.secret!), 'not in the peer relation data');
  } finally {
    await sim.close();
  }
});

test('Juju < 3.1 (no secret tools): the secret falls back to the peer app databag, rotation still works', { timeout: 3_600_000 }, async () => {
  const sim = await Sim.create(simOptions({ goal: 2, systemd: 'record' }));
  try {
    sim.update((m) => (m.model.jujuVersion = '3.0.4'));
    for (let i = 0; i < 2; i++) sim.addUnit();
    await sim.settle();
    const token = appData(sim).token!;
    assert.match(token, /^[\w-]{43}$/);
    assert.equal(sim.model().secrets, undefined);
    assert.equal(readFileSync(data(sim, 'pinger/0', 'aggregator-token'), 'utf8').trim(), token);
    const r = await sim.runAction('pinger/0', 'rotate-secret');
    assert.equal(r.results.store, 'peer-databag', r.err);
    await sim.settle();
    assert.notEqual(appData(sim).token, token);
    assert.equal(readFileSync(data(sim, 'pinger/0', 'aggregator-token'), 'utf8').trim(), appData(sim).token);
  } finally {
    await sim.close();
  }
});

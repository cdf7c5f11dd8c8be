// Profile parsing: shipped profiles, good and bad files with the exact message, extends and overrides.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { builtinProfiles, loadProfile, parseProfile, planFor } from '../../aggregator/profile.js';

const dir = 'test/fixtures/profiles';

const bad: [string, string][] = [
  [
    'bad-placeholder.yaml',
    `${dir}/bad-placeholder.yaml:7:7: bindings.internal[1]: unknown placeholder "rtt_p98" (known: loss, rtt_min, rtt_avg, rtt_p50, rtt_p99, rtt_max, mtu, clock_offset, link_speed, bandwidth, and tcp PORT open, udp PORT open, dns agrees, bond healthy, port description names node)`,
  ],
  [
    'bad-key.yaml',
    `${dir}/bad-key.yaml:2:1: intervall: unknown key "intervall" (known: name, description, extends, interval, timeout, icmp_count, node, every_binding, bindings, bandwidth_sample, pinglist)`,
  ],
  ['bad-item-key.yaml', `${dir}/bad-item-key.yaml:3:5: node[0].severty: unknown key "severty" (known: condition, severity)`],
  ['bad-severity.yaml', `${dir}/bad-severity.yaml:3:15: every_binding[0].severity: must be "error", "warning" or "off", not "fatal"`],
  ['bad-duration.yaml', `${dir}/bad-duration.yaml:1:11: interval: "10 seconds" is not a duration like 10s or 500ms`],
  ['bad-yaml.yaml', `${dir}/bad-yaml.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]`],
  ['bad-scope.yaml', `${dir}/bad-scope.yaml:3:7: bindings.internal[0]: "clock_offset < 50ms" is checked per node: put it under "node"`],
  ['bad-unit.yaml', `${dir}/bad-unit.yaml:2:5: every_binding[0]: "5" needs a unit: us, ms or s (e.g. 5ms)`],
  [
    'bad-ports.yaml',
    `${dir}/bad-ports.yaml:3:7: bindings.ceph-cluster[0]: "6800-7300" names more than 64 ports: sample the range instead (e.g. 6800,6801,7050,7300)`,
  ],
  ['bad-extends.yaml', `${dir}/bad-extends.yaml:1:10: extends: no built-in profile "openstak" (built in: openstack, demo)`],
  ['bad-link-speed.yaml', `${dir}/bad-link-speed.yaml:5:7: bindings.ceph-cluster[1]: "10 gigs" is not a rate like 10G, 25G or 1000M`],
  ['bad-pinglist-key.yaml', `${dir}/bad-pinglist-key.yaml:4:3: pinglist.per_rond: unknown key "per_rond" (known: above, per_round)`],
  ['bad-pinglist-range.yaml', `${dir}/bad-pinglist-range.yaml:4:14: pinglist.per_round: must be a whole number from 1 to 10000`],
  ['bad-pinglist-missing.yaml', `${dir}/bad-pinglist-missing.yaml:2:11: pinglist.above: missing (a whole number from 2 to 100000)`],
  ['bad-pinglist-scalar.yaml', `${dir}/bad-pinglist-scalar.yaml:2:11: pinglist: expected a map: above, per_round (or "off")`],
  ['bad-timeout.yaml', `${dir}/bad-timeout.yaml: timeout (2000ms) must be shorter than interval (1000ms)`],
];
for (const [file, message] of bad) {
  test(`profile ${file} is refused with file:line:col, the YAML path and what is wrong`, () => {
    assert.throws(
      () => loadProfile(`${dir}/${file}`),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'PINGER_ERR_AGG_PROFILE');
        assert.equal(e.message, message);
        return true;
      },
    );
  });
}

test('unknown built-in name and unreadable file say so', () => {
  assert.throws(() => loadProfile('nope'), /--profile nope: no built-in profile of that name \(built in: openstack, demo; or give a file path\)/);
  assert.throws(() => loadProfile(`${dir}/missing.yaml`), /missing\.yaml: cannot read the profile: ENOENT/);
});

test('a profile that extends itself is refused', () => {
  const files: Record<string, string> = { '/p/a.yaml': 'extends: ./b.yaml\n', '/p/b.yaml': 'extends: ./a.yaml\n' };
  assert.throws(
    () => parseProfile(files['/p/a.yaml']!, '/p/a.yaml', { read: (f) => files[f]! }),
    /extends: "\.\/a\.yaml" extends itself \(\/p\/a\.yaml -> \/p\/b\.yaml -> \/p\/a\.yaml\)/,
  );
});

test('the shipped openstack profile carries the ports of the OpenStack table, jumbo MTU and Geneve', () => {
  const p = builtinProfiles.openstack!;
  assert.equal(p.name, 'openstack');
  assert.deepEqual(p.bindings['shared-db']!.tcp, [3306, 33060, 33061]);
  assert.deepEqual(p.bindings.amqp!.tcp, [4369, 5672, 25672]);
  assert.deepEqual(p.bindings.internal!.tcp, [5000, 6641, 6642, 8200, 8774, 8775, 8776, 8778, 9292, 9696]);
  assert.deepEqual(p.bindings.ovn!.tcp, [6641, 6642, 6643, 6644]);
  assert.deepEqual(p.bindings['ceph-public']!.tcp, [3300, 6789, 6800, 6801, 7050, 7300]);
  assert.deepEqual(p.bindings.public!.tcp, [80, 443, 5000, 8774, 8776, 9292, 9696]);
  assert.deepEqual(p.bindings.access!.tcp, [8200, 8201]);
  assert.equal(p.bindings['ceph-cluster']!.mtu, 9000);
  assert.deepEqual([p.bindings.overlay!.udp, p.bindings.overlay!.mtu], [[6081], 9000]);
  assert.deepEqual(
    p.node.map((c) => `${c.text}/${c.severity}`),
    ['clock_offset < 50ms/error', 'dns agrees/warning'],
  );
  // every binding, named or not, gets zero loss, a latency warning and the DNS warning
  for (const b of ['internal', '*']) {
    assert.deepEqual(
      p.bindings[b]!.conditions.filter((c) => c.type !== 'port').map((c) => `${c.text}/${c.severity}`),
      ['loss == 0%/error', 'rtt_p99 < 5ms/warning', 'dns agrees/warning'],
    );
  }
});

test('the demo profile: unprivileged ports only, a ~3 s interval, no DNS condition', () => {
  const p = builtinProfiles.demo!;
  assert.equal(p.intervalMs, 3000);
  for (const [b, r] of Object.entries(p.bindings)) {
    for (const port of [...r.tcp, ...r.udp]) assert.ok(port >= 1024, `${b}: ${port}`);
    assert.ok(!r.conditions.some((c) => c.type === 'dns'), b);
  }
});

test('extends: values and conditions override by subject, "off" removes one, chains resolve relative to the file', () => {
  const p = loadProfile(`${dir}/good-chain.yaml`);
  assert.equal(p.name, 'site-lab');
  assert.deepEqual([p.intervalMs, p.timeoutMs, p.icmpCount], [5000, 250, 3]);
  assert.deepEqual(
    p.bindings['*']!.conditions.map((c) => `${c.text}/${c.severity}`),
    ['loss == 0%/error', 'rtt_p99 < 10ms/error'],
  );
  assert.equal(p.bindings['ceph-cluster']!.mtu, 1500);
  assert.deepEqual(p.bindings['ceph-cluster']!.tcp, [6800, 6801, 7050, 7300]);
  assert.deepEqual(p.bindings.storage!.tcp, [2049]);
  assert.deepEqual(p.bindings['shared-db']!.tcp, [3306, 33060, 33061]);
});

test('planFor: the plan the agents get names the ports and MTU per binding of the inventory', () => {
  const inv = { bindings: ['ceph-cluster', 'mystery', 'overlay'], spaces: {}, nodes: [] };
  const plan = planFor(builtinProfiles.openstack!, inv);
  assert.deepEqual(plan.bindings, {
    'ceph-cluster': { tcp: [6800, 6801, 7050, 7300], udp: [], mtu: 9000 },
    mystery: { tcp: [], udp: [] },
    overlay: { tcp: [], udp: [6081], mtu: 9000 },
  });
  assert.deepEqual([plan.profile, plan.intervalMs, plan.timeoutMs, plan.icmpCount], ['openstack', 10000, 1000, 3]);
});

test('defaults: an empty profile is named after its file, probes every 10 s with a 1 s timeout', () => {
  const p = parseProfile('{}\n', 'dir/empty.yaml');
  assert.deepEqual([p.name, p.intervalMs, p.timeoutMs, p.icmpCount, p.node], ['empty', 10000, 1000, 3, []]);
  assert.deepEqual(p.bindings['*'], { tcp: [], udp: [], conditions: [] });
});

test('importing the profile module reads no file; a shipped profile is read when first used', () => {
  // A child process counts readFileSync calls on aggregator/profiles/ around the import and the first use.
  const script = `
    import fs from 'node:fs';
    import { syncBuiltinESMExports } from 'node:module';
    const reads = [];
    const orig = fs.readFileSync;
    fs.readFileSync = (f, ...rest) => { if (String(f).includes('/profiles/')) reads.push(String(f)); return orig(f, ...rest); };
    syncBuiltinESMExports();
    const m = await import(${JSON.stringify(new URL('../../aggregator/profile.ts', import.meta.url).href)});
    const atImport = reads.length;
    const name = m.builtinProfiles.demo.name;
    console.log(JSON.stringify({ atImport, afterUse: reads.length, name, keys: Object.keys(m.builtinProfiles) }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as { atImport: number; afterUse: number; name: string; keys: string[] };
  assert.equal(r.atImport, 0, 'no profile file read at import');
  assert.ok(r.afterUse >= 1, 'the demo profile is read when first used');
  assert.equal(r.name, 'demo');
  assert.deepEqual(r.keys, ['openstack', 'demo']);
});

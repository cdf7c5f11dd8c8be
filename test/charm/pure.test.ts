// The charm's pure modules, table-driven: network-get parsing (both forms), config validation, discovery,
// statuses and the profile overrides.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinProfiles, loadProfile } from '../../aggregator/profile.js';
import type { Report } from '../../aggregator/report.js';
import { parseConfig } from '../../charm/src/config.js';
import { buildInventory, fromDatabag, toDatabag } from '../../charm/src/discovery.js';
import { parseNetworkGet } from '../../charm/src/network.js';
import { profileOverrides } from '../../charm/src/profile-file.js';
import { appStatus, unitStatus } from '../../charm/src/status.js';

test('network-get: JSON (Juju >= 2.9) and legacy YAML give every address of every NIC', () => {
  const json = JSON.stringify({
    'bind-addresses': [
      {
        'mac-address': 'aa',
        'interface-name': 'eth1',
        addresses: [
          { hostname: '', value: '198.18.1.5', cidr: '198.18.1.0/24' },
          { hostname: '', value: '2001:db8:1::5', cidr: '2001:db8:1::/64' },
          { value: 'fe80::1', cidr: 'fe80::/64' },
        ],
      },
      { 'mac-address': 'bb', 'interface-name': 'bond0.20', addresses: [{ value: '198.18.9.5', cidr: '198.18.9.0/24' }] },
    ],
    'ingress-addresses': ['198.18.1.5'],
  });
  const legacy = `bind-addresses:\n- macaddress: aa\n  interfacename: eth1\n  addresses:\n  - address: 198.18.1.5\n    cidr: 198.18.1.0/24\n`;
  const cases: [string, string, [string, string | null][], string[]][] = [
    [
      'json',
      json,
      [
        ['198.18.1.5', 'eth1'],
        ['2001:db8:1::5', 'eth1'],
        ['198.18.9.5', 'bond0.20'],
      ],
      ['198.18.1.5'],
    ],
    ['legacy yaml', legacy, [['198.18.1.5', 'eth1']], []],
    ['empty object', '{}', [], []],
    ['no interface name', '{"bind-addresses":[{"addresses":[{"value":"198.18.1.7"}]}]}', [['198.18.1.7', null]], []],
    ['not an address', '{"bind-addresses":[{"addresses":[{"value":"nope"}]}]}', [], []],
  ];
  for (const [name, text, addrs, ingress] of cases) {
    const r = parseNetworkGet('internal', text);
    assert.deepEqual(
      r.addresses.map((a) => [a.address, a.iface]),
      addrs,
      name,
    );
    assert.deepEqual(r.ingress, ingress, name);
  }
  assert.throws(() => parseNetworkGet('internal', '{"a": [}'), /network-get internal: output is neither JSON nor YAML/);
});

test('config: valid options parse; each bad one is named with the problem', () => {
  const known = { bindings: ['peers', 'internal', 'overlay', 'ceph-cluster'], profiles: ['openstack', 'demo'] };
  const ok = parseConfig({ profile: 'demo', ports: 'internal=5000,8774 overlay=6081/udp,6643', mtu: 'ceph-cluster=9000', 'probe-interval': 5 }, known);
  assert.ok(ok.ok);
  assert.deepEqual(ok.config.portsByBinding, { internal: { tcp: [5000, 8774], udp: [] }, overlay: { tcp: [6643], udp: [6081] } });
  assert.deepEqual(ok.config.mtuByBinding, { 'ceph-cluster': 9000 });
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ profile: 'nova' }, /^config profile: unknown profile "nova" \(built in: openstack, demo\)$/],
    [{ ports: 'internal=70000' }, /^config ports: "internal=70000": "70000" is not a port/],
    [{ ports: 'internal' }, /^config ports: "internal": expected binding=port/],
    [{ ports: 'bogus=22' }, /^config ports: unknown binding "bogus"/],
    [{ mtu: 'overlay=100' }, /^config mtu: "overlay=100": expected binding=MTU with MTU 576-65535$/],
    [{ bindings: 'internal storage' }, /^config bindings: unknown binding "storage"/],
    [{ 'probe-interval': 1 }, /^config probe-interval: 1 is not 0/],
    [{ 'aggregator-mode': 'both' }, /^config aggregator-mode: "both" is not leader or external$/],
    [{ 'aggregator-mode': 'external', 'external-aggregator-url': 'http://198.18.0.1:9300' }, /^config external-aggregator-token: is empty/],
    [
      { 'aggregator-mode': 'external', 'external-aggregator-url': 'ftp://x', 'external-aggregator-token': 't' },
      /^config external-aggregator-url: "ftp:\/\/x" is not http/,
    ],
  ];
  for (const [raw, re] of bad) {
    const r = parseConfig(raw, known);
    assert.equal(r.ok, false, JSON.stringify(raw));
    if (!r.ok) assert.match(r.problem, re);
  }
});

test('discovery: databag round trip, incomplete peers left out, matrix order by unit number', () => {
  const rec = (unit: string, a: string) => ({ unit, addresses: { internal: [a, '2001:db8:1::9'] }, interfaces: [], missing: ['overlay'] });
  const back = fromDatabag('pinger/3', toDatabag(rec('pinger/3', '198.18.1.3')));
  assert.deepEqual(back?.addresses, { internal: ['198.18.1.3', '2001:db8:1::9'] });
  assert.deepEqual(back?.missing, ['overlay']);
  assert.equal(fromDatabag('pinger/4', { 'private-address': '198.18.0.4' }), undefined);
  assert.throws(() => fromDatabag('pinger/5', { addresses: '{' }), /peer pinger\/5: databag field "addresses" is not JSON/);
  const inv = buildInventory([
    rec('pinger/10', '198.18.1.10'),
    rec('pinger/9', '198.18.1.9'),
    { unit: 'pinger/2', addresses: {}, interfaces: [], missing: ['internal'] },
  ]);
  assert.deepEqual(
    inv.nodes.map((n) => n.name),
    ['pinger/9', 'pinger/10'],
  );
  assert.deepEqual(inv.bindings, ['internal']);
});

const report = (over: Partial<Report>): Report => ({
  verdict: 'ready',
  generatedAt: '',
  profile: 'demo',
  summary: 'ready: 3/3 nodes reporting, every pair reachable',
  expected: 3,
  reporting: 3,
  nodes: ['pinger/0', 'pinger/1', 'pinger/2'].map((name) => ({ name, state: 'reporting', rounds: 2, bindings: {}, responderProblems: [] })),
  bindings: [{ name: 'internal', nodes: ['pinger/0', 'pinger/1', 'pinger/2'], counts: {} as never, matrix: { legend: {}, states: ['-oo', 'o-o', 'oo-'] } }],
  findings: [],
  ...over,
});

test("unit status: missing binding, waiting for peers, then the unit's own view of the verdict", () => {
  const base = { unit: 'pinger/0', bindings: 2, missing: [] as string[], peersJoined: 2, peersExpected: 2, aggregatorUrl: 'http://198.18.0.1:9300' };
  const x = ['-xo', 'o-o', 'oo-'];
  const finding = {
    severity: 'error' as const,
    kind: 'unreachable' as const,
    binding: 'internal',
    nodes: ['pinger/0', 'pinger/1'],
    summary: 'pinger/0 cannot reach pinger/1 on internal',
  };
  const isolated = {
    severity: 'error' as const,
    kind: 'node-isolated' as const,
    binding: 'internal',
    nodes: ['pinger/0'],
    summary: 'internal: pinger/0 is unreachable from every peer',
    hint: "pinger/0's internal interface reaches no peer and no peer reaches it: check its link, switch port, VLAN and address",
  };
  const cases: [object, string, RegExp][] = [
    [{ missing: ['ceph-cluster'] }, 'blocked', /^binding ceph-cluster has no address on this machine/],
    [{ peersJoined: 1, peersExpected: 3 }, 'waiting', /^waiting for peers: 1\/3 joined$/],
    [{ aggregatorUrl: undefined }, 'waiting', /waiting for the leader/],
    [{ report: { error: 'ECONNREFUSED' } }, 'waiting', /not answering: ECONNREFUSED/],
    [{ report: report({}) }, 'active', /^ready: 2 bindings, 2\/2 peers reachable$/],
    // A finding shared with a peer is not this unit's alone: active, pointing at the report.
    [
      { report: report({ verdict: 'not-ready', findings: [finding], bindings: [{ ...report({}).bindings[0]!, matrix: { legend: {}, states: x } }] }) },
      'active',
      /^degraded: 2 bindings, 1\/2 peers reachable; see pinger\/leader get-report$/,
    ],
    [
      { unit: 'pinger/2', leader: 'pinger/0', report: report({ verdict: 'not-ready', findings: [finding] }) },
      'active',
      /^degraded: 2 bindings, 2\/2 peers reachable; see pinger\/0 get-report$/,
    ],
    [{ report: report({ nodes: [] }) }, 'waiting', /^waiting for the first round/],
    // Faults on this unit: an error finding naming it alone (hint; one family said), nobody reached, an address no interface holds.
    [
      { report: report({ verdict: 'not-ready', findings: [{ ...isolated, family: 'ipv6' } as never] }) },
      'blocked',
      /^internal IPv6: pinger\/0's internal interface reaches no peer/,
    ],
    [{ report: report({ verdict: 'not-ready', findings: [isolated] }) }, 'blocked', /^internal: pinger\/0's internal interface/],
    [
      { report: report({ bindings: [{ ...report({}).bindings[0]!, matrix: { legend: {}, states: ['-xx', 'x-o', 'xo-'] } }] }) },
      'blocked',
      /^reaches no peer on any binding \(2 bindings, 0\/2 peers reachable\)/,
    ],
    [
      {
        report: report({
          nodes: report({}).nodes.map((n) =>
            n.name === 'pinger/0' ? { ...n, bindings: { internal: [{ address: '198.18.0.1', iface: null, mtu: null }] } } : n,
          ),
        }),
      },
      'blocked',
      /^internal: no local interface holds 198\.18\.0\.1 \(address moved or NIC down\)$/,
    ],
  ];
  for (const [over, state, re] of cases) {
    const s = unitStatus({ ...base, ...over } as never);
    assert.equal(s.state, state, JSON.stringify(over).slice(0, 80));
    assert.match(s.message, re);
    assert.ok(s.message.length < 120, s.message);
  }
  assert.equal(appStatus(report({ verdict: 'not-ready', summary: 'not-ready: 1 error', findings: [finding] }), 'http://a:1').state, 'blocked');
  assert.match(
    appStatus(report({ verdict: 'not-ready', summary: 'not-ready: 1 error', findings: [finding] }), 'http://a:1').message,
    /^not-ready: pinger\/0 cannot reach pinger\/1 on internal$/,
  );
  assert.equal(appStatus(report({ summary: 'ready: 3/3 nodes reporting' }), 'http://a:1').message, 'ready: 3/3 nodes reporting');
  assert.equal(appStatus(undefined, undefined).state, 'waiting');
});

test('profile overrides: none gives the built-in name; ports replace, MTU and interval add', () => {
  const known = { bindings: ['internal', 'ceph-cluster', 'peers'], profiles: Object.keys(builtinProfiles) };
  const plain = parseConfig({ profile: 'demo' }, known);
  assert.ok(plain.ok);
  assert.equal(profileOverrides(plain.config, builtinProfiles.demo!), undefined);
  const c = parseConfig({ profile: 'demo', ports: 'internal=5000,6000', mtu: 'ceph-cluster=9000', 'probe-interval': 5 }, known);
  assert.ok(c.ok);
  const doc = parse(profileOverrides(c.config, builtinProfiles.demo!)!) as { extends: string; interval: string; bindings: Record<string, unknown[]> };
  assert.equal(doc.extends, 'demo');
  assert.equal(doc.interval, '5s');
  const had = builtinProfiles.demo!.bindings.internal!.tcp.filter((p) => p !== 5000 && p !== 6000);
  assert.ok(had.length > 0, 'the demo profile has other internal ports to switch off');
  assert.deepEqual(doc.bindings.internal, [...had.map((p) => ({ condition: `tcp ${p} open`, severity: 'off' })), 'tcp 5000 open', 'tcp 6000 open']);
  assert.deepEqual(doc.bindings['ceph-cluster'], ['mtu >= 9000']);
  // And the aggregator reads it as the profile meant: the override's ports only, the MTU, the interval.
  const dir = mkdtempSync(join(tmpdir(), 'pinger-charm-profile-'));
  try {
    writeFileSync(join(dir, 'profile.yaml'), profileOverrides(c.config, builtinProfiles.demo!)!);
    const p = loadProfile(join(dir, 'profile.yaml'));
    assert.deepEqual(p.bindings.internal!.tcp, [5000, 6000]);
    assert.equal(p.bindings['ceph-cluster']!.mtu, 9000);
    assert.equal(p.intervalMs, 5000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

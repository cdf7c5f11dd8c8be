// Link findings and switch attribution on synthetic fleets whose link facts are read from the sysfs fixture
// trees (the formats real hosts write), table-driven: one finding per cause, naming node, binding and port.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readLinkFact } from '../../agent/link-facts.js';
import type { LinkFact, LldpNeighbour } from '../../agent/contract/link-wire.js';
import type { HelloMsg, TargetRow } from '../../agent/contract/wire.js';
import { pairFailures } from '../../aggregator/conditions.js';
import { diagnose, type DiagnosisNode } from '../../aggregator/diagnosis.js';
import type { Finding } from '../../aggregator/findings.js';
import { parseLinkCondition } from '../../aggregator/link-conditions.js';
import { bondProblems, linkFindingKinds, linkFindings, lldpSummary } from '../../aggregator/link-diagnosis.js';
import { BindingMatrix } from '../../aggregator/matrix.js';
import { parseProfile, requirementFor, type Profile } from '../../aggregator/profile.js';
import { packRows } from '../../agent/contract/wire-packed.js';

const N = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5', 'node-6'];
const B = 'storage';
const addr = (n: string) => `198.18.7.${N.indexOf(n) + 1}`;
const inventory = { bindings: [B], spaces: {}, nodes: N.map((name) => ({ name, addresses: { [B]: [addr(name)] } })) };
const strict = parseProfile(
  `name: s\nbindings:\n  storage: [tcp 6800 open, link_speed >= 10G, bond healthy, {condition: port description names node, severity: warning}]\n`,
  's.yaml',
);
const plain = parseProfile(`name: p\nbindings:\n  storage: [tcp 6800 open]\n`, 'p.yaml');

const fact = (tree: string, iface = 'bond0'): LinkFact => readLinkFact(B, iface, { root: `test/fixtures/sysfs/${tree}` });
/** sw-a holds node-1..3, sw-b node-4..6; each port described with the node's name. */
const behind = (n: string) => (N.indexOf(n) < 3 ? 'sw-a' : 'sw-b');
function withLldp(f: LinkFact, n: string, over: Partial<LldpNeighbour> = {}): LinkFact {
  return {
    ...f,
    ports: f.ports.map((p, i) => ({
      ...p,
      lldp: [
        {
          chassis: behind(n),
          chassisId: `aa:00:00:00:00:0${behind(n) === 'sw-a' ? 1 : 2}`,
          port: `swp${N.indexOf(n) * 2 + i + 1}`,
          portDescr: `${n} ${p.iface}`,
          ...over,
        },
      ],
    })),
  };
}

const dead = { sent: 3, recv: 0, rtt: null, outcome: 'filtered' as const };
const ok = { sent: 3, recv: 3, rtt: [0.1, 0.2, 0.3, 0.2, 0.3] as [number, number, number, number, number], outcome: 'ok' as const };
type Cut = (from: string, to: string) => boolean;

/** A bonded node's hello with these link facts. */
function helloOf(name: string, links: LinkFact[], lldp: HelloMsg['lldp'] = 'ok'): HelloMsg {
  return {
    v: 3,
    type: 'hello',
    node: name,
    agentVersion: 't',
    hostname: `${name}.maas`,
    icmp: 'available',
    interfaces: [{ binding: B, address: addr(name), iface: 'bond0', mtu: 9000 }],
    responders: [],
    links,
    lldp,
  };
}

function run(profile: Profile, links: (n: string) => LinkFact[], cut: Cut = () => false, lldp: HelloMsg['lldp'] = 'ok'): Finding[] {
  const conds = requirementFor(profile, B).conditions;
  const m = new BindingMatrix(B, N, (_icmp, rows) => pairFailures(conds, rows()).length > 0);
  for (const from of N) {
    const rows: TargetRow[] = N.filter((to) => to !== from).map((to) =>
      cut(from, to) ? { peer: to, addr: addr(to), icmp: dead, tcp: { '6800': 'filtered' } } : { peer: to, addr: addr(to), icmp: ok, tcp: { '6800': 'ok' } },
    );
    m.apply(from, packRows(rows), 1000, () => 0);
  }
  const nodes: DiagnosisNode[] = N.map((name) => ({ name, state: 'reporting', expected: true, hello: helloOf(name, links(name), lldp) }));
  return diagnose({ inventory, profile, nodes, matrices: [m] });
}

const good = (n: string) => [withLldp(fact('bond-8023ad-up', 'bond0.100'), n)];
const isolate =
  (ns: string[]): Cut =>
  (a, b) =>
    ns.includes(a) || ns.includes(b);
const brief = (fs: Finding[]) => fs.map((f) => [f.kind, f.binding, f.nodes, f.severity]);

const cases: { what: string; profile?: Profile; links?: (n: string) => LinkFact[]; cut?: Cut; want: unknown[]; check?: (f: Finding[]) => void }[] = [
  { what: 'healthy bonds, 10G, descriptions right: nothing', want: [] },
  {
    what: 'a bond member down: bond-degraded naming the node and the member',
    links: (n) => (n === 'node-3' ? [withLldp(fact('bond-degraded'), n)] : good(n)),
    want: [['bond-degraded', B, ['node-3'], 'error']],
    check: (f) => assert.match(f[0]!.evidence![0]!.detail, /^bond0: eno2 is down \(MII\), 2 link failure\(s\)$/),
  },
  {
    what: 'members with different LACP partners: bond-degraded saying so',
    links: (n) => (n === 'node-4' ? [withLldp(fact('bond-partner-mismatch'), n)] : good(n)),
    want: [['bond-degraded', B, ['node-4'], 'error']],
    check: (f) => {
      const d = f[0]!.evidence!.map((e) => e.detail).join(' | ');
      assert.match(d, /eno2 is in aggregator 2, not the active 1/);
      assert.match(d, /different LACP partners: eno1 -> 58:6a:b1:c7:02:fa key 8; eno2 -> 58:6a:b1:c7:0a:11 key 12/);
    },
  },
  {
    what: 'a 1G member under link_speed >= 10G: link-speed-low (and the bond is split), no speed-mismatch on top',
    links: (n) => (n === 'node-5' ? [withLldp(fact('mixed-speed'), n)] : good(n)),
    want: [
      ['link-speed-low', B, ['node-5'], 'error'],
      ['bond-degraded', B, ['node-5'], 'error'],
    ],
    check: (f) => assert.equal(f[0]!.evidence![0]!.detail, 'bond0/eno2 at 1G; the profile needs 10G'),
  },
  {
    what: 'no speed condition: a node at 1G among 10G peers is a speed-mismatch warning',
    profile: plain,
    links: (n) => (n === 'node-2' ? [fact('mixed-speed', 'eno3')] : good(n)),
    want: [['speed-mismatch', B, ['node-2'], 'warning']],
    check: (f) => assert.match(f[0]!.summary, /node-2 not at 10G like the others/),
  },
  {
    what: 'veths without a speed: unknown, not a finding',
    links: (n) => [fact('veth', 'eth1')].map((f) => withLldp(f, n)),
    want: [],
  },
  {
    what: 'every node behind sw-b cut off: one switch-fault naming sw-b, its ports and nodes',
    cut: isolate(['node-4', 'node-5', 'node-6']),
    want: [['switch-fault', B, ['node-4', 'node-5', 'node-6'], 'error']],
    check: (f) => {
      assert.equal(f[0]!.switch!.name, 'sw-b');
      assert.deepEqual(
        f[0]!.switch!.ports.map((p) => `${p.node}:${p.port}`),
        ['node-4:swp7', 'node-4:swp8', 'node-5:swp9', 'node-5:swp10', 'node-6:swp11', 'node-6:swp12'],
      );
    },
  },
  {
    what: 'two of the three nodes behind sw-b cut off: node findings, no switch-fault',
    cut: isolate(['node-4', 'node-5']),
    want: [['node-isolated', B, ['node-4', 'node-5'], 'error']],
  },
  {
    what: 'the nodes behind sw-b reach each other but nothing else: switch-fault on its uplink',
    cut: (a, b) => N.indexOf(a) < 3 !== N.indexOf(b) < 3,
    want: [['switch-fault', B, ['node-4', 'node-5', 'node-6'], 'error']],
    check: (f) => assert.match(f[0]!.hint!, /check sw-b's uplink or trunk for storage/),
  },
  {
    what: 'a switch port whose description names another node: port-description-mismatch (warning)',
    links: (n) => (n === 'node-2' ? [withLldp(fact('bond-8023ad-up', 'bond0.100'), n, { portDescr: 'node-7 bond' })] : good(n)),
    want: [['port-description-mismatch', B, ['node-2'], 'warning']],
    check: (f) => assert.match(f[0]!.evidence![0]!.detail, /eno1 is cabled to sw-a port swp3, described "node-7 bond"/),
  },
  {
    what: 'a description naming node-10 does not name node-1; "node-1.maas uplink" does',
    links: (n) =>
      n === 'node-1'
        ? [withLldp(fact('bond-8023ad-up', 'bond0.100'), n, { portDescr: 'node-10 eth1' })]
        : n === 'node-2'
          ? [withLldp(fact('bond-8023ad-up', 'bond0.100'), n, { portDescr: 'node-2.maas uplink' })]
          : good(n),
    want: [['port-description-mismatch', B, ['node-1'], 'warning']],
  },
];
const produced = new Set<string>();
for (const c of cases) {
  test(`link diagnosis: ${c.what}`, () => {
    const f = run(c.profile ?? strict, c.links ?? good, c.cut);
    for (const x of f) produced.add(x.kind);
    assert.deepEqual(brief(f), c.want);
    c.check?.(f);
  });
}

test('every link finding kind is produced by some case above', () => {
  assert.deepEqual(
    linkFindingKinds.filter((k) => !produced.has(k)),
    [],
  );
});

test('a healthy bond has no problems; an active-backup bond is not asked about LACP', () => {
  assert.deepEqual(bondProblems(fact('bond-8023ad-up')), []);
  const ab = fact('bond-partner-mismatch');
  assert.deepEqual(bondProblems({ ...ab, bond: { ...ab.bond!, mode: 'active-backup' } }), []);
});

test('LLDP summary: none says "no LLDP data" and why; all heard is ok', () => {
  const node = (name: string, lldp: HelloMsg['lldp'], links: LinkFact[]): DiagnosisNode => ({
    name,
    state: 'reporting',
    expected: true,
    hello: { v: 3, type: 'hello', node: name, agentVersion: 't', hostname: name, icmp: 'available', interfaces: [], responders: [], links, lldp },
  });
  const none = lldpSummary(N.map((n) => node(n, 'not-running', [fact('veth', 'eth1')])));
  assert.equal(none.state, 'none');
  assert.match(none.note!, /^no LLDP data from node-1, .* \(lldpd not running\): switch-level diagnosis is off/);
  assert.deepEqual(lldpSummary(N.map((n) => node(n, 'ok', good(n)))), { state: 'ok', nodes: N });
});

const conds: [string, unknown][] = [
  ['link_speed >= 10G', { check: 'link_speed', minMbps: 10000 }],
  ['link_speed >= 2.5Gb/s', { check: 'link_speed', minMbps: 2500 }],
  ['link_speed >= 100M', { check: 'link_speed', minMbps: 100 }],
  ['bond healthy', { check: 'bond' }],
  ['link_speed > 10G', '"link_speed > 10G": write "link_speed >= RATE" (every port must run at least that fast)'],
  ['link_speed >= fast', '"fast" is not a rate like 10G, 25G or 1000M'],
  ['bond ok', '"bond ok": the bond condition is written "bond healthy"'],
  ['loss == 0%', undefined],
];
for (const [text, want] of conds) {
  test(`link condition: ${text}`, () => {
    const r = parseLinkCondition(text, 'error');
    if (typeof want === 'object' && want) for (const [k, v] of Object.entries(want)) assert.equal((r as unknown as Record<string, unknown>)[k], v);
    else assert.equal(r, want);
  });
}

test('link findings follow a replaced hello on the next snapshot (the last answer is kept only while the hellos are the same)', () => {
  const conds = requirementFor(strict, B).conditions;
  const m = new BindingMatrix(B, N, (_icmp, rows) => pairFailures(conds, rows()).length > 0);
  const bonded = (name: string, tree: string) => helloOf(name, [withLldp(fact(tree), name)]);
  const hellos = new Map(N.map((n) => [n, bonded(n, 'bond-8023ad-up')]));
  const matrices = [m]; // as the state's: the same array from snapshot to snapshot
  const snapshot = () =>
    linkFindings({
      inventory,
      profile: strict,
      nodes: N.map((name) => ({ name, state: 'reporting' as const, expected: true, hello: hellos.get(name)! })),
      matrices,
    });
  assert.deepEqual(snapshot(), []);
  const again: Finding[] = snapshot();
  assert.equal(again.length, 0);
  again.push({} as Finding); // a caller's array is its own
  assert.deepEqual(snapshot(), []);
  // node-4's bond loses a member: its new hello is a new object, and the finding appears at once.
  hellos.set('node-4', bonded('node-4', 'bond-degraded'));
  const after = snapshot();
  assert.deepEqual(
    after.map((f) => [f.kind, f.nodes]),
    [['bond-degraded', ['node-4']]],
  );
  // Repaired: gone again.
  hellos.set('node-4', bonded('node-4', 'bond-8023ad-up'));
  assert.deepEqual(snapshot(), []);
});

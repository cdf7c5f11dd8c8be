// Diagnosis on synthetic matrices: one finding per cause for every kind, and mixed faults that must not
// multiply into one finding per pair.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { DnsCheck, HelloMsg, ResponderInfo, TargetRow } from '../../agent/contract/wire.js';
import { blame, diagnose, findingKinds, type DiagnosisNode } from '../../aggregator/diagnosis.js';
import { linkFindingKinds } from '../../aggregator/link-diagnosis.js';
import { BandwidthTable } from '../../aggregator/bandwidth-diagnosis.js';
import { BindingMatrix } from '../../aggregator/matrix.js';
import { parseProfile, requirementFor } from '../../aggregator/profile.js';
import { pairFailures } from '../../aggregator/conditions.js';
import type { Finding } from '../../aggregator/findings.js';
import { packRows } from '../../agent/contract/wire-packed.js';

const profile = parseProfile(
  `name: t
node:
  - clock_offset < 50ms
  - {condition: dns agrees, severity: warning}
every_binding:
  - loss == 0%
  - {condition: rtt_p99 < 5ms, severity: warning}
  - {condition: dns agrees, severity: warning}
bindings:
  internal: [tcp 5000 open]
  shared-db: [tcp 3306 open]
  ceph-cluster: [tcp 6800 open, mtu >= 9000]
  overlay: [udp 6081 open]
`,
  't.yaml',
);
const bindings = ['ceph-cluster', 'internal', 'overlay', 'shared-db'];
const N = ['node-1', 'node-2', 'node-3', 'node-4'];
const addr = (b: string, n: string) => `198.18.${bindings.indexOf(b)}.${N.indexOf(n) + 1}`;
const inventory = { bindings, spaces: {}, nodes: N.map((name) => ({ name, addresses: Object.fromEntries(bindings.map((b) => [b, [addr(b, name)]])) })) };

type Fault = (b: string, from: string, to: string) => Partial<TargetRow> | undefined;
const dead = { sent: 3, recv: 0, rtt: null, outcome: 'filtered' as const };
const okIcmp = { sent: 3, recv: 3, rtt: [0.1, 0.2, 0.3, 0.2, 0.3] as [number, number, number, number, number], outcome: 'ok' as const };

/** A healthy row for (binding, from -> to), with the fault's changes on top. */
function row(b: string, from: string, to: string, fault: Fault): TargetRow {
  const req = requirementFor(profile, b);
  const r: TargetRow = { peer: to, addr: addr(b, to), icmp: okIcmp };
  if (req.tcp.length) r.tcp = Object.fromEntries(req.tcp.map((p) => [String(p), 'ok' as const]));
  if (req.udp.length) r.udp = Object.fromEntries(req.udp.map((p) => [String(p), 'ok' as const]));
  if (req.mtu) r.mtu = { size: req.mtu - 20, outcome: 'ok' };
  const f = fault(b, from, to);
  if (!f) return r;
  return { ...r, ...f, ...(f.tcp ? { tcp: { ...r.tcp, ...f.tcp } } : {}), ...(f.udp ? { udp: { ...r.udp, ...f.udp } } : {}) };
}

/** Unreachable in both directions between `n` and everyone on binding `b`. */
const cut =
  (b: string, n: string): Fault =>
  (bb, from, to) =>
    bb === b && (from === n || to === n) ? { icmp: dead, tcp: { '5000': 'filtered', '3306': 'filtered', '6800': 'filtered' } } : undefined;
const both =
  (...fs: Fault[]): Fault =>
  (b, from, to) => {
    const parts = fs.map((f) => f(b, from, to)).filter(Boolean) as Partial<TargetRow>[];
    return parts.length ? Object.assign({}, ...parts) : undefined;
  };

interface Case {
  what: string;
  fault?: Fault;
  nodes?: (n: string) => Partial<DiagnosisNode> | undefined;
  mtus?: Record<string, number>;
  /** [kind, binding, nodes, severity] of every finding, in order. */
  want: [string, string | undefined, string[], 'error' | 'warning'][];
  check?: (f: Finding[]) => void;
}

function hello(n: string, mtus: Record<string, number>, extra: Partial<HelloMsg> = {}): HelloMsg {
  return {
    v: 3,
    type: 'hello',
    node: n,
    agentVersion: 't',
    hostname: n,
    icmp: 'available',
    interfaces: bindings.map((b) => ({
      binding: b,
      address: addr(b, n),
      iface: `eth${bindings.indexOf(b)}`,
      mtu: mtus[`${n}/${b}`] ?? (b === 'ceph-cluster' || b === 'overlay' ? 9000 : 1500),
    })),
    responders: [],
    ...extra,
  };
}

function run(c: Case): Finding[] {
  const matrices = bindings.map((b) => {
    const conds = requirementFor(profile, b).conditions;
    const m = new BindingMatrix(b, N, (_icmp, rows) => pairFailures(conds, rows()).length > 0);
    for (const from of N) m.apply(from, packRows(N.filter((to) => to !== from).map((to) => row(b, from, to, c.fault ?? (() => undefined)))), 1000, () => 0);
    return m;
  });
  const nodes: DiagnosisNode[] = N.map((name) => {
    const extra = c.nodes?.(name) ?? {};
    return { name, state: 'reporting', expected: true, hello: hello(name, c.mtus ?? {}), clock: { offsetMs: 0.3, rttMs: 0.5 }, ...extra };
  });
  return diagnose({ inventory, profile, nodes, matrices });
}

const inUse = (n: string): Partial<DiagnosisNode> => ({
  hello: hello(
    n,
    {},
    {
      responders: [
        { binding: 'shared-db', address: addr('shared-db', n), proto: 'tcp', port: 3306, state: 'in-use', detail: 'EADDRINUSE' } satisfies ResponderInfo,
      ],
    },
  ),
});
const dnsBad: DnsCheck = {
  kind: 'address',
  binding: 'internal',
  query: addr('internal', 'node-2'),
  names: ['node-9.maas'],
  addresses: ['198.18.1.9'],
  ok: false,
};

const cases: Case[] = [
  { what: 'healthy', want: [] },
  {
    what: 'agent-missing: its closed ports are not blamed on the others',
    fault: (_b, _f, to) => (to === 'node-4' ? { icmp: dead, tcp: { '5000': 'refused', '3306': 'refused', '6800': 'refused' } } : undefined),
    nodes: (n) => (n === 'node-4' ? { state: 'missing' } : undefined),
    want: [['agent-missing', undefined, ['node-4'], 'error']],
  },
  { what: 'node-isolated', fault: cut('internal', 'node-3'), want: [['node-isolated', 'internal', ['node-3'], 'error']] },
  {
    what: 'partition into {1,2} and {3,4}',
    fault: (b, from, to) =>
      b === 'shared-db' && ['node-1', 'node-2'].includes(from) !== ['node-1', 'node-2'].includes(to) ? { icmp: dead, tcp: { '3306': 'filtered' } } : undefined,
    want: [['partition', 'shared-db', N, 'error']],
    check: (f) =>
      assert.deepEqual(f[0]!.groups, [
        ['node-1', 'node-2'],
        ['node-3', 'node-4'],
      ]),
  },
  {
    what: 'asymmetric: node-2 reaches its peers, they do not reach it',
    fault: (b, _from, to) => (b === 'internal' && to === 'node-2' ? { icmp: dead, tcp: { '5000': 'filtered' } } : undefined),
    want: [['asymmetric', 'internal', ['node-2'], 'error']],
  },
  {
    what: 'mtu-mismatch names the node whose interface MTU differs',
    mtus: { 'node-3/ceph-cluster': 1500 },
    fault: (b, from, to) => (b === 'ceph-cluster' && (from === 'node-3' || to === 'node-3') ? { mtu: { size: 8980, outcome: 'filtered' } } : undefined),
    want: [['mtu-mismatch', 'ceph-cluster', ['node-3'], 'error']],
    check: (f) => assert.match(f[0]!.hint!, /^node-3's ceph-cluster interface \(eth0\) has MTU 1500; the profile needs 9000/),
  },
  {
    what: 'mtu-mismatch on the path (interfaces fine) names the nodes of the failing pairs',
    fault: (b, from, to) =>
      b === 'ceph-cluster' && ((from === 'node-1' && to === 'node-4') || (from === 'node-4' && to === 'node-1'))
        ? { mtu: { size: 8980, outcome: 'too-big' } }
        : undefined,
    want: [['mtu-mismatch', 'ceph-cluster', ['node-1', 'node-4'], 'error']],
    check: (f) => assert.match(f[0]!.hint!, /a switch or router on the path has a smaller MTU/),
  },
  {
    what: 'interface MTUs differ on a binding without a required MTU: a warning naming the odd one',
    mtus: { 'node-2/internal': 9000 },
    want: [['mtu-mismatch', 'internal', ['node-2'], 'warning']],
    check: (f) => assert.match(f[0]!.hint!, /node-2's internal interface \(eth1\) has MTU 9000; its peers have 1500/),
  },
  {
    what: 'port-filtered towards one node',
    fault: (b, _f, to) => (b === 'shared-db' && to === 'node-2' ? { tcp: { '3306': 'filtered' } } : undefined),
    want: [['port-filtered', 'shared-db', ['node-2'], 'error']],
    check: (f) => {
      assert.match(f[0]!.summary, /TCP 3306 filtered on 3 pair\(s\), around node-2/);
      assert.equal(f[0]!.evidence!.length, 3);
    },
  },
  {
    what: 'port-filtered everywhere: the binding, every node',
    fault: (b) => (b === 'shared-db' ? { tcp: { '3306': 'filtered' } } : undefined),
    want: [['port-filtered', 'shared-db', N, 'error']],
    check: (f) => assert.equal(f[0]!.evidence!.length, 5),
  },
  {
    what: 'port-refused',
    fault: (b, _f, to) => (b === 'shared-db' && to === 'node-2' ? { tcp: { '3306': 'refused' } } : undefined),
    want: [['port-refused', 'shared-db', ['node-2'], 'error']],
  },
  {
    what: 'port-in-use: the responder could not bind and the port fails',
    fault: (b, _f, to) => (b === 'shared-db' && to === 'node-2' ? { tcp: { '3306': 'refused' } } : undefined),
    nodes: (n) => (n === 'node-2' ? inUse(n) : undefined),
    want: [['port-in-use', 'shared-db', ['node-2'], 'error']],
  },
  {
    what: 'an in-use port that still answers is a warning: the OpenStack service could not bind it',
    nodes: (n) => (n === 'node-2' ? inUse(n) : undefined),
    want: [['port-in-use', 'shared-db', ['node-2'], 'warning']],
  },
  {
    what: 'asymmetric ICMP: node-3 sends no echoes out, everything else works both ways',
    fault: (b, from) => (b === 'internal' && from === 'node-3' ? { icmp: { sent: 3, recv: 0, rtt: null, outcome: 'filtered' } } : undefined),
    want: [['asymmetric', 'internal', ['node-3'], 'error']],
  },
  {
    what: 'udp-blocked',
    fault: (b, _f, to) => (b === 'overlay' && to === 'node-4' ? { udp: { '6081': 'filtered' } } : undefined),
    want: [['udp-blocked', 'overlay', ['node-4'], 'error']],
  },
  {
    what: 'loss around one node',
    fault: (b, from, to) => (b === 'internal' && (from === 'node-1' || to === 'node-1') ? { icmp: { ...okIcmp, recv: 2, outcome: 'filtered' } } : undefined),
    want: [['loss', 'internal', ['node-1'], 'error']],
    check: (f) => assert.match(f[0]!.evidence![0]!.detail, /^loss \(33\.33%\) == 0%: failed$/),
  },
  {
    what: 'high-latency (a warning by the profile), with the resolved comparison',
    fault: (b, _f, to) => (b === 'internal' && to === 'node-4' ? { icmp: { ...okIcmp, rtt: [1, 3, 8, 3, 7.2] } } : undefined),
    want: [['high-latency', 'internal', ['node-4'], 'warning']],
    check: (f) => assert.equal(f[0]!.evidence![0]!.detail, 'rtt_p99 (7.2ms) < 5ms: failed'),
  },
  {
    what: 'ICMP not measured: loss and RTT are neither passed nor failed',
    fault: () => ({ icmp: { sent: 0, recv: 0, rtt: null, outcome: 'not-measured' } }),
    want: [],
  },
  {
    what: 'dns-mismatch',
    nodes: (n) => (n === 'node-2' ? { hello: hello(n, {}, { dns: [dnsBad, { ...dnsBad, binding: 'shared-db', ok: true }] }) } : undefined),
    want: [['dns-mismatch', 'internal', ['node-2'], 'warning']],
    check: (f) => assert.match(f[0]!.hint!, /198\.18\.1\.2 reverses to node-9\.maas, which resolves to 198\.18\.1\.9/),
  },
  {
    what: 'dns-mismatch of the hostname',
    nodes: (n) =>
      n === 'node-1'
        ? { hello: hello(n, {}, { dns: [{ kind: 'hostname', query: 'node-1', names: [], addresses: [], ok: false, detail: 'ENOTFOUND' }] }) }
        : undefined,
    want: [['dns-mismatch', undefined, ['node-1'], 'warning']],
  },
  {
    what: 'dns-mismatch on two bindings and a hostname: evidence binding by binding (inventory order), hostnames last',
    nodes: (n) => {
      const host: DnsCheck = { kind: 'hostname', query: n, names: [], addresses: [], ok: false, detail: 'ENOTFOUND' };
      if (n === 'node-1') return { hello: hello(n, {}, { dns: [host, { ...dnsBad, binding: 'shared-db', query: addr('shared-db', n) }] }) };
      if (n === 'node-3') return { hello: hello(n, {}, { dns: [{ ...dnsBad, query: addr('internal', n) }] }) };
      return undefined;
    },
    want: [['dns-mismatch', undefined, ['node-1', 'node-3'], 'warning']],
    check: (f) =>
      assert.deepEqual(
        f[0]!.evidence!.map((e) => `${e.from} ${e.detail.split(' ')[0]}`),
        [`node-3 ${addr('internal', 'node-3')}`, `node-1 ${addr('shared-db', 'node-1')}`, 'node-1 node-1:'],
      ),
  },
  {
    what: 'clock-skew',
    nodes: (n) => (n === 'node-3' ? { clock: { offsetMs: 2000, rttMs: 1 } } : undefined),
    want: [['clock-skew', undefined, ['node-3'], 'error']],
    check: (f) => assert.match(f[0]!.hint!, /node-3's clock is \+2s from the aggregator's; the profile allows 50ms/),
  },
  {
    what: 'an offset within the exchange uncertainty is no skew',
    nodes: (n) => (n === 'node-3' ? { clock: { offsetMs: 60, rttMs: 40 } } : undefined),
    want: [],
  },
  {
    what: 'mixed: an isolated node plus an MTU problem elsewhere gives exactly two findings',
    mtus: { 'node-2/ceph-cluster': 1500 },
    fault: both(cut('internal', 'node-4'), (b, from, to) =>
      b === 'ceph-cluster' && (from === 'node-2' || to === 'node-2') ? { mtu: { size: 8980, outcome: 'filtered' } } : undefined,
    ),
    want: [
      ['node-isolated', 'internal', ['node-4'], 'error'],
      ['mtu-mismatch', 'ceph-cluster', ['node-2'], 'error'],
    ],
  },
  {
    what: 'mixed: an isolated node is not blamed again for its ports, loss or MTU on that binding',
    mtus: { 'node-4/ceph-cluster': 1500 },
    fault: cut('ceph-cluster', 'node-4'),
    want: [
      ['node-isolated', 'ceph-cluster', ['node-4'], 'error'],
      ['mtu-mismatch', 'ceph-cluster', ['node-4'], 'error'],
    ],
  },
  {
    what: 'mixed: a missing agent, a filtered port and clock skew: three causes, three findings',
    fault: (b, _f, to): Partial<TargetRow> | undefined =>
      to === 'node-1'
        ? { icmp: dead, tcp: { '5000': 'refused', '3306': 'refused', '6800': 'refused' } }
        : b === 'internal' && to === 'node-3'
          ? { tcp: { '5000': 'filtered' } }
          : undefined,
    nodes: (n) => (n === 'node-1' ? { state: 'missing' } : n === 'node-2' ? { clock: { offsetMs: -300, rttMs: 2 } } : undefined),
    want: [
      ['agent-missing', undefined, ['node-1'], 'error'],
      ['port-filtered', 'internal', ['node-3'], 'error'],
      ['clock-skew', undefined, ['node-2'], 'error'],
    ],
  },
  {
    what: 'unreachable: two nodes that reach everyone else but not each other name both',
    fault: (b, from, to) => (b === 'internal' && [from, to].sort().join() === 'node-1,node-2' ? { icmp: dead, tcp: { '5000': 'filtered' } } : undefined),
    want: [['unreachable', 'internal', ['node-1', 'node-2'], 'error']],
  },
  {
    what: 'a starting agent (missing within the grace) is waited for: no finding, not even for its closed ports',
    fault: (_b, _f, to) => (to === 'node-4' ? { icmp: dead, tcp: { '5000': 'refused', '3306': 'refused', '6800': 'refused' } } : undefined),
    nodes: (n) => (n === 'node-4' ? { state: 'missing', starting: true } : undefined),
    want: [],
  },
  {
    what: 'agent-stalled: heartbeats but no rounds',
    nodes: (n) => (n === 'node-2' ? { state: 'stalled' } : undefined),
    want: [['agent-stalled', undefined, ['node-2'], 'error']],
  },
  {
    what: 'agent-stale (a stopped agent): its silent UDP and TCP responders are not a firewall',
    fault: (b, _f, to) =>
      to === 'node-4'
        ? b === 'overlay'
          ? { udp: { '6081': 'filtered' } }
          : { tcp: { '5000': 'filtered', '3306': 'filtered', '6800': 'filtered' } }
        : undefined,
    nodes: (n) => (n === 'node-4' ? { state: 'stale', lastSeenAt: 500 } : { lastSeenAt: 5000 }),
    want: [['agent-stale', undefined, ['node-4'], 'error']],
  },
  {
    what: 'a port that fails towards an agent not heard from since the round began waits for its next word',
    fault: (b, _f, to) => (b === 'overlay' && to === 'node-4' ? { udp: { '6081': 'filtered' } } : undefined),
    nodes: (n) => (n === 'node-4' ? { lastSeenAt: 1500 } : undefined),
    want: [],
  },
  {
    what: 'address-missing: the node no longer holds its address; its dead pairs are that, not an isolated node',
    fault: (b, from, to) => (b === 'internal' && (from === 'node-3' || to === 'node-3') ? { icmp: dead, tcp: { '5000': 'filtered' } } : undefined),
    nodes: (n) =>
      n === 'node-3'
        ? { hello: { ...hello(n, {}), interfaces: hello(n, {}).interfaces.map((i) => (i.binding === 'internal' ? { ...i, iface: null, mtu: null } : i)) } }
        : undefined,
    want: [['address-missing', 'internal', ['node-3'], 'error']],
    check: (f) => {
      assert.equal(f[0]!.family, 'ipv4');
      assert.match(f[0]!.hint!, /node-3 has no interface with 198\.18\.1\.3 any more/);
    },
  },
  {
    what: 'loss on one node: its occasional lost SYN and DF probe are loss, not port-filtered or mtu-mismatch',
    fault: (b, from, to) =>
      b === 'ceph-cluster' && (from === 'node-1' || to === 'node-1')
        ? {
            icmp: { ...okIcmp, recv: 2, outcome: 'filtered' },
            ...(from === 'node-2' ? { tcp: { '6800': 'filtered' } } : {}),
            ...(from === 'node-3' ? { mtu: { size: 8980, outcome: 'filtered' } } : {}),
          }
        : undefined,
    want: [['loss', 'ceph-cluster', ['node-1'], 'error']],
    check: (f) => assert.ok(f[0]!.evidence!.length === 5),
  },
  {
    what: 'loss on one node and a real firewall on it: a port failing from every peer stays port-filtered',
    fault: (b, from, to) =>
      b === 'ceph-cluster' && (from === 'node-1' || to === 'node-1')
        ? { icmp: { ...okIcmp, recv: 2, outcome: 'filtered' }, ...(to === 'node-1' ? { tcp: { '6800': 'filtered' } } : {}) }
        : undefined,
    want: [
      ['port-filtered', 'ceph-cluster', ['node-1'], 'error'],
      ['loss', 'ceph-cluster', ['node-1'], 'error'],
    ],
  },
  {
    what: 'first detection: one peer has seen a filtered port so far; only the node at fault is named',
    fault: (b, from, to) => (b === 'shared-db' && from === 'node-1' && to === 'node-3' ? { tcp: { '3306': 'filtered' } } : undefined),
    want: [['port-filtered', 'shared-db', ['node-3'], 'error']],
  },
];

const produced = new Set<string>();
for (const c of cases) {
  test(`diagnosis: ${c.what}`, () => {
    const f = run(c);
    for (const x of f) produced.add(x.kind);
    assert.deepEqual(
      f.map((x) => [x.kind, x.binding, x.nodes, x.severity]),
      c.want,
      JSON.stringify(f, null, 1),
    );
    for (const x of f) {
      assert.ok(findingKinds.includes(x.kind as (typeof findingKinds)[number]), x.kind);
      assert.ok(x.hint && !x.hint.includes('\n'), `${x.kind} has a one-line hint`);
      assert.ok((x.evidence?.length ?? 0) <= 5);
      // Every binding here is IPv4 only: a pair finding says so; node-level findings carry no family.
      if (x.binding && x.kind !== 'dns-mismatch') assert.equal(x.family, 'ipv4', `${x.kind} carries its family`);
    }
    c.check?.(f);
  });
}

const blameCases: [string, [string, string][], string[]][] = [
  ['one pair failing one way names its destination, not the node that observed it', [['a', 'b']], ['b']],
  [
    'one pair failing both ways names both ends',
    [
      ['a', 'b'],
      ['b', 'a'],
    ],
    ['a', 'b'],
  ],
  [
    'every pair touches c',
    [
      ['a', 'c'],
      ['b', 'c'],
      ['d', 'c'],
    ],
    ['c'],
  ],
  [
    'two culprits',
    [
      ['a', 'c'],
      ['b', 'c'],
      ['a', 'e'],
      ['b', 'e'],
      ['d', 'e'],
    ],
    ['c', 'e'],
  ],
  [
    'everyone with everyone: the whole binding',
    [
      ['a', 'b'],
      ['a', 'c'],
      ['a', 'd'],
      ['b', 'c'],
      ['b', 'd'],
      ['c', 'd'],
    ],
    ['a', 'b', 'c', 'd'],
  ],
];
for (const [what, pairs, want] of blameCases) test(`blame: ${what}`, () => assert.deepEqual(blame(pairs.map(([from, to]) => ({ from, to }))), want));

// Dual-stack: each family is diagnosed on its own; the same cause in both is one finding without a family.
const dualInv = {
  bindings: ['internal'],
  spaces: {},
  nodes: N.map((name, i) => ({ name, addresses: { internal: [`198.18.1.${i + 1}`, `2001:db8:1::${i + 1}`] } })),
};
function runDual(
  fault: (from: string, to: string, addr: string) => Partial<TargetRow> | undefined,
  extra: (n: string) => Partial<DiagnosisNode> = () => ({}),
): Finding[] {
  const conds = requirementFor(profile, 'internal').conditions;
  const m = new BindingMatrix('internal', N, (_icmp, rows) => pairFailures(conds, rows()).length > 0);
  for (const from of N) {
    const rows: TargetRow[] = [];
    for (const to of N) {
      if (to === from) continue;
      for (const a of dualInv.nodes.find((n) => n.name === to)!.addresses.internal)
        rows.push({ peer: to, addr: a, icmp: okIcmp, tcp: { '5000': 'ok' }, ...fault(from, to, a) });
    }
    m.apply(from, packRows(rows), 1000, () => 0);
  }
  const nodes: DiagnosisNode[] = N.map((name) => ({
    name,
    state: 'reporting',
    expected: true,
    hello: {
      ...hello(name, {}),
      interfaces: dualInv.nodes.find((n) => n.name === name)!.addresses.internal.map((address) => ({ binding: 'internal', address, iface: 'eth1', mtu: 1500 })),
    },
    ...extra(name),
  }));
  return diagnose({ inventory: dualInv, profile, nodes, matrices: [m] });
}
const v6 = (a: string) => a.includes(':');

const dualCases: [
  string,
  Parameters<typeof runDual>[0],
  [string, string | undefined, string[], string | undefined][],
  RegExp?,
  Parameters<typeof runDual>[1]?,
][] = [
  [
    'IPv6 broken on node-3 only: node-isolated, IPv6',
    (f, t, a) => (v6(a) && (f === 'node-3' || t === 'node-3') ? { icmp: dead, tcp: { '5000': 'filtered' } } : undefined),
    [['node-isolated', 'internal', ['node-3'], 'ipv6']],
    /^internal IPv6: node-3 is unreachable from every peer$/,
  ],
  [
    'IPv4 port filtered on node-2 only: port-filtered, IPv4',
    (_f, t, a) => (!v6(a) && t === 'node-2' ? { tcp: { '5000': 'filtered' } } : undefined),
    [['port-filtered', 'internal', ['node-2'], 'ipv4']],
    /^internal IPv4: TCP 5000 filtered/,
  ],
  [
    'both families cut on node-3: one finding, no family',
    (f, t) => (f === 'node-3' || t === 'node-3' ? { icmp: dead, tcp: { '5000': 'filtered' } } : undefined),
    [['node-isolated', 'internal', ['node-3'], undefined]],
    /^internal: node-3 is unreachable from every peer$/,
  ],
  [
    'node-3 lost its IPv6 address: address-missing, IPv6, and nothing else',
    (f, t, a) => (v6(a) && (f === 'node-3' || t === 'node-3') ? { icmp: dead, tcp: { '5000': 'filtered' } } : undefined),
    [['address-missing', 'internal', ['node-3'], 'ipv6']],
    /2001:db8:1::3/,
    (n) =>
      n === 'node-3'
        ? {
            hello: {
              ...hello(n, {}),
              interfaces: [
                { binding: 'internal', address: '198.18.1.3', iface: 'eth1', mtu: 1500 },
                { binding: 'internal', address: '2001:db8:1::3', iface: null, mtu: null },
              ],
            },
          }
        : {},
  ],
  [
    "node-3's link is down (its IPv6 address went with it): node-isolated, not address-missing",
    (f, t) => (f === 'node-3' || t === 'node-3' ? { icmp: dead, tcp: { '5000': 'filtered' } } : undefined),
    [['node-isolated', 'internal', ['node-3'], undefined]],
    /^internal: node-3 is unreachable from every peer$/,
    (n) =>
      n === 'node-3'
        ? {
            hello: {
              ...hello(n, {}),
              interfaces: [
                { binding: 'internal', address: '198.18.1.3', iface: 'eth1', mtu: 1500, link: 'down' },
                { binding: 'internal', address: '2001:db8:1::3', iface: null, mtu: null, link: 'down' },
              ],
            },
          }
        : {},
  ],
];
for (const [what, fault, want, summary, nodes] of dualCases) {
  test(`diagnosis, dual-stack: ${what}`, () => {
    const f = runDual(fault, nodes);
    for (const x of f) produced.add(x.kind);
    assert.deepEqual(
      f.map((x) => [x.kind, x.binding, x.nodes, x.family]),
      want,
      JSON.stringify(f, null, 1),
    );
    if (summary) assert.match(f[0]!.summary, summary);
  });
}

test('diagnosis: node-3 sends slowly to every peer: one bandwidth-low naming node-3, through diagnose()', () => {
  const bwProfile = parseProfile('name: b\nbandwidth_sample: {port: 5202}\nbindings:\n  internal: [tcp 5000 open, bandwidth >= 500M]\n', 'b.yaml');
  const bw = new BandwidthTable();
  for (const from of N) for (const to of N) if (from !== to) bw.record('internal', from, to, from === 'node-3' ? 19 : 940, 1000);
  const matrices = bindings.map((b) => {
    const m = new BindingMatrix(b, N);
    for (const from of N) m.apply(from, packRows(N.filter((to) => to !== from).map((to) => row(b, from, to, () => undefined))), 1000, () => 0);
    return m;
  });
  const nodes: DiagnosisNode[] = N.map((name) => ({ name, state: 'reporting', expected: true, hello: hello(name, {}), clock: { offsetMs: 0.3, rttMs: 0.5 } }));
  const f = diagnose({ inventory, profile: bwProfile, nodes, matrices, bandwidth: bw });
  for (const x of f) produced.add(x.kind);
  assert.deepEqual(
    f.map((x) => [x.kind, x.binding, x.nodes, x.severity]),
    [['bandwidth-low', 'internal', ['node-3'], 'error']],
    JSON.stringify(f, null, 1),
  );
  assert.equal(f[0]!.summary, 'internal: node-3 is slow with 3 of 3 peers (under 500M)');
  // The same samples without the condition: nothing.
  assert.deepEqual(
    diagnose({ inventory, profile, nodes, matrices, bandwidth: bw }).filter((x) => x.kind === 'bandwidth-low'),
    [],
  );
});

// diagnosis-binding.ts keeps each binding's interface-MTU answer while the present nodes and their hello objects stay
// the same: a new hello, or a node leaving, must show in the very next diagnosis of the same matrices.
test('an interface MTU finding follows each new hello and each node leaving, diagnosis after diagnosis', () => {
  const matrices = bindings.map((b) => new BindingMatrix(b, N, () => false));
  const hellos = new Map(N.map((n) => [n, hello(n, {})]));
  const states = new Map<string, DiagnosisNode['state']>(N.map((n) => [n, 'reporting']));
  const nodes = () => N.map((name): DiagnosisNode => ({ name, state: states.get(name)!, expected: true, hello: hellos.get(name)! }));
  const mtuFindings = () =>
    diagnose({ inventory, profile, nodes: nodes(), matrices })
      .filter((f) => f.kind === 'mtu-mismatch')
      .map((f) => [f.binding, f.nodes]);
  const steps: [string, () => void, unknown[]][] = [
    ['healthy', () => undefined, []],
    ['the same hellos again', () => undefined, []],
    [
      'node-2 says hello with a 1500 ceph-cluster MTU',
      () => hellos.set('node-2', hello('node-2', { 'node-2/ceph-cluster': 1500 })),
      [['ceph-cluster', ['node-2']]],
    ],
    ['unchanged: still named', () => undefined, [['ceph-cluster', ['node-2']]]],
    [
      'node-3 odd out on internal (no required MTU there)',
      () => hellos.set('node-3', hello('node-3', { 'node-3/internal': 9000 })),
      [
        ['ceph-cluster', ['node-2']],
        ['internal', ['node-3']],
      ],
    ],
    ['node-2 gone: its hello no longer counts', () => states.set('node-2', 'missing'), [['internal', ['node-3']]]],
    [
      'node-2 back with jumbo frames, node-3 fixed',
      () => (states.set('node-2', 'reporting'), hellos.set('node-2', hello('node-2', {})), hellos.set('node-3', hello('node-3', {}))),
      [],
    ],
  ];
  for (const [what, change, want] of steps) {
    change();
    assert.deepEqual(mtuFindings(), want, what);
  }
});

// Runs after the table tests above (node:test runs a file's tests in order): a kind that nothing produces
// is dead vocabulary (as port-failed was) and must go from the table, or get a producer and a case here.
test("the README's findings table lists exactly the kinds of the table", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Findings'), readme.indexOf('## The wire protocol'));
  const listed = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(listed, findingKinds);
});

test('every finding kind in the table is produced by some case above', () => {
  // The link kinds are made by the cases of test/unit/link-diagnosis.test.ts.
  assert.deepEqual(
    findingKinds.filter((k) => !produced.has(k) && !linkFindingKinds.includes(k)),
    [],
  );
  assert.deepEqual(
    [...produced].filter((k) => !(findingKinds as readonly string[]).includes(k)),
    [],
  );
});

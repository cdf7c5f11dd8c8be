// The lab's fault language and plans, table-driven (pure: nothing is run).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faultLabel, parseFault, planFault, type Fault, type LabNames } from './faults.js';

const names: LabNames = {
  switchNs: 'lab-sw',
  nodeNs: (n) => `lab-${n}`,
  iface: (s) => ({ internal: 'eth1', 'ceph-cluster': 'eth2' })[s] ?? 'eth9',
  port: (n, s) => `${n}-${s}`,
  bridge: (s) => `br-${s}`,
  spaceMtu: (s) => (s === 'ceph-cluster' ? 9000 : 1500),
  v6: (n, s) => (s === 'internal' ? [`2001:db8:1::${n.slice(-1)}/64`] : []),
  v4: (n, s) => (s === 'internal' ? [`198.18.1.${n.slice(-1)}/24`] : []),
};

test('fault strings parse to faults', () => {
  const cases: [string, Fault][] = [
    ['node-isolated:node-3:internal', { kind: 'node-isolated', node: 'node-3', space: 'internal' }],
    ['isolate:node-3:internal', { kind: 'node-isolated', node: 'node-3', space: 'internal' }],
    ['partition:internal:node-1,node-2', { kind: 'partition', space: 'internal', nodes: ['node-1', 'node-2'] }],
    ['asymmetric:node-2:internal:out', { kind: 'asymmetric', node: 'node-2', space: 'internal', direction: 'out', proto: 'icmp' }],
    ['asymmetric:node-2:internal:in:all', { kind: 'asymmetric', node: 'node-2', space: 'internal', direction: 'in', proto: 'all' }],
    ['port-filtered:node-2:shared-db:3306', { kind: 'port-filtered', node: 'node-2', space: 'shared-db', port: 3306 }],
    ['port-refused:node-2:shared-db:3306', { kind: 'port-refused', node: 'node-2', space: 'shared-db', port: 3306 }],
    ['port-in-use:node-1:internal:5000', { kind: 'port-in-use', node: 'node-1', space: 'internal', port: 5000 }],
    ['mtu:node-3:ceph-cluster', { kind: 'mtu-mismatch', node: 'node-3', space: 'ceph-cluster', mtu: 1500 }],
    ['mtu-mismatch:node-3:ceph-cluster:1400', { kind: 'mtu-mismatch', node: 'node-3', space: 'ceph-cluster', mtu: 1400 }],
    ['udp-blocked:node-5:overlay:6081', { kind: 'udp-blocked', node: 'node-5', space: 'overlay', port: 6081 }],
    ['loss:node-5:internal:30', { kind: 'loss', node: 'node-5', space: 'internal', percent: 30, proto: 'icmp' }],
    ['loss:node-5:internal:30:all', { kind: 'loss', node: 'node-5', space: 'internal', percent: 30, proto: 'all' }],
    ['agent-missing:node-4', { kind: 'agent-missing', node: 'node-4' }],
    ['agent-stopped:node-4', { kind: 'agent-stopped', node: 'node-4' }],
    ['ipv6-blocked:node-2:internal', { kind: 'ipv6-blocked', node: 'node-2', space: 'internal' }],
    ['address-removed:node-2:internal', { kind: 'address-removed', node: 'node-2', space: 'internal', family: 'v4' }],
    ['address-removed:node-2:internal:v6', { kind: 'address-removed', node: 'node-2', space: 'internal', family: 'v6' }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseFault(text), want, text);
});

test('bad fault strings are refused, naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['flood:node-1', /unknown kind "flood" \(kinds: node-isolated, partition/],
    ['isolate:node-3', /expected node-isolated:NODE:SPACE/],
    ['isolate:node-3:internal:extra', /expected node-isolated:NODE:SPACE/],
    ['port-filtered:node-2:shared-db:http', /port "http" is not an integer in 1\.\.65535/],
    ['port-filtered:node-2:shared-db:70000', /port "70000" is not an integer/],
    ['mtu:node-3:ceph-cluster:500', /MTU "500" is not an integer in 1280\.\.65535/],
    ['asymmetric:node-2:internal:sideways', /direction "sideways" is not one of in, out/],
    ['loss:node-5:internal:0', /percent "0" is not an integer in 1\.\.100/],
    ['loss:node-5:internal:20:udp', /proto "udp" is not one of icmp, all/],
    ['partition:internal:', /expected partition:SPACE:NODE,NODE,\.\.\./],
    ['agent-missing:', /expected agent-missing:NODE/],
  ];
  for (const [text, re] of cases) assert.throws(() => parseFault(text), re, text);
});

test('every fault plan is undone by its removal steps, in the same namespaces', () => {
  const faults: [Fault, { apply: RegExp[]; remove: RegExp[]; ns: string }][] = [
    [
      { kind: 'node-isolated', node: 'node-3', space: 'internal' },
      { ns: 'lab-node-3', apply: [/^link set eth1 down$/m], remove: [/^link set eth1 up$/m, /^addr replace 2001:db8:1::3\/64 dev eth1 nodad$/m] },
    ],
    [
      { kind: 'partition', space: 'internal', nodes: ['node-1', 'node-2'] },
      {
        ns: 'lab-sw',
        apply: [/^link add br-internalb type bridge$/m, /^link set node-1-internal master br-internalb$/m, /^link set node-2-internal master br-internalb$/m],
        remove: [/^link set node-1-internal master br-internal$/m, /^link del br-internalb$/m],
      },
    ],
    [
      { kind: 'asymmetric', node: 'node-2', space: 'internal', direction: 'in', proto: 'icmp' },
      {
        ns: 'lab-node-2',
        apply: [/hook input/, /iifname "eth1" icmp type echo-request drop/, /icmpv6 type echo-request drop/],
        remove: [/^delete table inet t7$/m],
      },
    ],
    [
      { kind: 'asymmetric', node: 'node-2', space: 'internal', direction: 'out', proto: 'all' },
      {
        ns: 'lab-node-2',
        apply: [/hook output/, /oifname "eth1" icmpv6 type \{ nd-neighbor-solicit.* accept/, /oifname "eth1" ct state new drop/],
        remove: [/delete table inet t7/],
      },
    ],
    [
      { kind: 'port-filtered', node: 'node-2', space: 'internal', port: 3306 },
      { ns: 'lab-node-2', apply: [/iifname "eth1" tcp dport 3306 drop/], remove: [/delete table inet t7/] },
    ],
    [
      { kind: 'port-refused', node: 'node-2', space: 'internal', port: 3306 },
      { ns: 'lab-node-2', apply: [/tcp dport 3306 reject with tcp reset/], remove: [/delete table inet t7/] },
    ],
    [
      { kind: 'udp-blocked', node: 'node-5', space: 'internal', port: 6081 },
      { ns: 'lab-node-5', apply: [/udp dport 6081 drop/], remove: [/delete table inet t7/] },
    ],
    [
      { kind: 'loss', node: 'node-5', space: 'internal', percent: 30, proto: 'icmp' },
      { ns: 'lab-node-5', apply: [/icmp type echo-request numgen random mod 100 < 30 drop/], remove: [/delete table inet t7/] },
    ],
    [
      { kind: 'loss', node: 'node-5', space: 'internal', percent: 30, proto: 'all' },
      { ns: 'lab-node-5', apply: [/nd-neighbor-solicit.* accept/, /iifname "eth1" numgen random mod 100 < 30 drop/], remove: [/delete table inet t7/] },
    ],
    [
      { kind: 'mtu-mismatch', node: 'node-3', space: 'ceph-cluster', mtu: 1500 },
      { ns: 'lab-node-3', apply: [/^link set eth2 mtu 1500$/m], remove: [/^link set eth2 mtu 9000$/m] },
    ],
    [
      { kind: 'ipv6-blocked', node: 'node-2', space: 'internal' },
      {
        ns: 'lab-node-2',
        apply: [/iifname "eth1" icmpv6 type \{ nd-neighbor-solicit.* accept/, /iifname "eth1" meta nfproto ipv6 drop/],
        remove: [/delete table inet t7/],
      },
    ],
    [
      { kind: 'address-removed', node: 'node-2', space: 'internal', family: 'v6' },
      { ns: 'lab-node-2', apply: [/^addr del 2001:db8:1::2\/64 dev eth1$/m], remove: [/^addr add 2001:db8:1::2\/64 dev eth1 nodad$/m] },
    ],
    [
      { kind: 'address-removed', node: 'node-2', space: 'internal', family: 'v4' },
      { ns: 'lab-node-2', apply: [/^addr del 198\.18\.1\.2\/24 dev eth1$/m], remove: [/^addr add 198\.18\.1\.2\/24 dev eth1$/m] },
    ],
  ];
  for (const [f, want] of faults) {
    const p = planFault(f, names, 't7');
    const label = faultLabel(f);
    assert.ok(p.apply.length > 0 && p.remove.length > 0, label);
    for (const s of [...p.apply, ...p.remove]) assert.equal(s.ns, want.ns, label);
    const apply = p.apply.map((s) => s.script).join('\n');
    const remove = p.remove.map((s) => s.script).join('\n');
    for (const re of want.apply) assert.match(apply, re, label);
    for (const re of want.remove) assert.match(remove, re, label);
    // nft tables are named by the lab, so removing one fault never touches another's rules.
    if (p.apply[0]!.tool === 'nft') assert.match(apply, /^table inet t7 \{/, label);
  }
});

test('faults that need processes carry no steps: the lab runs them', () => {
  for (const f of [parseFault('port-in-use:node-1:internal:5000'), parseFault('agent-missing:node-1'), parseFault('agent-stopped:node-1')]) {
    assert.deepEqual(planFault(f, names, 't1'), { apply: [], remove: [] });
  }
});

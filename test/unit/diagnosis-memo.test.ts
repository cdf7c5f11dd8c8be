// diagnosis-binding.ts keeps each binding's interface-MTU answer while the present nodes and their hello objects
// stay the same: a new hello, or a node leaving, must show in the very next diagnosis.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HelloMsg } from '../../agent/contract/wire.js';
import { diagnose, type DiagnosisNode } from '../../aggregator/diagnosis.js';
import { BindingMatrix } from '../../aggregator/matrix.js';
import { parseProfile } from '../../aggregator/profile.js';

const profile = parseProfile('name: t\nbindings:\n  storage: [mtu >= 9000]\n  internal: []\n', 't.yaml');
const bindings = ['storage', 'internal'];
const N = ['node-1', 'node-2', 'node-3', 'node-4'];
const addr = (b: string, n: string) => `198.18.${bindings.indexOf(b)}.${N.indexOf(n) + 1}`;
const inventory = { bindings, spaces: {}, nodes: N.map((name) => ({ name, addresses: Object.fromEntries(bindings.map((b) => [b, [addr(b, name)]])) })) };
const matrices = bindings.map((b) => new BindingMatrix(b, N, () => false));

const hello = (n: string, storageMtu: number, internalMtu = 1500): HelloMsg => ({
  v: 3,
  type: 'hello',
  node: n,
  agentVersion: 't',
  hostname: n,
  icmp: 'available',
  interfaces: bindings.map((b) => ({ binding: b, address: addr(b, n), iface: `eth${bindings.indexOf(b)}`, mtu: b === 'storage' ? storageMtu : internalMtu })),
  responders: [],
});

/** The MTU findings: binding and the nodes named. */
const mtuFindings = (nodes: DiagnosisNode[]) =>
  diagnose({ inventory, profile, nodes, matrices })
    .filter((f) => f.kind === 'mtu-mismatch')
    .map((f) => [f.binding, f.nodes]);

test('an interface MTU finding follows each new hello and each node leaving, diagnosis after diagnosis', () => {
  const hellos = new Map(N.map((n) => [n, hello(n, 9000)]));
  const states = new Map<string, DiagnosisNode['state']>(N.map((n) => [n, 'reporting']));
  const nodes = () => N.map((name): DiagnosisNode => ({ name, state: states.get(name)!, expected: true, hello: hellos.get(name)! }));
  const steps: [string, () => void, unknown[]][] = [
    ['healthy', () => undefined, []],
    ['the same hellos again', () => undefined, []],
    ['node-2 says hello with a 1500 storage MTU', () => hellos.set('node-2', hello('node-2', 1500)), [['storage', ['node-2']]]],
    ['unchanged: still named', () => undefined, [['storage', ['node-2']]]],
    [
      'node-3 odd out on internal (no required MTU there)',
      () => hellos.set('node-3', hello('node-3', 9000, 9000)),
      [
        ['internal', ['node-3']],
        ['storage', ['node-2']],
      ],
    ],
    ['node-2 gone: its hello no longer counts', () => states.set('node-2', 'missing'), [['internal', ['node-3']]]],
    [
      'node-2 back with jumbo frames, node-3 fixed',
      () => (states.set('node-2', 'reporting'), hellos.set('node-2', hello('node-2', 9000)), hellos.set('node-3', hello('node-3', 9000))),
      [],
    ],
  ];
  for (const [what, change, want] of steps) {
    change();
    assert.deepEqual(mtuFindings(nodes()), want, what);
  }
});

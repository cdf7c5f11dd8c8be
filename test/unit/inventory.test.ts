import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inventoryToText, loadInventory, parseInventory, parseJsonForm } from '../../agent/contract/inventory.js';

const fx = (f: string) => `test/fixtures/inventory/${f}`;

test('a good inventory parses: bindings sorted, spaces kept, single addresses become lists', () => {
  const inv = loadInventory(fx('good.yaml'));
  assert.deepEqual(inv.bindings, ['ceph-cluster', 'internal']);
  assert.equal(inv.spaces.internal, 'internal-api');
  assert.deepEqual(
    inv.nodes.map((n) => n.name),
    ['node-1', 'node-2'],
  );
  assert.deepEqual(inv.nodes[0]!.addresses['ceph-cluster'], ['198.18.2.1', '2001:db8:2::1']);
  assert.deepEqual(inv.nodes[1]!.addresses.internal, ['198.18.1.2']);
  assert.equal(inv.nodes[0]!.hostname, 'node-1.maas');
});

test('an inventory survives a round trip through inventoryToText', () => {
  const inv = loadInventory(fx('good.yaml'));
  assert.deepEqual(parseInventory(inventoryToText(inv)), inv);
});

test('the JSON form the charm writes is read by the fast path; anything it cannot vouch for goes to the YAML parser', () => {
  const text = inventoryToText(loadInventory(fx('good.yaml')));
  assert.ok(parseJsonForm(text), 'the written form takes the fast path');
  assert.equal(parseJsonForm(text.replace('"node-2"', '"node-1"')), undefined, 'a duplicate node name');
  assert.equal(parseJsonForm(text.replace('"version": 1', '"version": 2')), undefined, 'an invalid field');
  assert.equal(parseJsonForm('version: 1\nnodes: {}\n'), undefined, 'block YAML');
  assert.equal(parseJsonForm('{"version": 1, "nodes": {},}'), undefined, 'not JSON (YAML allows the trailing comma)');
  assert.deepEqual(parseInventory('{"version": 1, "nodes": {},}').nodes, []);
});

// The same mistakes in the JSON form are reported with file, line and field, like in block YAML.
const jsonText = (inv: string) => inventoryToText(loadInventory(fx('good.yaml'))).replace(/"node-2": .*\n/, inv);
const badJson: [what: string, text: string, code: string, message: string][] = [
  ['a duplicate node', jsonText('"node-1": {"addresses":{"internal":["198.18.1.2"]}}\n'), 'PINGER_ERR_INVENTORY_YAML', 'inv.yaml:6:3: Map keys must be unique'],
  [
    'a bad address',
    jsonText('"node-2": {"addresses":{"internal":["198.18.1.300"]}}\n'),
    'PINGER_ERR_INVENTORY_INVALID',
    'inv.yaml:6:39: nodes.node-2.addresses.internal.0: "198.18.1.300" is not an IPv4 or IPv6 address',
  ],
  [
    'an unknown field',
    jsonText('"node-2": {"adresses":{"internal":["198.18.1.2"]}}\n'),
    'PINGER_ERR_INVENTORY_INVALID',
    'inv.yaml:6:14: nodes.node-2.adresses: unknown field "adresses"',
  ],
];
for (const [what, text, code, message] of badJson) {
  test(`JSON form with ${what} is refused with ${code} naming file, line and field`, () => {
    assert.throws(
      () => parseInventory(text, 'inv.yaml'),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, code);
        assert.ok(err.message.includes(message), `expected ${JSON.stringify(message)} in:\n${err.message}`);
        return true;
      },
    );
  });
}

const bad: [file: string, code: string, message: string][] = [
  ['bad-address.yaml', 'PINGER_ERR_INVENTORY_INVALID', 'bad-address.yaml:5:17: nodes.node-1.addresses.internal: "198.18.1.300" is not an IPv4 or IPv6 address'],
  ['unknown-field.yaml', 'PINGER_ERR_INVENTORY_INVALID', 'unknown-field.yaml:4:5: nodes.node-1.adresses: unknown field "adresses"'],
  ['unknown-field.yaml', 'PINGER_ERR_INVENTORY_INVALID', 'unknown-field.yaml:4:5: nodes.node-1.addresses: missing (expected a map)'],
  ['bad-version.yaml', 'PINGER_ERR_INVENTORY_INVALID', 'bad-version.yaml:1:10: version: must be 1'],
  ['bad-yaml.yaml', 'PINGER_ERR_INVENTORY_YAML', 'bad-yaml.yaml:4:28: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  ['empty-list.yaml', 'PINGER_ERR_INVENTORY_INVALID', 'empty-list.yaml:5:17: nodes.node-1.addresses.internal: needs at least one address'],
  ['duplicate-node.yaml', 'PINGER_ERR_INVENTORY_YAML', 'duplicate-node.yaml:6:3: Map keys must be unique'],
  ['bad-name.yaml', 'PINGER_ERR_INVENTORY_INVALID', 'bad-name.yaml:4:5: nodes.bad name!: "bad name!" is not a valid name'],
  ['does-not-exist.yaml', 'PINGER_ERR_INVENTORY_READ', 'does-not-exist.yaml: ENOENT'],
];

for (const [file, code, message] of bad) {
  test(`${file} is refused with ${code} naming file, line and field`, () => {
    assert.throws(
      () => loadInventory(fx(file)),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, code);
        assert.ok(err.message.includes(message), `expected ${JSON.stringify(message)} in:\n${err.message}`);
        return true;
      },
    );
  });
}

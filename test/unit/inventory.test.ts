import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inventoryToYaml, loadInventory, parseInventory } from '../../agent/inventory.js';

const fx = (f: string) => `test/fixtures/inventory/${f}`;

test('a good inventory parses: bindings sorted, spaces kept, single addresses become lists', () => {
  const inv = loadInventory(fx('good.yaml'));
  assert.deepEqual(inv.bindings, ['ceph-cluster', 'internal']);
  assert.equal(inv.spaces.internal, 'internal-api');
  assert.deepEqual(inv.nodes.map((n) => n.name), ['node-1', 'node-2']);
  assert.deepEqual(inv.nodes[0]!.addresses['ceph-cluster'], ['198.18.2.1', '2001:db8:2::1']);
  assert.deepEqual(inv.nodes[1]!.addresses.internal, ['198.18.1.2']);
  assert.equal(inv.nodes[0]!.hostname, 'node-1.maas');
});

test('an inventory survives a round trip through inventoryToYaml', () => {
  const inv = loadInventory(fx('good.yaml'));
  assert.deepEqual(parseInventory(inventoryToYaml(inv)), inv);
});

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

// The inventory written as text (JSON form, which is YAML). Its own file with no dependency, so that what
// only writes inventories (the charm's hooks, ~1,000 per 20-unit deployment) does not load zod and the YAML
// parser that reading one needs (inventory.ts).
import type { Inventory } from './inventory.js';

/**
 * Serialises an inventory in JSON form, one node per line (the charm and the lab write inventories with
 * this): still YAML, and agents read it without the YAML parser's cost (see parseJsonForm).
 */
export function inventoryToText(inv: Inventory): string {
  const bindings: Record<string, { space: string }> = {};
  for (const b of inv.bindings) {
    const s = inv.spaces[b];
    if (s) bindings[b] = { space: s };
  }
  const nodes: Record<string, unknown> = {};
  for (const n of inv.nodes) {
    nodes[n.name] = { ...(n.hostname ? { hostname: n.hostname } : {}), addresses: n.addresses };
  }
  const lines = ['# Pinger inventory, in JSON form (JSON is YAML; see README "The inventory")', '{"version": 1,'];
  if (Object.keys(bindings).length) lines.push(` "bindings": ${JSON.stringify(bindings)},`);
  const entries = Object.entries(nodes).map(([n, spec]) => `  ${JSON.stringify(n)}: ${JSON.stringify(spec)}`);
  lines.push(' "nodes": {', entries.join(',\n'), ' }}', '');
  return lines.join('\n');
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { agentErrors } from '../../agent/contract/errors.js';
import { finalCloseCodes } from '../../agent/contract/close-codes.js';
import { aggregatorErrors } from '../../aggregator/errors.js';

test("the README's error table lists exactly the codes of the catalogues", () => {
  const readme = readFileSync('README.md', 'utf8');
  const table = readme.slice(readme.indexOf('<!-- errors:begin'), readme.indexOf('<!-- errors:end'));
  const documented = new Set([...table.matchAll(/^\| (PINGER_ERR_[A-Z0-9_]+) \|/gm)].map((m) => m[1]!));
  const catalogued = new Set([...Object.keys(agentErrors), ...Object.keys(aggregatorErrors)]);
  assert.deepEqual([...documented].sort(), [...catalogued].sort());
});

test('close codes are in the application range and unique', () => {
  const codes = Object.values(aggregatorErrors).flatMap((e) => ('close' in e ? [e.close] : []));
  for (const c of codes) assert.ok(c >= 4000 && c <= 4999, String(c));
  assert.equal(new Set(codes).size, codes.length);
});

test('the close codes the agent treats as final are ones the aggregator sends', () => {
  const sent = new Set<number>(Object.values(aggregatorErrors).flatMap((e) => ('close' in e ? [e.close] : [])));
  for (const c of finalCloseCodes) assert.ok(sent.has(c), String(c));
});

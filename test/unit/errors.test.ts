import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { agentErrors, PingerError } from '../../agent/contract/errors.js';
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

test('every catalogued code is raised or logged by some source file', () => {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? e.name === 'node_modules' || e.name === 'build'
          ? []
          : walk(join(dir, e.name))
        : /\.(ts|js|c)$/.test(e.name)
          ? [join(dir, e.name)]
          : [],
    );
  // .c: the ICMP addon (agent/probes/native/) raises its own code.
  const files = ['agent', 'aggregator', 'charm'].filter((d) => existsSync(d)).flatMap(walk);
  // The catalogues themselves do not count: a code only they mention is raised by nothing.
  const text = files
    .filter((f) => !['agent/contract/errors.ts', 'aggregator/errors.ts'].includes(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const unused = [...Object.keys(agentErrors), ...Object.keys(aggregatorErrors)].filter((c) => !new RegExp(`\\b${c}\\b`).test(text));
  assert.deepEqual(unused, []);
});

test('PingerError takes only catalogued codes', () => {
  // @ts-expect-error a code in no catalogue fails the type check (tsc runs before the tests)
  const typo = new PingerError('PINGER_ERR_AGENT_TYPO', 'x');
  assert.equal(new PingerError('PINGER_ERR_AGG_LISTEN', 'x').code, 'PINGER_ERR_AGG_LISTEN');
  assert.equal(typo.code, 'PINGER_ERR_AGENT_TYPO');
});

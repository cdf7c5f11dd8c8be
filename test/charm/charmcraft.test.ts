// The charm project as charmcraft sees it: charmcraft.yaml and the packed metadata validated against the
// schema subset written from charmcraft's documentation (charm/charmcraft-schema.ts), the schema refusing
// what charmcraft refuses, and the Node runtime checked against each target base's glibc.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { charmcraftSchema, manifestSchema, metadataSchema, platformsOf, problems } from '../../charm/charmcraft-schema.js';
import { checkProject, pack } from '../../charm/pack.js';
import { baseGlibc, glibcVersionsNeeded, missingGlibc } from '../../charm/src/elf.js';
import { repoRoot, transpileTree } from './sim/build.js';

test('charmcraft.yaml: type charm, multi-base platforms for 22.04 and 24.04, no bases, no series', () => {
  const p = checkProject();
  assert.equal(p.type, 'charm');
  assert.equal(p.bases, undefined);
  assert.equal(p.base, undefined);
  assert.deepEqual(
    platformsOf(p).map((x) => `${x.base.name}@${x.base.channel}:${x.arch}`),
    ['ubuntu@22.04:amd64', 'ubuntu@24.04:amd64'],
  );
});

test('the schema refuses what charmcraft refuses', () => {
  const bad: [unknown, RegExp][] = [
    [
      { type: 'charm', bases: [{ 'build-on': [{ name: 'ubuntu', channel: '22.04' }], 'run-on': [{ name: 'ubuntu', channel: '24.04' }] }] },
      /not supported for Ubuntu 24.04/,
    ],
    [{ type: 'charm', base: 'ubuntu@24.04', platforms: { 'ubuntu@22.04:amd64': null } }, /remove the top-level "base"/],
    [{ type: 'charm', platforms: { amd64: null } }, /needs a top-level "base"/],
    [{ type: 'charm', base: 'ubuntu@24.04', bases: [], platforms: { amd64: null } }, /cannot be combined/],
    [{ type: 'charm', base: 'jammy', platforms: { amd64: null } }, /<distribution>@<series>/],
    [{ type: 'charm', series: ['jammy'], base: 'ubuntu@22.04', platforms: { amd64: null } }, /"series" is not a charmcraft.yaml key/],
    [{ type: 'charm' }, /needs "platforms"/],
  ];
  for (const [doc, re] of bad) assert.match(problems(charmcraftSchema, doc, 'charmcraft.yaml').join('\n'), re, JSON.stringify(doc));
  assert.deepEqual(problems(charmcraftSchema, { type: 'charm', base: 'ubuntu@24.04', platforms: { amd64: null, arm64: null } }, 'x'), []);
  assert.match(
    problems(metadataSchema, { name: 'pinger', summary: 's', description: 'd', series: ['jammy'] }, 'metadata.yaml').join(),
    /"series" is deprecated/,
  );
  assert.match(problems(metadataSchema, { name: 'Pinger', summary: 's', description: 'd' }, 'metadata.yaml').join(), /lowercase/);
});

test('the staged charm: metadata, config, actions and manifest pass the schema; dispatch ends on an executable', () => {
  const dir = mkdtempSync(join(repoRoot, 'test/artifacts/charmcraft-'));
  try {
    transpileTree(join(dir, 'dist'), ['agent', 'aggregator', 'charm/src']);
    const { stage } = pack({ out: join(dir, 'out'), dist: join(dir, 'dist'), build: false, linkRuntime: true, zip: false });
    const y = (f: string) => parse(readFileSync(join(stage, f), 'utf8')) as unknown;
    assert.deepEqual(problems(metadataSchema, y('metadata.yaml'), 'metadata.yaml'), []);
    assert.deepEqual(problems(manifestSchema, y('manifest.yaml'), 'manifest.yaml'), []);
    const actions = y('actions.yaml') as Record<string, { additionalProperties?: boolean }>;
    for (const [a, spec] of Object.entries(actions)) assert.equal(spec.additionalProperties, false, a);
    assert.ok('rotate-secret' in actions);
    const cfg = y('config.yaml') as { options: Record<string, { type: string }> };
    for (const [k, o] of Object.entries(cfg.options)) assert.ok(['string', 'int', 'float', 'boolean', 'secret'].includes(o.type), k);
    const last = readFileSync(join(stage, 'dispatch'), 'utf8').trim().split('\n').at(-1)!.split(/\s+/).at(-1)!;
    execFileSync('test', ['-x', join(stage, last)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the runtime's GLIBC_ needs, read from its ELF, against each base: fits 22.04 and 24.04, not an older one", () => {
  const needed = glibcVersionsNeeded(readFileSync(process.execPath));
  assert.ok(needed.length > 5 && needed.every((v) => /^\d+\.\d+(\.\d+)?$/.test(v)), needed.join(' '));
  // Same set objdump -T lists (when binutils is there to ask).
  let objdump: string[] | undefined;
  try {
    objdump = [
      ...new Set(
        execFileSync('objdump', ['-T', process.execPath], { encoding: 'utf8', maxBuffer: 256 << 20 })
          .match(/GLIBC_[\d.]+/g)!
          .map((v) => v.slice(6)),
      ),
    ];
  } catch {
    objdump = undefined;
  }
  if (objdump) for (const v of objdump) assert.ok(needed.includes(v), `objdump lists GLIBC_${v}`);
  assert.equal(missingGlibc(needed, baseGlibc['22.04']!), null);
  assert.equal(missingGlibc(needed, baseGlibc['24.04']!), null);
  assert.equal(missingGlibc(['2.17', '2.28', '2.38'], baseGlibc['22.04']!), '2.38');
  assert.throws(() => glibcVersionsNeeded(Buffer.from('#!/bin/sh\n')), /not an ELF file/);
});

// The arrows run one way: charm -> aggregator -> agent, and agent/contract/ (what both sides speak) imports
// nothing above it. Scans every source file's import specifiers; a new arrow upwards fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';

/** Folder -> the folders its files may import from (the most specific folder prefix applies). */
const allowed: Record<string, string[]> = {
  'agent/contract': ['agent/contract'],
  agent: ['agent'],
  aggregator: ['aggregator', 'agent'],
  charm: ['charm', 'aggregator', 'agent'],
};
const layers = Object.keys(allowed).sort((a, b) => b.length - a.length);
const layerOf = (file: string): string | undefined => layers.find((l) => file === l || file.startsWith(`${l}/`));

const specifiers = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

/** The imports of `file` (repo-relative) that break the table, as "file -> target". */
function violations(file: string, source: string): string[] {
  const from = layerOf(file);
  if (!from) return [];
  const out: string[] = [];
  for (const m of source.matchAll(specifiers)) {
    const spec = m[1]!;
    if (!spec.startsWith('.')) continue; // packages and node: builtins
    const target = normalize(join(dirname(file), spec));
    const to = layerOf(target);
    if (to && !allowed[from]!.some((ok) => to === ok || to.startsWith(`${ok}/`))) out.push(`${file} -> ${target}`);
  }
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'build' ? [] : sources(p);
    return /\.(ts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

test('the checker catches each forbidden direction', () => {
  const cases: [string, string, boolean][] = [
    ['agent/link.ts', "import { x } from '../aggregator/errors.js';", true],
    ['agent/probes/tcp.ts', "const m = await import('../../charm/src/status.js');", true],
    ['aggregator/state.ts', "export { y } from '../charm/src/config.js';", true],
    ['agent/contract/wire.ts', "import { z } from '../stats.js';", true],
    ['agent/contract/wire.ts', "import { outcomes } from './probe.js';", false],
    ['aggregator/cli/demo.ts', "import { Agent } from '../../agent/agent.js';", false],
    ['charm/src/handlers.ts', "import { readMtu } from '../../agent/interfaces.js';", false],
    ['agent/round.ts', "import { z } from 'zod';", false],
  ];
  for (const [file, src, bad] of cases) assert.equal(violations(file, src).length > 0, bad, `${file}: ${src}`);
});

test('no source imports from a folder above it', () => {
  const files = ['agent', 'aggregator', 'charm'].flatMap(sources);
  assert.ok(files.length > 50, `scanned ${files.length} files`);
  assert.deepEqual(
    files.flatMap((f) => violations(f, readFileSync(f, 'utf8'))),
    [],
  );
});

// Compiles what the simulator runs (the charm's code, the pinger command it starts, the simulated hook
// tools) into a per-run folder with TypeScript's transpiler: no type check (test/run.sh does that once),
// so a test file does not wait for a whole-tree tsc or trip over another engineer's half-written file.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

export const repoRoot = join(dirname(new URL(import.meta.url).pathname), '../../..');

function* tsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      if (e !== 'node_modules' && e !== 'build') yield* tsFiles(p);
    } else if (e.endsWith('.ts') && !e.endsWith('.test.ts') && !e.endsWith('.d.ts')) yield p;
  }
}

export function transpileTree(outDir: string, folders = ['agent', 'aggregator', 'charm/src', 'test/charm/sim']): void {
  for (const f of folders) {
    for (const file of tsFiles(join(repoRoot, f))) {
      const out = ts.transpileModule(readFileSync(file, 'utf8'), {
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, esModuleInterop: true },
        fileName: file,
      });
      const dest = join(outDir, relative(repoRoot, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, out.outputText);
    }
  }
}

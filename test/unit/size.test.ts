// Issue 19's size rule: no source file over 400 lines and no function over 60 lines without a reason given in
// a `// size: <reason>` comment (for a file, in its header comment; for a function, in the comments right above
// the line it starts on). Functions are found with the TypeScript compiler: declarations, methods,
// constructors, accessors, arrow functions and function expressions, in .ts and the page's .js.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 60;
const reason = /^\s*\/\/ size: \S/;
const comment = /^\s*(\/\/|\/\*|\*)/;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'build') continue; // the addon's node-gyp output
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Whether the comment lines right above line `at` (0-based) give a size reason. */
function excused(lines: string[], at: number): boolean {
  for (let i = at - 1; i >= 0 && comment.test(lines[i]!); i--) if (reason.test(lines[i]!)) return true;
  return false;
}

/** Files over the limit and functions over the limit, without a reason: "path:line what (n lines)". */
export function oversized(file: string, text: string): string[] {
  const rel = relative(root, file);
  const lines = text.split('\n');
  const out: string[] = [];
  const n = text.endsWith('\n') ? lines.length - 1 : lines.length;
  if (n > MAX_FILE_LINES) {
    const header = lines.slice(
      0,
      lines.findIndex((l) => !comment.test(l) && !l.startsWith('#!')),
    );
    if (!header.some((l) => reason.test(l))) out.push(`${rel}: ${n} lines`);
  }
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const len = end - start + 1;
      if (len > MAX_FUNCTION_LINES && !excused(lines, start)) {
        const name = (node as ts.FunctionLikeDeclaration).name?.getText(sf) ?? ts.SyntaxKind[node.kind];
        out.push(`${rel}:${start + 1} ${name} (${len} lines)`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

test('the size rule flags a long file and a long function, and takes a reason', () => {
  const body = Array.from({ length: 61 }, (_, i) => `  x += ${i};`).join('\n');
  const fn = `function f(x: number) {\n${body}\n  return x;\n}\n`;
  assert.equal(oversized(join(root, 'agent/x.ts'), fn).length, 1, 'a 64-line function');
  assert.deepEqual(oversized(join(root, 'agent/x.ts'), `// why\n// size: one table, read as one\n${fn}`), []);
  assert.equal(oversized(join(root, 'agent/x.ts'), `const g = () => {\n${body}\n};\n`).length, 1, 'an arrow function');
  assert.equal(oversized(join(root, 'agent/x.ts'), `class C {\n  m() {\n${body}\n  }\n}\n`).length, 1, 'a method');
  const long = `${'const a = 1;\n'.repeat(401)}`;
  assert.deepEqual(oversized(join(root, 'agent/x.ts'), long), ['agent/x.ts: 401 lines']);
  assert.deepEqual(oversized(join(root, 'agent/x.ts'), `// a header\n// size: generated table\n${long}`), []);
  assert.deepEqual(oversized(join(root, 'agent/x.ts'), `const a = 1;\n${fn.replace('function f', 'const h = function')}`).length, 1);
});

test('no source file over 400 lines and no function over 60 lines without a `// size:` reason', () => {
  const found: string[] = [];
  for (const dir of ['agent', 'aggregator', 'charm']) {
    for (const f of sources(join(root, dir))) found.push(...oversized(f, readFileSync(f, 'utf8')));
  }
  assert.deepEqual(found, [], `split these, or say why not in a // size: comment:\n${found.join('\n')}`);
});

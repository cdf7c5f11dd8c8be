// node:test reporter: node's spec reporter (progress as each test ends), plus one line per test file
// (passed, failed, skipped, seconds) printed just before node's own closing summary lines, which stay
// last because CI reads them.
import { relative } from 'node:path';
import { spec as Spec } from 'node:test/reporters';

export default async function* specWithFileSummary(source) {
  const spec = new Spec();
  const out = [];
  spec.on('data', (chunk) => out.push(chunk));
  const files = new Map();
  let summarised = false;
  for await (const event of source) {
    const { type, data } = event;
    // The run's closing summary (top-level diagnostics without a file) comes after every test: the
    // per-file lines go right before it, not after the stream ends (--test-force-exit does not wait).
    if (type === 'test:diagnostic' && data.nesting === 0 && !data.file && !summarised) {
      summarised = true;
      yield* perFile(files);
    }
    if ((type === 'test:pass' || type === 'test:fail') && data.details?.type !== 'suite') {
      const key = data.file ? relative(process.cwd(), data.file) : '(no file)';
      if (!files.has(key)) files.set(key, { pass: 0, fail: 0, skip: 0, ms: 0 });
      const f = files.get(key);
      if (data.skip || data.todo) f.skip++;
      else if (type === 'test:pass') f.pass++;
      else f.fail++;
    }
    if ((type === 'test:pass' || type === 'test:fail') && data.nesting === 0 && data.file) {
      const key = relative(process.cwd(), data.file);
      if (!files.has(key)) files.set(key, { pass: 0, fail: 0, skip: 0, ms: 0 });
      files.get(key).ms += data.details?.duration_ms ?? 0;
    }
    spec.write(event);
    while (out.length) yield out.shift();
  }
  if (!summarised) yield* perFile(files);
  spec.end();
  await new Promise((resolve) => spec.once('end', resolve).resume());
  while (out.length) yield out.shift();
}

function* perFile(files) {
  const width = Math.max(0, ...[...files.keys()].map((k) => k.length));
  yield '\nper file:\n';
  for (const [file, f] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    yield `  ${f.fail ? 'FAIL' : 'ok  '} ${file.padEnd(width)} ${String(f.pass).padStart(4)} passed, ${f.fail} failed, ${f.skip} skipped, ${(f.ms / 1000).toFixed(1)} s\n`;
  }
  yield '\n';
}

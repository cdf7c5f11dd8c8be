// aggregator/routes/web.ts in-process: the page and its assets, the live channel (SSE) and the export files.
// No browser: an AggregatorState fed directly, the plugin on its own fastify on 127.0.0.1:0 (the browser
// tests cover it inside the real server).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { loopbackInventory } from '../helpers/cluster.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { webRoutes } from '../../aggregator/routes/web.js';
import { AggregatorState } from '../../aggregator/state.js';

const demoProfile = builtinProfile('demo');

let app: FastifyInstance;
let state: AggregatorState;
let url: string;
before(async () => {
  state = new AggregatorState({ inventory: loopbackInventory(2, ['internal']), profile: demoProfile });
  app = Fastify();
  await app.register(webRoutes, { state, tickMs: 200 });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => app?.close());

test('the page and its assets are served with their types; nothing else under /web/', async () => {
  const cases: [string, number, RegExp][] = [
    ['/', 200, /^text\/html/],
    ['/web/app.js', 200, /^text\/javascript/],
    ['/web/heatmap.js', 200, /^text\/javascript/],
    ['/web/text.js', 200, /^text\/javascript/],
    ['/web/nodes.js', 200, /^text\/javascript/],
    ['/web/cells.js', 200, /^text\/javascript/],
    ['/web/links.js', 200, /^text\/javascript/],
    ['/web/style.css', 200, /^text\/css/],
    ['/web/../routes/web.ts', 404, /json/],
    ['/web/nope.js', 404, /json/],
  ];
  for (const [path, status, type] of cases) {
    const r = await app.inject({ method: 'GET', url: path });
    assert.equal(r.statusCode, status, path);
    assert.match(String(r.headers['content-type']), type, path);
  }
  const html = (await app.inject({ method: 'GET', url: '/' })).body;
  // Nodes and browsers here have no internet: every resource the page names is on this server.
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(refs.length >= 3);
  for (const ref of refs) assert.match(ref, /^(\/|#|data:)/, ref);
});

test('exports: JSON, Markdown and HTML, as attachments', async () => {
  const cases: [string, RegExp, (body: string) => void][] = [
    ['/api/v1/export/report.json', /^application\/json/, (b) => assert.equal(JSON.parse(b).verdict, 'pending')],
    ['/api/v1/export/report.md', /^text\/markdown/, (b) => assert.match(b, /^# Pinger readiness report: Waiting for 2 of 2 agents/)],
    ['/api/v1/export/report.html', /^text\/html/, (b) => assert.match(b, /<h1>Waiting for 2 of 2 agents<\/h1>/)],
  ];
  for (const [path, type, check] of cases) {
    const r = await app.inject({ method: 'GET', url: path });
    assert.equal(r.statusCode, 200, path);
    assert.match(String(r.headers['content-type']), type, path);
    assert.match(String(r.headers['content-disposition']), /^attachment; filename="pinger-report-[\dT-]+Z\.(json|md|html)"$/, path);
    check(r.body);
  }
});

test('the live channel: a change event at once and on every change, and ticks with the summary', async () => {
  const ac = new AbortController();
  const res = await fetch(`${url}/api/v1/events`, { signal: ac.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const nextEvent = async () => {
    for (;;) {
      const end = buf.indexOf('\n\n');
      if (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const ev = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (ev && data) return { ev, data: JSON.parse(data) };
        continue; // the retry: line
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += dec.decode(value, { stream: true });
    }
  };
  const first = await nextEvent();
  assert.equal(first.ev, 'change');
  state.changed();
  // The change (250 ms after changed()) and the first tick (200 ms here) come in either order.
  const next = [await nextEvent(), await nextEvent()];
  const second = next.find((e) => e.ev === 'change');
  const tick = next.find((e) => e.ev === 'tick');
  assert.ok(second && tick, JSON.stringify(next));
  assert.ok(second.data.seq > first.data.seq, 'change events are numbered');
  assert.deepEqual([tick.data.verdict, tick.data.reporting, tick.data.expected], ['pending', 0, 2]);
  // Within the start-up grace the absent agents are waited for, not findings (issue 14): the key has none.
  assert.match(tick.data.key, /^pending\|0\|$/);
  ac.abort();
});

test("the page's scripts typecheck (// @ts-check with JSDoc types, strict)", () => {
  const args = [
    'tsc',
    '--noEmit',
    '--allowJs',
    '--checkJs',
    '--strict',
    '--lib',
    'ES2023,DOM,DOM.Iterable',
    '--target',
    'ES2022',
    '--module',
    'ESNext',
    '--moduleResolution',
    'bundler',
    'aggregator/web/app.js',
    'aggregator/web/heatmap.js',
    'aggregator/web/text.js',
    'aggregator/web/nodes.js',
    'aggregator/web/cells.js',
    // The page's types come from report.ts; the aggregator's error codes are merged into PingerError here.
    'aggregator/errors.ts',
  ];
  try {
    execFileSync('npx', args, { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    assert.fail(`tsc found errors in the page's scripts:\n${(err as { stdout?: string }).stdout}`);
  }
});

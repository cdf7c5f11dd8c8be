// Benchmark: the report page with 1,000 simulated nodes x 6 bindings. An AggregatorState is fed synthetic
// hello/results messages in-process (no agents, no traffic: the 198.18.0.0/15 addresses are only strings),
// served by buildServer on 127.0.0.1, and opened in Debian's Chromium several times, each in a fresh context.
// Measures: the report's size and build time, time to first render (navigation start -> the page's
// 'pinger-first-render' mark, i.e. verdict, findings, 6 heatmaps and the node list drawn; split at the
// 'pinger-report-fetched' mark into fetching the report and rendering it), the JS heap after
// render (CDP Performance.getMetrics, after a forced GC), and hover -> details shown. Each run opens the page
// twice: with the state unchanged since the last report (the cached snapshot and report serve it) and right
// after a change (findings and verdict rebuilt for the page's fetch). Also GET /api/v1/report over HTTP,
// ?matrix=states and ?matrix=runs, both ways.
// Usage: node --import tsx test/bench/browser-render.ts [--nodes 1000] [--bindings 6] [--runs 5] [--links]
// (--links: every hello carries a bonded node's link facts, as fleet-ws --links)
import { parseArgs } from 'node:util';
import type { Inventory } from '../../agent/contract/inventory.js';
import type { HelloMsg, ResultsMsg, TargetRow } from '../../agent/contract/wire.js';
import { packRows } from '../../agent/contract/wire-packed.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { buildServer } from '../../aggregator/server.js';
import { AggregatorState } from '../../aggregator/state.js';
import { join } from 'node:path';
import { artifacts, launch } from '../browser/browser.js';
import { simLinks } from './fleet-lib.js';

const openstackProfile = builtinProfile('openstack');

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    bindings: { type: 'string', default: '6' },
    runs: { type: 'string', default: '5' },
    links: { type: 'boolean', default: false },
  },
});
const N = Number(values.nodes);
const runs = Number(values.runs);
const bindings = ['admin', 'ceph-cluster', 'ceph-public', 'internal', 'public', 'shared-db', 'amqp', 'overlay'].slice(0, Number(values.bindings));

const addr = (b: number, i: number) => {
  const a = b * 2048 + i; // unique per binding and node inside 198.18.0.0/15
  return `198.${18 + (a >> 16)}.${(a >> 8) & 255}.${a & 255}`;
};
const name = (i: number) => `node-${i + 1}`;
const inventory: Inventory = {
  bindings,
  spaces: {},
  nodes: Array.from({ length: N }, (_, i) => ({ name: name(i), addresses: Object.fromEntries(bindings.map((b, j) => [b, [addr(j, i)]])) })),
};

/** A few faults so the page has findings and coloured cells: one unreachable node, one node with a closed port, lossy pairs. */
function row(b: string, from: number, to: number): TargetRow {
  const j = bindings.indexOf(b);
  const ports = openstackProfile.bindings[b]?.tcp ?? [];
  const rtt = 0.15 + ((from * 7 + to * 13) % 100) / 40;
  const unreachable = j === 0 && to === 6;
  const lossy = j === 3 && from % 97 === 0 && to % 89 === 0;
  return {
    peer: name(to),
    addr: addr(j, to),
    icmp: unreachable
      ? { sent: 3, recv: 0, rtt: null, outcome: 'filtered' }
      : { sent: 3, recv: lossy ? 2 : 3, rtt: [rtt * 0.8, rtt, rtt * 1.3, rtt, rtt * 1.3], outcome: lossy ? 'filtered' : 'ok' },
    tcp: Object.fromEntries(ports.map((p, k) => [String(p), unreachable ? 'filtered' : j === 5 && to === 41 && k === 0 ? 'refused' : 'ok'])),
  };
}

const t0 = performance.now();
// The state's clock stands still while the benchmark runs (but for the second between hellos and rounds): on a
// loaded machine feeding 1,000 nodes takes minutes, and with real time the first-fed agents would go stale
// meanwhile, so the page would show a different fleet from one run to the next.
let clockMs = Date.now();
const state = new AggregatorState({ inventory, profile: openstackProfile, now: () => clockMs });
for (let i = 0; i < N; i++) {
  const hello: HelloMsg = {
    v: 3,
    type: 'hello',
    node: name(i),
    agentVersion: '0.1.0',
    hostname: `${name(i)}.maas`,
    icmp: 'available',
    interfaces: bindings.map((b, j) => ({ binding: b, address: addr(j, i), iface: `eth${j}`, mtu: j < 2 ? 9000 : 1500 })),
    responders: [],
    ...(values.links
      ? { links: simLinks({ name: name(i), addresses: Object.fromEntries(bindings.map((b, j) => [b, [addr(j, i)]])) }), lldp: 'ok' as const }
      : {}),
  };
  state.hello(hello);
  state.hello(hello); // again, as an agent does once its plan's responders are open (before that, rows toward it do not count)
  state.heartbeat({ v: 3, type: 'heartbeat', node: name(i), at: Date.now(), clock: { offsetMs: ((i % 21) - 10) / 4, rttMs: 0.3 } });
}
clockMs += 1000; // rounds must start after every peer's hello
for (let i = 0; i < N; i++) {
  const msg: ResultsMsg = { v: 3, type: 'results', node: name(i), round: 1, durationMs: 0, final: true, bindings: {} };
  for (const b of bindings) msg.bindings[b] = packRows(Array.from({ length: N - 1 }, (_, k) => row(b, i, k < i ? k : k + 1)));
  state.results(msg);
}
// Every agent heard from after its peers' rounds (so their port results count), then time stands still.
clockMs += 2000;
for (let i = 0; i < N; i++) state.heartbeat({ v: 3, type: 'heartbeat', node: name(i), at: clockMs });
const fedMs = performance.now() - t0;
const t1 = performance.now();
state.snapshot(); // findings and verdict: the state's part of building a report
const snapshotMs = performance.now() - t1;
const report = state.report('states');
const reportMs = performance.now() - t1;
const reportBytes = Buffer.byteLength(JSON.stringify(report));
const runsBytes = Buffer.byteLength(JSON.stringify(state.report('runs')));

console.log(
  `nodes ${N} x bindings ${bindings.length}: fed the state in ${(fedMs / 1000).toFixed(1)} s; report (states) built in ${reportMs.toFixed(0)} ms (findings and verdict ${snapshotMs.toFixed(0)} ms), ${(reportBytes / 2 ** 20).toFixed(1)} MiB JSON (?matrix=runs ${(runsBytes / 2 ** 10).toFixed(0)} KiB); findings ${report.findings.length}`,
);
const app = await buildServer({ state, token: 'bench', logLevel: 'warn' });
const url = await app.listen({ host: '127.0.0.1', port: 0 });
const browser = await launch();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// The report API over HTTP: after a change (snapshot rebuilt, report built and serialized) and unchanged (cached).
for (const matrix of ['states', 'runs']) {
  const cold: number[] = [];
  const warm: number[] = [];
  for (let r = 0; r < runs; r++) {
    for (const [changed, out] of [
      [true, cold],
      [false, warm],
    ] as const) {
      if (changed) state.changed();
      const h0 = performance.now();
      const res = await fetch(`${url}/api/v1/report?matrix=${matrix}`);
      await res.arrayBuffer();
      out.push(performance.now() - h0);
    }
  }
  console.log(
    `GET /api/v1/report?matrix=${matrix}: after a change median ${median(cold).toFixed(0)} ms, unchanged median ${median(warm).toFixed(0)} ms (${runs} each)`,
  );
}
const rows: { mode: string; firstRenderMs: number; renderMs: number; wallMs: number; heapMB: number; hoverMs: number; linksMs: number }[] = [];
try {
  for (let k = 0; k < 2 * runs; k++) {
    const mode = k % 2 === 0 ? 'unchanged' : 'changed';
    if (mode === 'changed') state.changed();
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Performance.enable');
    const w0 = performance.now();
    await page.goto(`${url}/`);
    await page.waitForSelector('body[data-rendered]', { timeout: 120_000 });
    const wallMs = performance.now() - w0;
    const [fetchedMs, firstRenderMs] = await page.evaluate(() =>
      ['pinger-report-fetched', 'pinger-first-render'].map((m) => performance.getEntriesByName(m)[0]!.startTime),
    );
    const renderMs = firstRenderMs! - fetchedMs!;
    // With link facts: when they show in the node table (fetched from /api/v1/links after the first render).
    let linksMs = Number.NaN;
    if (values.links) {
      await page.waitForFunction(() => performance.getEntriesByName('pinger-links-rendered').length > 0, null, { timeout: 120_000 });
      linksMs = await page.evaluate(() => performance.getEntriesByName('pinger-links-rendered')[0]!.startTime);
    }
    if (process.env.BENCH_DEBUG) {
      const fetches = await page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .filter((e) => e.name.includes('/api/v1/'))
          .map((e) => [e.name.replace(/^.*\/api/, '/api'), Math.round(e.startTime), Math.round(e.duration)]),
      );
      const parts = await page.evaluate(() => performance.getEntriesByType('measure').map((e) => [e.name, Math.round(e.duration)]));
      console.log(JSON.stringify({ fetchedMs, firstRenderMs, fetches, parts }));
    }
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const heapMB = metrics.find((m) => m.name === 'JSHeapUsedSize')!.value / 2 ** 20;
    // Hover a cell in the first matrix: the pointer to the pair's details on screen (60 ms of it is the debounce).
    const canvas = page.locator('section.binding canvas').first();
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const cs = Number(await canvas.getAttribute('data-cell'));
    const m = Number(await canvas.getAttribute('data-margin'));
    const col = Math.floor(N / 2);
    const h0 = performance.now();
    await page.mouse.move(box.x + m + (col + 0.5) * cs, box.y + m + 6.5 * cs);
    // At 1,000 nodes a cell is one pixel and the canvas sits at a fractional y: the pointer may land on a
    // neighbouring row, so wait for whichever pair's details (same column) rather than one exact row.
    await page.waitForFunction((to) => document.querySelector('#tooltip')?.getAttribute('data-pair')?.endsWith(`|${to}`), name(col));
    const hoverMs = performance.now() - h0;
    if (k === 0) await page.screenshot({ path: join(artifacts, `report-${N}-nodes.png`) }); // to look at, not timed
    rows.push({ mode, firstRenderMs: firstRenderMs!, renderMs, wallMs, heapMB, hoverMs, linksMs });
    await ctx.close();
  }
} finally {
  await browser.close();
  await app.close();
}

const f = (x: number, d = 0) => x.toFixed(d);
console.log(
  `run  state      first-render ms  of which rendering ms  goto->rendered ms  JS heap MiB  hover->details ms${values.links ? '  links shown ms' : ''}`,
);
rows.forEach((x, i) =>
  console.log(
    `${String(i + 1).padStart(3)}  ${x.mode.padEnd(9)}  ${f(x.firstRenderMs).padStart(15)}  ${f(x.renderMs).padStart(20)}  ${f(x.wallMs).padStart(17)}  ${f(x.heapMB, 1).padStart(11)}  ${f(x.hoverMs).padStart(17)}${values.links ? f(x.linksMs).padStart(16) : ''}`,
  ),
);
for (const mode of ['unchanged', 'changed']) {
  const sel = rows.filter((x) => x.mode === mode);
  const med = (k: 'firstRenderMs' | 'renderMs' | 'wallMs' | 'heapMB' | 'hoverMs' | 'linksMs', d = 0) => f(median(sel.map((x) => x[k])), d);
  console.log(
    `median of ${sel.length} (${mode === 'changed' ? 'right after a change' : 'state unchanged'}): first render ${med('firstRenderMs')} ms (rendering after the fetch ${med('renderMs')} ms); goto->rendered ${med('wallMs')} ms; JS heap ${med('heapMB', 1)} MiB; hover->details ${med('hoverMs')} ms${values.links ? `; link facts shown ${med('linksMs')} ms` : ''}`,
  );
}

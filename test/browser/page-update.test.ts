// The report page in Debian's Chromium against the real aggregator server (buildServer: HTTP, the live
// channel, ?matrix=runs), its state fed agent messages in-process: a live update repaints only the heatmap
// rows that changed, and the states' colours and words on the page are the ones the report carries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { CellStateInfo } from '../../aggregator/cell-states.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { buildServer } from '../../aggregator/server.js';
import { AggregatorState } from '../../aggregator/state.js';
import { requireEnv } from '../helpers/env.js';
import { helloFor, roundFor, synthInventory } from '../metrics/synth.js';
import { simLinks } from '../bench/fleet-lib.js';
import { launch } from './browser.js';

const N = 30;
const bindings = ['internal', 'public'];

const painted = (p: Page, b: string) =>
  p.locator(`section.binding[data-binding="${b}"] canvas`).evaluate((c) => ({ last: Number(c.dataset.paintedRows), total: Number(c.dataset.paintedTotal) }));

/** The colour painted in cell (i, j) of a binding's heatmap, as #rrggbb, read back from the canvas (clear of the grid and letter). */
function cellColour(p: Page, b: string, i: number, j: number): Promise<string> {
  return p.locator(`section.binding[data-binding="${b}"] canvas`).evaluate(
    (c, [i, j]) => {
      const cv = c as HTMLCanvasElement;
      const cs = Number(cv.dataset.cell);
      const m = Number(cv.dataset.margin);
      const dpr = cv.width / Number.parseFloat(cv.style.width);
      const d = cv.getContext('2d')!.getImageData(Math.round((m + j! * cs + 3) * dpr), Math.round((m + i! * cs + 3) * dpr), 1, 1).data;
      return `#${[d[0]!, d[1]!, d[2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
    },
    [i, j],
  );
}

test('the report page repaints only changed heatmap rows, in the states the report defines', async (t) => {
  if (!requireEnv(t, { commands: ['chromium'] })) return;
  const inv = synthInventory(N, bindings);
  const clock = { t: Date.now() };
  const state = new AggregatorState({ inventory: inv, profile: builtinProfile('demo'), now: () => clock.t });
  for (const n of inv.nodes) state.hello(helloFor(inv, n.name));
  clock.t += 1000; // rounds that begin after every peer's hello count
  for (const n of inv.nodes) state.results(roundFor(inv, n.name, 0));
  const app = await buildServer({ state, token: 'page-update', logLevel: 'warn' });
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    await app.close();
    state.close();
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const reportUrls: string[] = [];
  let linkFetches = 0;
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/report')) reportUrls.push(r.url());
    if (r.url().endsWith('/api/v1/links')) linkFetches++;
  });
  await page.goto(`${url}/`);
  await page.waitForSelector('body[data-rendered]');
  await page.waitForFunction(() => document.querySelector('#verdict')?.textContent === 'Ready');
  const report = (await (await fetch(`${url}/api/v1/report?matrix=runs`)).json()) as {
    cellStates: CellStateInfo[];
    bindings: { matrix: { runs: string[] } }[];
  };
  assert.equal(report.bindings[0]!.matrix.runs.length, N, 'run-length rows, one per node');

  await t.test('the first render paints every row of every heatmap', async () => {
    for (const b of bindings) assert.equal((await painted(page, b)).total, N, b);
  });

  await t.test('the legend shows each state with the label, code and colour the report gives', async () => {
    const items = await page
      .locator('#legend li')
      .evaluateAll((lis) => lis.map((li) => ({ text: li.textContent ?? '', colour: getComputedStyle(li.querySelector('.swatch')!).backgroundColor })));
    const shown = report.cellStates.filter((s) => s.name !== 'self');
    assert.equal(items.length, shown.length);
    const rgb = (hex: string) => `rgb(${[1, 3, 5].map((k) => Number.parseInt(hex.slice(k, k + 2), 16)).join(', ')})`;
    shown.forEach((s, k) => {
      assert.ok(items[k]!.text.startsWith(`${s.code} ${s.label}`), `${items[k]!.text} for ${s.name}`);
      assert.equal(items[k]!.colour, rgb(s.colour), s.name);
    });
  });

  await t.test('a port fault on one pair repaints that one row of that one binding, in the report colour', async () => {
    const before = { internal: await painted(page, 'internal'), public: await painted(page, 'public') };
    clock.t += 1000;
    state.results(roundFor(inv, 'node-5', 1, (b, _from, to) => (b === 'internal' && to === 'node-8' ? 'port' : undefined)));
    const port = report.cellStates.find((s) => s.name === 'port')!;
    await page.waitForFunction(
      (label) => document.querySelector('section.binding[data-binding="internal"] canvas')?.getAttribute('aria-label')?.includes(`1 ${label}`),
      port.label,
      { timeout: 15_000 },
    );
    const after = { internal: await painted(page, 'internal'), public: await painted(page, 'public') };
    assert.equal(after.internal.total - before.internal.total, 1, 'one row repainted on internal');
    assert.equal(after.public.total - before.public.total, 0, 'nothing repainted on public');
    assert.equal(await cellColour(page, 'internal', 4, 7), port.colour, 'node-5 -> node-8 in the port colour');
    assert.notEqual(await cellColour(page, 'internal', 4, 6), port.colour, 'its neighbour is not');
    assert.match(await page.locator('section.binding[data-binding="internal"] .counts').innerText(), new RegExp(`${port.label}: 1`));
  });

  await t.test("a node's link facts show in its row, fetched apart from the report, and follow its next hello", async () => {
    const self = inv.nodes.find((n) => n.name === 'node-3')!;
    const facts = simLinks(self);
    state.hello({ ...helloFor(inv, self.name), links: facts });
    const cell = page.locator('table.nodes tr[data-node="node-3"] td.links');
    await page.waitForFunction(() => document.querySelector('table.nodes tr[data-node="node-3"] td.links')?.textContent?.includes('bond 802.3ad'), null, {
      timeout: 15_000,
    });
    assert.match(await cell.innerText(), /internal: bond0\.100 bond 802\.3ad \(eno1 10G -> leaf-1 swp\d+; eno2 10G -> leaf-1 swp\d+\)/);
    // A member goes down: the next hello's facts reach the row without a reload.
    const down = structuredClone(facts);
    down[0]!.ports[1]!.mii = 'down';
    state.hello({ ...helloFor(inv, self.name), links: down });
    await page.waitForFunction(() => document.querySelector('table.nodes tr[data-node="node-3"] td.links b')?.textContent === 'down', null, {
      timeout: 15_000,
    });
    assert.ok(reportUrls.length > 0 && reportUrls.every((u) => u.includes('links=none')), `the page's report requests: ${reportUrls.slice(0, 3).join(', ')}`);
    assert.ok(linkFetches > 0, 'the link facts came from /api/v1/links');
  });

  await t.test('the page logged no errors', () => assert.deepEqual(errors, []));
});

// The report page in Debian's Chromium against a real aggregator fed by real agents on loopback:
// the verdict, a fault appearing and going away without a reload (live channel and polling fallback),
// a cell's hover details, keyboard use, and exports that parse. Screenshots: test/artifacts/report-*.png.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { requireEnv, isRoot } from '../helpers/env.js';
import { loopbackInventory, startCluster, type Cluster } from '../helpers/cluster.js';
import { pingerCmd, start } from '../helpers/procs.js';
import { artifacts, launch } from './browser.js';

const verdictOf = (p: Page) => p.locator('#verdict').innerText();

/** The page's own marker survives only if the page was never reloaded. */
async function mark(p: Page): Promise<void> {
  await p.evaluate(() => ((window as unknown as { pingerMark: number }).pingerMark = 42));
}
async function stillSamePage(p: Page): Promise<boolean> {
  return p.evaluate(() => (window as unknown as { pingerMark?: number }).pingerMark === 42);
}

/** Points at cell (row i, column j) of a binding's heatmap, from the geometry the canvas publishes. */
async function cellPoint(p: Page, binding: string, i: number, j: number): Promise<{ x: number; y: number }> {
  const canvas = p.locator(`section.binding[data-binding="${binding}"] canvas`);
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  const cell = Number(await canvas.getAttribute('data-cell'));
  const margin = Number(await canvas.getAttribute('data-margin'));
  assert.ok(cell >= 1, `cell size ${cell}`);
  return { x: box.x + margin + (j + 0.5) * cell, y: box.y + margin + (i + 0.5) * cell };
}

test('the readiness report in the browser', async (t) => {
  if (!requireEnv(t, { commands: ['chromium'] })) return;
  let c: Cluster | undefined;
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    await c?.close();
  });
  c = await startCluster(loopbackInventory(3, ['internal', 'shared-db']));
  browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const cl = c;

  await t.test('before any agent reports, the banner says whom it waits for', async () => {
    await page.goto(`${cl.url}/`);
    await page.waitForSelector('body[data-rendered]');
    assert.equal(await verdictOf(page), 'Waiting for 3 of 3 agents');
    assert.equal(await page.locator('#profile').innerText(), 'demo');
    // Agents still starting are waited for (the banner), not reported as a fault.
    assert.equal(await page.locator('article.finding[data-kind="agent-missing"]').count(), 0);
    await mark(page);
  });

  await t.test('agents start: the page turns Ready by itself, with no findings and every node listed', async () => {
    for (const n of cl.inventory.nodes) cl.startAgent(n.name);
    await cl.waitVerdict('ready');
    await page.waitForFunction(() => document.querySelector('#verdict')?.textContent === 'Ready', null, { timeout: 15_000 });
    assert.ok(await stillSamePage(page), 'the page was reloaded');
    assert.match((await page.locator('#banner').getAttribute('class')) ?? '', /v-ready/);
    assert.match(await page.locator('#findings-body').innerText(), /No findings/);
    assert.equal(await page.locator('article.finding').count(), 0);
    assert.equal(await page.locator('section.binding canvas').count(), 2);
    assert.equal(await page.locator('table.nodes tbody tr').count(), 3);
    const row = await page.locator('table.nodes tr[data-node="node-2"]').innerText();
    const addr = cl.inventory.nodes[1]!.addresses.internal![0]!;
    assert.ok(row.includes(addr) && row.includes('lo, MTU 65536') && row.includes('reporting'), row);
    // Ready can come while a pair held back from an early round is still '?': the next live update fills it.
    await page.waitForFunction(
      () => /: 6 pairs ok\. /.test(document.querySelector('section.binding[data-binding="internal"] canvas')?.getAttribute('aria-label') ?? ''),
      null,
      { timeout: 15_000 },
    );
    await page.waitForFunction(() => !document.querySelector('#bindings-body')?.textContent?.includes('no result yet'), null, { timeout: 15_000 });
    await page.screenshot({ path: join(artifacts, 'report-healthy.png'), fullPage: true });
  });

  await t.test('hovering a cell shows the pair: ICMP, each planned TCP port, MTU', async () => {
    const pair = await (await fetch(`${cl.url}/api/v1/pair?binding=internal&from=node-1&to=node-2`)).json();
    const { x, y } = await cellPoint(page, 'internal', 0, 1);
    await page.mouse.move(x, y);
    const tip = page.locator('#tooltip');
    await page.waitForFunction(() => document.querySelector('#tooltip')?.getAttribute('data-pair') === 'internal|node-1|node-2');
    const text = await tip.innerText();
    assert.match(text, /node-1 → node-2/);
    assert.match(text, /State\s+ok/);
    assert.ok(pair.expected.tcp.length > 0);
    for (const port of pair.expected.tcp as number[]) assert.match(text, new RegExp(`\\b${port} open`), text);
    assert.match(text, isRoot() ? /ICMP\s+loss 0%, RTT avg [\d.]+ ms/ : /ICMP\s+not measured/);
    assert.match(text, /MTU\s+/);
    await page.mouse.move(1, 1);
    await page.waitForSelector('#tooltip', { state: 'hidden' });
  });

  await t.test('clicking a row and the keyboard highlight a node; the focused pair is spelled out', async () => {
    const { x, y } = await cellPoint(page, 'shared-db', 1, 0);
    await page.mouse.click(x, y);
    assert.equal(await page.locator('table.nodes tr[data-node="node-2"]').getAttribute('class'), 'selected');
    assert.match(await page.locator('#selection').innerText(), /node-2/);
    const canvas = page.locator('section.binding[data-binding="internal"] canvas');
    await canvas.focus();
    await page.keyboard.press('ArrowRight'); // focus starts at node-1 -> node-2
    const focusText = page.locator('section.binding[data-binding="internal"] .focus-text');
    await page.waitForFunction(() =>
      /node-1 → node-3: State: ok/.test(document.querySelector('section.binding[data-binding="internal"] .focus-text')?.textContent ?? ''),
    );
    assert.match(await focusText.innerText(), /TCP: /);
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('table.nodes tr.selected').count(), 0);
  });

  await t.test('exports: JSON parses, the HTML is self-contained, the Markdown has the verdict', async () => {
    const get = async (name: string) => {
      const [dl] = await Promise.all([page.waitForEvent('download'), page.locator(`nav.exports a[href$="${name}"]`).click()]);
      return readFileSync((await dl.path())!, 'utf8');
    };
    const json = JSON.parse(await get('report.json'));
    assert.equal(json.verdict, 'ready');
    assert.deepEqual(
      json.bindings.map((b: { name: string }) => b.name),
      ['internal', 'shared-db'],
    );
    assert.equal(json.nodes.length, 3);
    const html = await get('report.html');
    assert.match(html, /<h1>Ready<\/h1>/);
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|<[^>]*\s(src|href)=|url\(/i, 'a ticket attachment must not load anything');
    const md = await get('report.md');
    assert.match(md, /^# Pinger readiness report: Ready/);
  });

  await t.test('a stopped agent shows up as a finding without a reload, and goes away when it is back', async () => {
    await cl.agents.get('node-3')!.stop();
    await page.waitForSelector('article.finding[data-kind="agent-missing"]', { timeout: 25_000 }); // after the 10 s grace (waited for until then)
    assert.ok(await stillSamePage(page), 'the page was reloaded');
    const r = await cl.report();
    assert.notEqual(await verdictOf(page), 'Ready');
    const finding = await page.locator('article.finding[data-kind="agent-missing"]').innerText();
    assert.match(finding, /node-3/);
    // Whatever the findings say, the page shows the same ones as the report.
    await page.waitForFunction((n) => document.querySelectorAll('article.finding').length === n, r.findings.length);
    for (const f of r.findings) assert.ok((await page.locator('#findings-body').innerText()).includes(f.summary), f.summary);
    assert.match(await page.locator('table.nodes tr[data-node="node-3"]').innerText(), /missing/);
    await page.screenshot({ path: join(artifacts, 'report-failing-missing.png'), fullPage: true });

    cl.startAgent('node-3');
    await page.waitForFunction(() => document.querySelector('#verdict')?.textContent === 'Ready', null, { timeout: 20_000 });
    assert.equal(await page.locator('article.finding').count(), 0);
    assert.ok(await stillSamePage(page), 'the page was reloaded');
  });

  await t.test('an agent that answers on no port: failed ports show in findings, cells and hover, then the repair', async (st) => {
    await cl.agents.get('node-3')!.stop();
    const [node, pre] = pingerCmd();
    const ws = `${cl.url.replace('http', 'ws')}/api/v1/agent`;
    const silent = start(node, [
      ...pre,
      'agent',
      '--inventory',
      cl.inventoryFile,
      '--node',
      'node-3',
      '--aggregator',
      ws,
      '--token-file',
      cl.tokenFile,
      '--plain',
      '--no-responders',
    ]);
    st.after(() => silent.stop());
    await cl.waitVerdict('not-ready');
    await page.waitForFunction(() => document.querySelector('#verdict')?.textContent === 'Not ready', null, { timeout: 15_000 });
    // Once the peers' rounds are in, the page shows the same findings as the report, whatever their kinds.
    // The failed ports count once node-3's agent has spoken since the peers' rounds began (a silent agent's
    // ports are not held against the network), so wait for a finding about node-3 with its evidence.
    let r = await cl.waitVerdict('not-ready');
    for (const end = Date.now() + 20_000; !r.findings.some((f) => f.nodes.includes('node-3') && f.evidence?.length) && Date.now() < end; ) {
      await new Promise((res) => setTimeout(res, 250));
      r = await cl.report();
    }
    await page.waitForFunction((n) => document.querySelectorAll('article.finding').length === n, r.findings.length, { timeout: 10_000 });
    for (const f of r.findings) assert.ok((await page.locator('#findings-body').innerText()).includes(f.summary), f.summary);
    assert.ok(
      r.findings.some((f) => f.nodes.includes('node-3')),
      JSON.stringify(r.findings),
    );
    assert.ok((await page.locator('article.finding table.evidence').count()) > 0, 'evidence pairs are shown');
    const col = r.bindings.find((b) => b.name === 'internal')!.matrix!.states[0]![2];
    assert.equal(col, 'p', 'node-1 -> node-3 has failed ports');
    const { x, y } = await cellPoint(page, 'internal', 0, 2);
    await page.mouse.move(x, y);
    await page.waitForFunction(() => document.querySelector('#tooltip')?.getAttribute('data-pair') === 'internal|node-1|node-3');
    const tip = await page.locator('#tooltip').innerText();
    assert.match(tip, /State\s+TCP port failed/);
    assert.match(tip, /\b5000 refused/, tip);
    // The text alternative sits in a closed <details>: its text, not its rendering.
    assert.match((await page.locator('section.binding[data-binding="internal"] details .pairs').textContent()) ?? '', /node-1 → node-3: TCP port failed/);
    await page.screenshot({ path: join(artifacts, 'report-failing-ports.png'), fullPage: true });
    await page.mouse.move(1, 1);
    await silent.stop();
    cl.startAgent('node-3');
    await page.waitForFunction(() => document.querySelector('#verdict')?.textContent === 'Ready', null, { timeout: 20_000 });
    assert.equal(await page.locator('article.finding').count(), 0);
    assert.ok(await stillSamePage(page), 'the page was reloaded');
  });

  await t.test('without EventSource the page polls and still follows a fault and its repair', async () => {
    const p2 = await browser!.newPage();
    await p2.addInitScript(() => {
      delete (window as unknown as { EventSource?: unknown }).EventSource;
    });
    await p2.goto(`${cl.url}/`);
    await p2.waitForSelector('body[data-rendered]');
    assert.equal(await p2.locator('#live').innerText(), 'live (polling)');
    // node-3 was restarted by the test before: its peers may still be re-probing it when this page loads.
    await p2.waitForFunction(() => document.querySelector('#verdict')?.textContent === 'Ready', null, { timeout: 20_000 });
    await mark(p2);
    await cl.agents.get('node-2')!.stop();
    await p2.waitForSelector('article.finding[data-kind="agent-missing"]', { timeout: 25_000 }); // after the 10 s grace (waited for until then)
    cl.startAgent('node-2');
    await p2.waitForFunction(() => document.querySelector('#verdict')?.textContent === 'Ready', null, { timeout: 20_000 });
    assert.ok(await stillSamePage(p2), 'the page was reloaded');
    await p2.close();
  });

  assert.deepEqual(errors, [], 'no script errors in the page');
});

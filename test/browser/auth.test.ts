// The report page with read auth on, over TLS, in Debian's Chromium: the browser is given the credentials
// once (as a person types them into the Basic prompt), and the page's own fetches and its EventSource
// carry them; without them the page is refused with a Basic challenge.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Browser } from 'playwright-core';
import { requireEnv } from '../helpers/env.js';
import { loopbackInventory, startCluster, type Cluster } from '../helpers/cluster.js';
import { launch } from './browser.js';

test('with a read token the page asks once, then works live', async (t) => {
  if (!requireEnv(t, { commands: ['chromium'] })) return;
  let c: Cluster | undefined;
  let browser: Browser | undefined;
  t.after(async () => {
    await browser?.close();
    await c?.close();
  });
  c = await startCluster(loopbackInventory(2, ['internal']), { tls: true, readToken: 'page-token' });
  browser = await launch();
  // The per-run CA is not in Chromium's store: certificate errors are ignored here; the agents' and
  // Prometheus' verification of it are tested elsewhere (security.test.ts, prometheus.test.ts).
  const anonymous = await browser.newContext({ ignoreHTTPSErrors: true });
  // Headless Chromium has no prompt to show: the challenge ends the navigation.
  await assert.rejects((await anonymous.newPage()).goto(`${c.url}/`), /ERR_INVALID_AUTH_CREDENTIALS/);
  const refused = await anonymous.request.get(`${c.url}/`);
  assert.equal(refused.status(), 401);
  assert.equal(refused.headers()['www-authenticate'], 'Basic realm="pinger", charset="UTF-8"');

  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, httpCredentials: { username: 'ops', password: 'page-token' } });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const statuses: number[] = [];
  page.on('response', (r) => statuses.push(r.status()));
  await page.goto(`${c.url}/`);
  await page.waitForSelector('body[data-rendered]');
  // No agent yet: waiting, or (on a loaded machine, past the 10 s grace) not ready.
  assert.match(await page.locator('#verdict').innerText(), /^(Waiting for 2 of 2 agents|Not ready)$/);
  for (const n of c.inventory.nodes) c.startAgent(n.name);
  // The verdict arrives through the live channel (EventSource) and the report fetches, both authenticated.
  await page.waitForFunction(() => document.querySelector('#verdict')?.textContent === 'Ready', null, { timeout: 30_000 });
  assert.equal(await page.locator('#live').innerText(), 'live');
  // Challenged once at most (Chromium asks before sending credentials), never after.
  assert.ok(statuses.filter((s) => s === 401).length <= 1, `401s: ${statuses.join(',')}`);
  assert.ok(statuses.filter((s) => s === 200).length >= 3, `200s: ${statuses.join(',')}`);
  assert.deepEqual(
    errors.filter((e) => !/401/.test(e)),
    [],
  );
});

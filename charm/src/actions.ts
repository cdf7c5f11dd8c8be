// The actions: get-report, run-check, stop-responders, start-responders.
import type { Report } from '../../aggregator/report.js';
import { fetchReport, requestRound } from './aggregator-client.js';
import { tools, type Databag } from './hook-tools.js';
import type { HookContext } from './handlers.js';
import { reconcile } from './handlers.js';

function aggregator(ctx: HookContext): { url: string; token: string } {
  const cfg = tools.configGet();
  if (cfg['aggregator-mode'] === 'external') return { url: String(cfg['external-aggregator-url']).replace(/\/$/, ''), token: String(cfg['external-aggregator-token']) };
  const rid = tools.relationIds(ctx.meta.peers)[0];
  const app: Databag = rid ? tools.relationGetApp(rid, ctx.app) : {};
  if (!app['aggregator-url'] || !app.token) throw new Error('no aggregator yet: the leader has not shared one (see juju status)');
  return { url: app['aggregator-url'], token: app.token };
}

export function reportText(r: Report): string {
  const lines = [`verdict: ${r.verdict}`, r.summary];
  for (const f of r.findings) {
    lines.push(`- [${f.severity}] ${f.kind}${f.binding ? ` (${f.binding})` : ''}: ${f.summary}`);
    if (f.hint) lines.push(`  hint: ${f.hint}`);
    for (const e of f.evidence ?? []) lines.push(`  ${e.from} -> ${e.to}: ${e.detail}`);
  }
  return lines.join('\n');
}

async function getReport(ctx: HookContext): Promise<void> {
  const { url } = aggregator(ctx);
  const r = await fetchReport(url, 10_000);
  if ('error' in r) throw new Error(`aggregator ${url}: ${r.error}`);
  const format = tools.actionGet().format === 'json' ? 'json' : 'text';
  tools.actionSet({ verdict: r.verdict, summary: r.summary, findings: String(r.findings.length), report: format === 'json' ? JSON.stringify(r) : reportText(r) });
}

/** A fresh round from every agent, then the verdict that follows from it (not the one from before). */
async function runCheck(ctx: HookContext): Promise<void> {
  const { url, token } = aggregator(ctx);
  const timeoutS = Number(tools.actionGet().timeout ?? 60);
  const before = await fetchReport(url, 10_000);
  if ('error' in before) throw new Error(`aggregator ${url}: ${before.error}`);
  const rounds = new Map(before.nodes.map((n) => [n.name, n.rounds]));
  const requested = await requestRound(url, token);
  tools.actionLog(`asked ${requested} agents for a round now`);
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const r = await fetchReport(url, 5000);
    if ('error' in r) continue;
    const fresh = r.nodes.filter((n) => n.state === 'reporting').every((n) => n.rounds > (rounds.get(n.name) ?? -1));
    if ((fresh && r.verdict !== 'pending') || Date.now() > deadline) {
      tools.actionSet({ verdict: r.verdict, summary: r.summary, fresh: String(fresh), report: reportText(r) });
      if (!fresh) tools.actionLog(`not every agent reported a new round within ${timeoutS} s`);
      return;
    }
  }
}

/** Responders are app-wide: the leader flips the flag in the app databag, every unit follows. */
async function setResponders(ctx: HookContext, on: boolean): Promise<void> {
  if (!tools.isLeader()) throw new Error(`run it on the leader: juju run ${ctx.app}/leader ${on ? 'start' : 'stop'}-responders`);
  const rid = tools.relationIds(ctx.meta.peers)[0];
  if (!rid) throw new Error('no peer relation yet');
  tools.relationSet(rid, { responders: on ? 'on' : 'off' }, true);
  await reconcile(ctx); // the leader's own agent at once; the others on the peer hook the change fires
  tools.actionSet({ responders: on ? 'on' : 'off', message: `every unit ${on ? 'answers on' : 'releases'} the profile's ports within its next hook` });
}

export const actions: Record<string, (ctx: HookContext) => Promise<void>> = {
  'get-report': getReport,
  'run-check': runCheck,
  'stop-responders': (ctx) => setResponders(ctx, false),
  'start-responders': (ctx) => setResponders(ctx, true),
};

// The actions: get-report, run-check, stop-responders, start-responders.
import type { Report } from '../../aggregator/report.js';
import { fetchReport, requestRound, type Access } from './aggregator-client.js';
import { hasSecrets } from './identity.js';
import { tools, type Databag } from './hook-tools.js';
import type { HookContext } from './handlers.js';
import { features, reconcile, rotateClusterSecret } from './handlers.js';

/** The aggregator's URL and what it takes to talk to it: the cluster secret (admin), the read token, the CA. */
function aggregator(ctx: HookContext): { url: string; token: string; access: Access } {
  const cfg = tools.configGet();
  if (cfg['aggregator-mode'] === 'external')
    return { url: String(cfg['external-aggregator-url']).replace(/\/$/, ''), token: String(cfg['external-aggregator-token']), access: {} };
  const rid = tools.relationIds(ctx.meta.peers)[0];
  const app: Databag = rid ? tools.relationGetApp(rid, ctx.app) : {};
  const url = app['aggregator-url'];
  let token = app.token;
  let read = app['read-token'];
  if (hasSecrets(ctx.env.JUJU_VERSION) && app['cluster-secret-id']) {
    // The application's secret: readable by every unit of the application (Juju's rule), managed by the leader.
    const c = tools.secretGet(app['cluster-secret-id']);
    token = c.secret;
    read = c['read-token'];
  }
  if (!url || !token) throw new Error('no aggregator yet: the leader has not shared one (see juju status)');
  const access: Access = {
    ...(read && features(ctx.charmDir).readAuth ? { readToken: read } : {}),
    ...(url.startsWith('https:') && app['ca-cert'] ? { ca: app['ca-cert'] } : {}),
  };
  return { url, token, access };
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
  const { url, access } = aggregator(ctx);
  const r = await fetchReport(url, 10_000, access);
  if ('error' in r) throw new Error(`aggregator ${url}: ${r.error}`);
  const format = tools.actionGet().format === 'json' ? 'json' : 'text';
  tools.actionSet({
    verdict: r.verdict,
    summary: r.summary,
    findings: String(r.findings.length),
    report: format === 'json' ? JSON.stringify(r) : reportText(r),
  });
}

/** A fresh round from every agent, then the verdict that follows from it (not the one from before). */
async function runCheck(ctx: HookContext): Promise<void> {
  const { url, token, access } = aggregator(ctx);
  const timeoutS = Number(tools.actionGet().timeout ?? 60);
  const before = await fetchReport(url, 10_000, access);
  if ('error' in before) throw new Error(`aggregator ${url}: ${before.error}`);
  const rounds = new Map(before.nodes.map((n) => [n.name, n.rounds]));
  const requested = await requestRound(url, token, 3000, access);
  tools.actionLog(`asked ${requested} agents for a round now`);
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const r = await fetchReport(url, 5000, access);
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

/** A new cluster secret and read token; every unit's credential follows through its secret-changed hook. */
async function rotateSecret(ctx: HookContext): Promise<void> {
  const where = rotateClusterSecret(ctx);
  await reconcile(ctx); // the leader's own credential secrets and aggregator at once; the units on secret-changed
  tools.actionSet({
    rotated: 'true',
    store: where === 'peer-databag' ? 'peer-databag' : 'juju-secret',
    message: 'agents restart once with their new credential as their units see it',
  });
}

export const actions: Record<string, (ctx: HookContext) => Promise<void>> = {
  'rotate-secret': rotateSecret,
  'get-report': getReport,
  'run-check': runCheck,
  'stop-responders': (ctx) => setResponders(ctx, false),
  'start-responders': (ctx) => setResponders(ctx, true),
};

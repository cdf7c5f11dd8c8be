// The hook handlers. Every lifecycle and peer hook converges on one reconcile: publish this unit's
// addresses, write the inventory from every peer's data, keep the services running as they should, and
// set the status. Running it twice changes nothing (hooks are retried, and may come in any order).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { inventoryToText } from '../../agent/contract/inventory.js';
import { readMtu } from '../../agent/interfaces.js';
import { builtinProfiles } from '../../aggregator/profile.js';
import { fetchReport } from './aggregator-client.js';
import { readMeta, type CharmMeta } from './charm-meta.js';
import { parseConfig, type CharmConfig } from './config.js';
import { buildInventory, fromDatabag, toDatabag, type InterfaceRow, type PeerRecord } from './discovery.js';
import { HookToolError, networkGet, tools, type Databag } from './hook-tools.js';
import { cosAgentBag, legacyPrometheusBag, loadAssets, scrapeAppBag, scrapeUnitBag, type Target } from './metrics.js';
import { parseNetworkGet } from './network.js';
import { profileOverrides } from './profile-file.js';
import { AGENT_SERVICE, AGGREGATOR_SERVICE, ensureService, paths, removeService, writeIfChanged, type Paths } from './services.js';
import { appStatus, unitStatus } from './status.js';

export interface HookContext {
  unit: string;
  app: string;
  hook: string;
  charmDir: string;
  meta: CharmMeta;
  paths: Paths;
  env: NodeJS.ProcessEnv;
}

export function context(env: NodeJS.ProcessEnv): HookContext {
  const unit = env.JUJU_UNIT_NAME;
  const charmDir = env.JUJU_CHARM_DIR ?? process.cwd();
  if (!unit) throw new Error('JUJU_UNIT_NAME is not set: dispatch runs under Juju (or the test simulator) only');
  const dispatch = env.JUJU_DISPATCH_PATH ?? '';
  return {
    unit,
    app: unit.split('/')[0]!,
    hook: dispatch.replace(/^(hooks|actions)\//, '') || env.JUJU_HOOK_NAME || '',
    charmDir,
    meta: readMeta(charmDir),
    paths: paths(charmDir),
    env,
  };
}

/** This unit's addresses on every probed binding, with the interface and its MTU; missing ones named. */
export function discoverSelf(ctx: HookContext, bindings: string[]): PeerRecord {
  const rec: PeerRecord = { unit: ctx.unit, hostname: hostname(), addresses: {}, interfaces: [], missing: [] };
  for (const b of bindings) {
    let text: string;
    try {
      text = networkGet(b);
    } catch (err) {
      // exit 1 "no network config found for binding": bound to a space this machine has no address in.
      if (err instanceof HookToolError && err.exitCode === 1) {
        tools.log('WARNING', `network-get ${b}: ${err.stderr.trim()}`);
        rec.missing.push(b);
        continue;
      }
      throw err;
    }
    const net = parseNetworkGet(b, text);
    if (net.addresses.length === 0) {
      rec.missing.push(b);
      continue;
    }
    rec.addresses[b] = net.addresses.map((a) => a.address);
    for (const a of net.addresses) {
      const row: InterfaceRow = { binding: b, address: a.address, iface: a.iface, mtu: a.iface ? readMtu(a.iface) : null };
      rec.interfaces.push(row);
    }
  }
  return rec;
}

function sameBag(current: Databag, wanted: Databag): boolean {
  return Object.entries(wanted).every(([k, v]) => (current[k] ?? '') === v);
}

/** relation-set only what changed: an unchanged write would wake every peer for nothing. */
function publish(rid: string, owner: string, wanted: Databag, app = false): void {
  const current = app ? tools.relationGetApp(rid, owner) : tools.relationGet(rid, owner);
  if (!sameBag(current, wanted)) tools.relationSet(rid, wanted, app);
}

/** The profile by name, or the charm's overrides as a profile file extending it (rewritten when changed). */
function profileArg(ctx: HookContext, cfg: CharmConfig): { arg: string; changed: boolean } {
  const text = profileOverrides(cfg, builtinProfiles[cfg.profile]!);
  if (!text) return { arg: cfg.profile, changed: false };
  return { arg: ctx.paths.profile, changed: writeIfChanged(ctx.paths.profile, text) };
}

const bracket = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

export async function reconcile(ctx: HookContext): Promise<void> {
  const parsed = parseConfig(tools.configGet(), { bindings: [...ctx.meta.endpoints], profiles: Object.keys(builtinProfiles) });
  if (!parsed.ok) {
    tools.statusSet('blocked', parsed.problem);
    return;
  }
  const cfg = parsed.config;
  // upgrade-charm replaced the code the services run: restart them even if nothing else changed.
  const upgraded = ctx.hook === 'upgrade-charm';
  const version = join(ctx.charmDir, 'version');
  if (existsSync(version)) tools.applicationVersionSet(readFileSync(version, 'utf8').trim());
  const probed = cfg.bindings.length ? cfg.bindings : ctx.meta.networks;
  const self = discoverSelf(ctx, probed);
  const rid = tools.relationIds(ctx.meta.peers)[0];
  const leader = tools.isLeader();

  // The leader owns the aggregator: its URL (on the aggregator binding) and the agents' token.
  let aggAddress: string | undefined;
  if (leader && cfg.aggregatorMode === 'leader') {
    aggAddress = parseNetworkGet(cfg.aggregatorBinding, networkGet(cfg.aggregatorBinding)).addresses[0]?.address;
  }
  let app: Databag = {};
  if (rid) {
    publish(rid, ctx.unit, toDatabag(self));
    app = tools.relationGetApp(rid, ctx.app);
    if (leader) {
      const wanted: Databag = {
        token: app.token || randomBytes(24).toString('base64url'),
        'aggregator-url': cfg.aggregatorMode === 'leader' && aggAddress ? `http://${bracket(aggAddress)}:${cfg.aggregatorPort}` : '',
        responders: app.responders || 'on',
      };
      publish(rid, ctx.app, wanted, true);
      app = { ...app, ...wanted };
    }
  }
  const url = cfg.aggregatorMode === 'external' ? cfg.externalUrl : app['aggregator-url'] || undefined;
  const token = cfg.aggregatorMode === 'external' ? cfg.externalToken : app.token || undefined;

  // Everyone's records (relation-list never includes this unit; a departing unit is already gone).
  const peers = rid ? tools.relationList(rid) : [];
  const records: PeerRecord[] = [self];
  for (const u of peers) {
    try {
      const r = fromDatabag(u, tools.relationGet(rid!, u));
      if (r) records.push(r);
    } catch (err) {
      tools.log('WARNING', `${(err as Error).message}; left out of the inventory`);
    }
  }
  const inventory = buildInventory(records.map((r) => ({ ...r, addresses: Object.fromEntries(Object.entries(r.addresses).filter(([b]) => probed.includes(b))) })));
  const invText = inventoryToText(inventory);
  const selfInInventory = inventory.nodes.some((n) => n.name === ctx.unit);

  // The agent: only once there is an aggregator to report to and this unit has addresses to probe from.
  if (url && token && selfInInventory) {
    const changed = [writeIfChanged(ctx.paths.inventory, invText), writeIfChanged(ctx.paths.token, `${token}\n`, 0o600)].some(Boolean);
    const ws = `${url.replace(/^http/, 'ws')}/api/v1/agent`;
    const args = ['agent', '--inventory', ctx.paths.inventory, '--node', ctx.unit, '--aggregator', ws, '--token-file', ctx.paths.token];
    if (app.responders === 'off') args.push('--no-responders');
    const r = ensureService(ctx.paths, { name: AGENT_SERVICE, description: `Pinger agent (${ctx.unit})`, args }, changed || upgraded);
    if (r !== 'unchanged') tools.log('INFO', `${AGENT_SERVICE} ${r}: ${inventory.nodes.length} nodes, aggregator ${url}`);
  }

  // The aggregator runs on the leader only; a unit that lost leadership stops its own.
  if (leader && cfg.aggregatorMode === 'leader' && aggAddress && token) {
    const profile = profileArg(ctx, cfg);
    const changed = [writeIfChanged(ctx.paths.aggregatorInventory, invText), writeIfChanged(ctx.paths.aggregatorToken, `${token}\n`, 0o600), profile.changed].some(Boolean);
    const listen = `${bracket(aggAddress)}:${cfg.aggregatorPort}`;
    const args = ['aggregator', '--listen', listen, '--inventory', ctx.paths.aggregatorInventory, '--token-file', ctx.paths.aggregatorToken, '--profile', profile.arg];
    const r = ensureService(ctx.paths, { name: AGGREGATOR_SERVICE, description: 'Pinger aggregator', args }, changed || upgraded);
    if (r !== 'unchanged') tools.log('INFO', `${AGGREGATOR_SERVICE} ${r} on ${url}`);
    tools.openPort(`${cfg.aggregatorPort}/tcp`);
  } else if (removeService(ctx.paths, AGGREGATOR_SERVICE)) {
    tools.log('INFO', `${AGGREGATOR_SERVICE} stopped: this unit is no longer the leader`);
  }

  publishMetrics(ctx, cfg, leader, aggAddress);

  // Status: this unit's view; the leader also the application's verdict.
  const goal = tools.goalState();
  const expected = Object.entries(goal.units ?? {}).filter(([u, s]) => u !== ctx.unit && s.status !== 'dying' && s.status !== 'dead').length;
  const report = url && selfInInventory ? await fetchReport(url) : undefined;
  const st = unitStatus({
    unit: ctx.unit,
    bindings: Object.keys(self.addresses).length,
    missing: self.missing,
    peersJoined: peers.length,
    peersExpected: expected,
    ...(url ? { aggregatorUrl: url } : {}),
    ...(report ? { report } : {}),
  });
  tools.statusSet(st.state, st.message);
  if (leader) {
    const a = appStatus(report, url);
    tools.statusSet(a.state, a.message, true);
  }
}

function publishMetrics(ctx: HookContext, cfg: CharmConfig, leader: boolean, aggAddress: string | undefined): void {
  const cos = tools.relationIds('cos-agent');
  const scrape = tools.relationIds('metrics-endpoint');
  const legacy = tools.relationIds('prometheus');
  if (!cos.length && !scrape.length && !legacy.length) return;
  const assets = loadAssets(join(ctx.charmDir, 'dashboards'));
  const t: Target = {
    ...(leader && aggAddress ? { address: aggAddress } : {}),
    port: cfg.aggregatorPort,
    unit: ctx.unit,
    app: ctx.app,
    model: ctx.env.JUJU_MODEL_NAME ?? '',
    modelUuid: ctx.env.JUJU_MODEL_UUID ?? '',
  };
  for (const r of cos) publish(r, ctx.unit, cosAgentBag(assets, t));
  for (const r of scrape) {
    publish(r, ctx.unit, scrapeUnitBag(t));
    if (leader) publish(r, ctx.app, scrapeAppBag(assets, t), true);
  }
  for (const r of legacy) publish(r, ctx.unit, legacyPrometheusBag(t));
}

/** stop / remove: the unit is leaving this machine; take the services and their files with it. */
export function teardown(ctx: HookContext): void {
  removeService(ctx.paths, AGENT_SERVICE);
  removeService(ctx.paths, AGGREGATOR_SERVICE);
}

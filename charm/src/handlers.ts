// size: the one reconcile and the hooks that call it read best as one file
// The hook handlers. Every lifecycle and peer hook converges on one reconcile: publish this unit's
// addresses, write the inventory from every peer's data, keep the services running as they should, and
// set the status. Running it twice changes nothing (hooks are retried, and may come in any order).
// Peers joining, leaving or moving only rewrite the inventory and `systemctl reload` the services (they
// re-read it in place, keeping every measurement); a restart happens only on install, upgrade, or a change
// a running process cannot take in (its flags, its secret, its certificate).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { inventoryToText } from '../../agent/contract/inventory-text.js';
import { readMtu } from '../../agent/interfaces.js';
import { BUILTIN } from '../../aggregator/profile-names.js';
import { fetchReport } from './aggregator-client.js';
import { readMeta, type CharmMeta } from './charm-meta.js';
import { hasOverrides, parseConfig, type CharmConfig } from './config.js';
import { buildInventory, fromDatabag, toDatabag, type InterfaceRow, type PeerRecord } from './discovery.js';
import { HookToolError, networkGet, tools, type Databag } from './hook-tools.js';
import { credentialLabel, freshSecret, hasSecrets, nodeCredential } from './identity.js';
import type { Target } from './metrics.js';
import { parseNetworkGet } from './network.js';
import { AGGREGATOR_NODE_FLAGS } from '../../aggregator/node-flags.js';
import { AGENT_SERVICE, AGGREGATOR_SERVICE, ensureService, paths, removeData, removeService, writeIfChanged, type Paths } from './services.js';
import { appStatus, unitStatus } from './status.js';
import { ensureServerCert, makeCa, type Ca } from './tls.js';

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

/**
 * Every peer's databag. A peer relation hook re-reads only its remote unit's: Juju runs -relation-changed on
 * this unit for every change of a peer's data, so the others are as fresh as the last hook left them (kept
 * in peers.json beside the inventory, addresses only). Any other hook re-reads them all. At 20 units this
 * saves ~18 relation-get calls in each of ~900 hooks.
 */
function peerBags(ctx: HookContext, rid: string, peers: string[]): Record<string, Databag> {
  const file = join(ctx.paths.data, 'peers.json');
  const peerHook = ctx.hook.startsWith(`${ctx.meta.peers}-relation-`) && ctx.env.JUJU_RELATION_ID === rid;
  let cached: Record<string, Databag> = {};
  if (peerHook && existsSync(file)) {
    try {
      cached = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Databag>;
    } catch {
      cached = {}; // unreadable: read every bag again
    }
  }
  const remote = ctx.env.JUJU_REMOTE_UNIT;
  const bags: Record<string, Databag> = {};
  for (const u of peers) bags[u] = u !== remote && cached[u] ? cached[u] : tools.relationGet(rid, u);
  writeIfChanged(file, JSON.stringify(bags), 0o600);
  return bags;
}

/** The profile by name, or the charm's overrides as a profile file extending it (rewritten when changed). */
async function profileArg(ctx: HookContext, cfg: CharmConfig): Promise<{ arg: string; changed: boolean }> {
  if (!hasOverrides(cfg)) return { arg: cfg.profile, changed: false };
  // Loaded only here: the profile parser and YAML cost every hook ~0.1 s of CPU.
  const [{ builtinProfiles }, { profileOverrides }] = await Promise.all([import('../../aggregator/profile.js'), import('./profile-file.js')]);
  const text = profileOverrides(cfg, builtinProfiles[cfg.profile]!);
  if (!text) return { arg: cfg.profile, changed: false };
  return { arg: ctx.paths.profile, changed: writeIfChanged(ctx.paths.profile, text) };
}

const bracket = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

/**
 * What the packed `pinger` command supports: TLS, per-node credentials and read auth arrived together
 * (issue 15); a charm packed with an older command keeps the shared token and plain HTTP rather than start
 * services with flags they would refuse.
 */
export function features(charmDir: string): { tls: boolean; credential: boolean; readAuth: boolean } {
  let text = '';
  for (const d of ['dist/agent', 'dist/aggregator', 'dist/aggregator/cli']) {
    const dir = join(charmDir, d);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.js')) text += readFileSync(join(dir, f), 'utf8');
  }
  return { tls: text.includes('tls-cert'), credential: text.includes('credential-file'), readAuth: text.includes('read-token-file') };
}

/** The cluster's secrets as the leader keeps them; non-leaders see only what is theirs. */
interface Secrets {
  /** The cluster secret (aggregator --token-file; admin routes): on the leader only (and every unit on Juju < 3.1). */
  cluster?: string;
  /** This unit's node credential (agent --credential-file). */
  credential?: string;
  /** Read token for the report, metrics and page (aggregator --read-token-file; the charm's own report reads). */
  read?: string;
  ca?: Ca;
  /** Where the secret lives, for the README's promise and the tests. */
  store: 'juju-secret' | 'peer-databag';
}

const CLUSTER_LABEL = 'pinger-cluster';

/**
 * Juju >= 3.1: one application-owned Juju secret holds the cluster secret, the read token and the CA
 * (label pinger-cluster; managed by the leader); each unit's node credential is a secret owned by the
 * leader unit and granted to that unit only (secret-grant -r <peers> --unit <unit>); their IDs are in the
 * app databag (IDs are not secret). Juju < 3.1 has no secrets: the values sit in the peer app databag.
 */
// size: the leader and non-leader, with and without Juju secrets, paths side by side
function secrets(
  ctx: HookContext,
  rid: string | undefined,
  leader: boolean,
  app: Databag,
  units: string[],
  clusterEverywhere: boolean,
): { s: Secrets; bag: Databag } {
  const bag: Databag = {};
  if (!rid) return { s: { store: 'peer-databag' }, bag };
  if (!hasSecrets(ctx.env.JUJU_VERSION)) {
    const token = app.token || (leader ? freshSecret() : '');
    const read = app['read-token'] || (leader ? freshSecret() : '');
    if (leader) Object.assign(bag, { token, 'read-token': read });
    return { s: { ...(token ? { cluster: token, credential: nodeCredential(token, ctx.unit) } : {}), ...(read ? { read } : {}), store: 'peer-databag' }, bag };
  }
  const tmp = join(ctx.paths.data, 'tmp');
  let id = app['cluster-secret-id'];
  let content: Record<string, string> | undefined;
  // Just rotated in this hook: use the new content (Juju may answer with the committed revision until then).
  if (id) content = rotated?.id === id ? rotated.content : tools.secretGet(id);
  if (leader && !id) {
    // First leader: make the cluster's secret and CA (the CA signs the aggregator's certificate).
    const ca = makeCa(ctx.paths.data, ctx.app);
    content = { secret: freshSecret(), 'read-token': freshSecret(), 'ca-key': ca.key, 'ca-cert': ca.cert };
    id = tools.secretAdd(content, { label: CLUSTER_LABEL, description: 'Pinger cluster secret, read token and CA' }, tmp);
    bag['cluster-secret-id'] = id;
  }
  const s: Secrets = { store: 'juju-secret', ...(content?.['read-token'] ? { read: content['read-token'] } : {}) };
  // A packed command without per-node credentials needs the cluster secret on every agent (as before).
  if (clusterEverywhere && content?.secret) s.cluster = content.secret;
  if (content?.['ca-key'] && content['ca-cert']) s.ca = { key: content['ca-key'], cert: content['ca-cert'] };
  if (leader && content?.secret) {
    s.cluster = content.secret;
    // One credential secret per unit, granted to that unit only; rewritten when the cluster secret rotates
    // (the app bag remembers which secret they were derived from, so a hook costs no secret-get per unit).
    const ids = JSON.parse(app['credential-ids'] || '{}') as Record<string, string>;
    const from = createHash('sha256').update(content.secret).digest('hex').slice(0, 16);
    const rotatedNow = app['credential-from'] !== from;
    const mine = app.leader === ctx.unit; // secrets of a former leader are owned by its unit: issue our own
    const next: Record<string, string> = {};
    for (const u of units) {
      const cred = { credential: nodeCredential(content.secret, u) };
      let cid = mine ? ids[u] : undefined;
      if (!cid) {
        cid = tools.secretAdd(cred, { label: credentialLabel(u), owner: 'unit', description: `Pinger node credential of ${u}` }, tmp);
        if (u !== ctx.unit) tools.secretGrant(cid, rid, u);
      } else if (rotatedNow) tools.secretSet(cid, cred, tmp);
      next[u] = cid;
    }
    // Departed units' credentials go with them.
    for (const [u, cid] of Object.entries(ids))
      if (mine && !next[u]) {
        try {
          tools.secretRemove(cid);
        } catch (err) {
          if (!(err instanceof HookToolError)) throw err;
        }
      }
    const text = JSON.stringify(next);
    if (text !== (app['credential-ids'] || '{}')) bag['credential-ids'] = text;
    if (rotatedNow) bag['credential-from'] = from;
    s.credential = nodeCredential(content.secret, ctx.unit);
  } else {
    const cid = (JSON.parse(app['credential-ids'] || '{}') as Record<string, string>)[ctx.unit];
    if (cid) {
      try {
        s.credential = tools.secretGet(cid).credential;
      } catch (err) {
        if (!(err instanceof HookToolError)) throw err;
        tools.log('WARNING', `node credential ${cid} not readable yet: ${err.stderr.trim()}`);
      }
    }
  }
  return { s, bag };
}

let rotated: { id: string; content: Record<string, string> } | undefined;

/** Rotation (the rotate-secret action, leader): a new cluster secret and read token; credentials follow. */
export function rotateClusterSecret(ctx: HookContext): string {
  const rid = tools.relationIds(ctx.meta.peers)[0];
  if (!rid) throw new Error('no peer relation yet');
  if (!tools.isLeader()) throw new Error(`run it on the leader: juju run ${ctx.app}/leader rotate-secret`);
  const app = tools.relationGetApp(rid, ctx.app);
  if (!hasSecrets(ctx.env.JUJU_VERSION)) {
    tools.relationSet(rid, { token: freshSecret(), 'read-token': freshSecret() }, true);
    return 'peer-databag';
  }
  const id = app['cluster-secret-id'];
  if (!id) throw new Error('no cluster secret yet: wait for the leader to settle (juju status)');
  const content = { ...tools.secretGet(id), secret: freshSecret(), 'read-token': freshSecret() };
  tools.secretSet(id, content, join(ctx.paths.data, 'tmp'));
  rotated = { id, content };
  return id;
}

// size: the hook's steps in order, each over the one hook context
export async function reconcile(ctx: HookContext): Promise<void> {
  const installing = ctx.hook === 'install';
  // upgrade-charm replaced the code the services run: restart them even if nothing else changed.
  const upgraded = ctx.hook === 'upgrade-charm';
  if (installing || upgraded)
    tools.statusSet('maintenance', installing ? 'installing: writing the pinger services' : 'upgrading: restarting the pinger services on the new code');
  const parsed = parseConfig(tools.configGet(), { bindings: [...ctx.meta.endpoints], profiles: [...BUILTIN] });
  if (!parsed.ok) {
    tools.statusSet('blocked', parsed.problem);
    return;
  }
  const cfg = parsed.config;
  const version = join(ctx.charmDir, 'version');
  // The workload version changes only with the charm: set it when the code arrives, not on every hook.
  if ((installing || upgraded || ctx.hook === 'start') && existsSync(version)) tools.applicationVersionSet(readFileSync(version, 'utf8').trim());
  const probed = cfg.bindings.length ? cfg.bindings : ctx.meta.networks;
  const self = discoverSelf(ctx, probed);
  const rid = tools.relationIds(ctx.meta.peers)[0];
  const leader = tools.isLeader();
  const can = features(ctx.charmDir);

  // The leader owns the aggregator: its addresses (on the aggregator binding), secrets and CA.
  let aggAddresses: string[] = [];
  if (leader && cfg.aggregatorMode === 'leader') {
    aggAddresses = parseNetworkGet(cfg.aggregatorBinding, networkGet(cfg.aggregatorBinding)).addresses.map((a) => a.address);
  }
  const aggAddress = aggAddresses[0];
  // Everyone's records (relation-list never includes this unit; a departing unit is already gone).
  const peers = rid ? tools.relationList(rid) : [];
  let app: Databag = {};
  let sec: Secrets = { store: 'peer-databag' };
  if (rid) {
    publish(rid, ctx.unit, toDatabag(self));
    app = tools.relationGetApp(rid, ctx.app);
    const got = secrets(ctx, rid, leader, app, [ctx.unit, ...peers], !can.credential);
    sec = got.s;
    if (leader) {
      const scheme = can.tls && sec.ca ? 'https' : 'http';
      const wanted: Databag = {
        ...got.bag,
        'aggregator-url': cfg.aggregatorMode === 'leader' && aggAddress ? `${scheme}://${bracket(aggAddress)}:${cfg.aggregatorPort}` : '',
        'ca-cert': sec.ca?.cert ?? '',
        leader: ctx.unit,
        responders: app.responders || 'on',
      };
      publish(rid, ctx.app, wanted, true);
      app = { ...app, ...wanted };
    }
  }
  const url = cfg.aggregatorMode === 'external' ? cfg.externalUrl : app['aggregator-url'] || undefined;
  const external = cfg.aggregatorMode === 'external';
  const records: PeerRecord[] = [self];
  const bags = rid ? peerBags(ctx, rid, peers) : {};
  for (const u of peers) {
    try {
      const r = fromDatabag(u, bags[u]!);
      if (r) records.push(r);
    } catch (err) {
      tools.log('WARNING', `${(err as Error).message}; left out of the inventory`);
    }
  }
  const inventory = buildInventory(
    records.map((r) => ({ ...r, addresses: Object.fromEntries(Object.entries(r.addresses).filter(([b]) => probed.includes(b))) })),
  );
  const invText = inventoryToText(inventory);
  const selfInInventory = inventory.nodes.some((n) => n.name === ctx.unit);
  const p = ctx.paths;
  const tlsOn = can.tls && !external && url?.startsWith('https:') && !!app['ca-cert'];

  // The agent: only once there is an aggregator to report to and this unit has addresses to probe from.
  const agentSecret = external ? cfg.externalToken : can.credential ? sec.credential : (sec.cluster ?? sec.credential);
  if (url && agentSecret && selfInInventory) {
    // Inputs read only at start (the credential, the CA) restart the agent; the inventory is reloaded.
    const restart = [
      writeIfChanged(can.credential && !external ? p.credential : p.token, `${agentSecret}\n`, 0o600),
      tlsOn ? writeIfChanged(p.caFile, app['ca-cert']!) : false,
    ].some(Boolean);
    const reload = writeIfChanged(p.inventory, invText);
    const ws = `${url.replace(/^http/, 'ws')}/api/v1/agent`;
    const args = ['agent', '--inventory', p.inventory, '--node', ctx.unit, '--aggregator', ws];
    args.push(...(can.credential && !external ? ['--credential-file', p.credential] : ['--token-file', p.token]));
    if (tlsOn) args.push('--ca-file', p.caFile);
    else if (can.tls && ws.startsWith('ws://')) args.push('--plain'); // plain only when asked for (external http://)
    if (app.responders === 'off') args.push('--no-responders');
    const r = ensureService(p, { name: AGENT_SERVICE, description: `Pinger agent (${ctx.unit})`, args }, { restart: restart || upgraded, reload });
    if (r !== 'unchanged') tools.log('INFO', `${AGENT_SERVICE} ${r}: ${inventory.nodes.length} nodes, aggregator ${url}`);
  }

  // The aggregator runs on the leader only; a unit that lost leadership stops its own and closes its port.
  const state = tools.stateGet();
  const port = `${cfg.aggregatorPort}/tcp`;
  if (leader && !external && aggAddress && sec.cluster) {
    const profile = await profileArg(ctx, cfg);
    const restart = [
      writeIfChanged(p.aggregatorToken, `${sec.cluster}\n`, 0o600),
      can.readAuth && sec.read ? writeIfChanged(p.readToken, `${sec.read}\n`, 0o600) : false,
      tlsOn && sec.ca ? ensureServerCert(p.tls, sec.ca, aggAddresses) : false,
    ].some(Boolean);
    const reload = [writeIfChanged(p.aggregatorInventory, invText), profile.changed].some(Boolean);
    const listen = `${bracket(aggAddress)}:${cfg.aggregatorPort}`;
    const args = ['aggregator', '--listen', listen, '--inventory', p.aggregatorInventory, '--token-file', p.aggregatorToken, '--profile', profile.arg];
    if (tlsOn) args.push('--tls-cert', join(p.tls, 'aggregator.pem'), '--tls-key', join(p.tls, 'aggregator.key'));
    else if (can.tls) args.push('--plain');
    if (can.readAuth && sec.read) args.push('--read-token-file', p.readToken);
    const r = ensureService(
      p,
      { name: AGGREGATOR_SERVICE, description: 'Pinger aggregator', nodeFlags: AGGREGATOR_NODE_FLAGS, args },
      { restart: restart || upgraded, reload },
    );
    if (r !== 'unchanged') tools.log('INFO', `${AGGREGATOR_SERVICE} ${r} on ${url}`);
    if (state['aggregator-port'] && state['aggregator-port'] !== port) tools.closePort(state['aggregator-port']);
    tools.openPort(port);
    if (state['aggregator-port'] !== port) tools.stateSet({ 'aggregator-port': port });
  } else {
    if (removeService(p, AGGREGATOR_SERVICE)) tools.log('INFO', `${AGGREGATOR_SERVICE} stopped: this unit is no longer the leader`);
    if (state['aggregator-port']) {
      tools.closePort(state['aggregator-port']);
      tools.stateDelete('aggregator-port');
    }
  }

  await publishMetrics(ctx, cfg, leader, aggAddress, tlsOn ? 'https' : 'http', can.readAuth ? sec.read : undefined);

  // Status: this unit's view; the leader also the application's verdict.
  const goal = tools.goalState();
  const expected = Object.entries(goal.units ?? {}).filter(([u, s]) => u !== ctx.unit && s.status !== 'dying' && s.status !== 'dead').length;
  const auth = can.readAuth && sec.read ? { readToken: sec.read } : {};
  const report = url && selfInInventory ? await fetchReport(url, 3000, { ...auth, ...(tlsOn ? { ca: app['ca-cert']! } : {}) }) : undefined;
  const st = unitStatus({
    unit: ctx.unit,
    bindings: Object.keys(self.addresses).length,
    missing: self.missing,
    peersJoined: peers.length,
    peersExpected: expected,
    ...(app.leader ? { leader: app.leader } : {}),
    ...(url ? { aggregatorUrl: url } : {}),
    ...(report ? { report } : {}),
  });
  tools.statusSet(st.state, st.message);
  if (leader) {
    const a = appStatus(report, url);
    tools.statusSet(a.state, a.message, true);
  }
}

async function publishMetrics(
  ctx: HookContext,
  cfg: CharmConfig,
  leader: boolean,
  aggAddress: string | undefined,
  scheme: 'http' | 'https',
  readToken: string | undefined,
): Promise<void> {
  const cos = tools.relationIds('cos-agent');
  const scrape = tools.relationIds('metrics-endpoint');
  const legacy = tools.relationIds('prometheus');
  if (!cos.length && !scrape.length && !legacy.length) return;
  // Loaded only with a metrics relation (it brings the YAML parser).
  const { cosAgentBag, legacyPrometheusBag, loadAssets, scrapeAppBag, scrapeUnitBag } = await import('./metrics.js');
  const assets = loadAssets(join(ctx.charmDir, 'dashboards'));
  const t: Target = {
    ...(leader && aggAddress ? { address: aggAddress } : {}),
    port: cfg.aggregatorPort,
    unit: ctx.unit,
    app: ctx.app,
    model: ctx.env.JUJU_MODEL_NAME ?? '',
    modelUuid: ctx.env.JUJU_MODEL_UUID ?? '',
    scheme,
    ...(readToken ? { readToken } : {}),
  };
  for (const r of cos) publish(r, ctx.unit, cosAgentBag(assets, t));
  for (const r of scrape) {
    publish(r, ctx.unit, scrapeUnitBag(t));
    if (leader) publish(r, ctx.app, scrapeAppBag(assets, t), true);
  }
  for (const r of legacy) publish(r, ctx.unit, legacyPrometheusBag(t));
}

/** stop / remove: the unit is leaving this machine; take the services and every file of theirs with it. */
export function teardown(ctx: HookContext): void {
  removeService(ctx.paths, AGENT_SERVICE);
  removeService(ctx.paths, AGGREGATOR_SERVICE);
  // Tokens, credentials, certificates, inventories: nothing of the cluster stays on a machine it left.
  removeData(ctx.paths);
}

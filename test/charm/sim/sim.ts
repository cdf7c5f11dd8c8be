// The simulator's harness: a small model of a Juju deployment of the charm, an event queue, and hook runs
// exactly as Juju does them: `dispatch` with cwd = the charm dir and the JUJU_* variables, hook tools on
// PATH; relation-set/open-port/state-set committed only when the hook exits 0, and a committed databag
// change queues -relation-changed on the units that see the writer. As in Juju, one machine runs one hook at
// a time (each unit's in order); different machines' hooks run concurrently (SimOptions.concurrency at once).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { pack } from '../../../charm/pack.js';
import { repoRoot, transpileTree } from './build.js';
import { saveModel, type SimMachine, type SimModel, type SimRelation } from './model.js';
import { systemctl } from './systemctl.js';
import { runToolOn, type HookCtx } from './tools.js';

export const TOOLS = [
  'close-port',
  'secret-add',
  'secret-set',
  'secret-get',
  'secret-grant',
  'secret-remove',
  'network-get',
  'relation-ids',
  'relation-list',
  'relation-get',
  'relation-set',
  'status-set',
  'config-get',
  'is-leader',
  'goal-state',
  'juju-log',
  'application-version-set',
  'open-port',
  'state-get',
  'state-set',
  'state-delete',
  'action-get',
  'action-set',
  'action-fail',
  'action-log',
  'systemctl',
];

export interface SimOptions {
  /** Units Juju means to have (goal-state); they are added with addUnit(). */
  goal: number;
  spaces: Record<string, string[]>;
  bindings: Record<string, string>;
  /** Machine i (0-based); devices absent = read the real ones where the hook runs. */
  machine: (i: number) => Omit<SimMachine, 'id'>;
  config?: Record<string, string | number | boolean>;
  systemd: 'record' | 'run';
  networkGetFormat?: SimModel['networkGetFormat'];
  /** Run unit i's hooks (and so its services) in this network namespace. */
  netns?: (unit: string) => string | undefined;
  /** Hooks on different machines run at once (default 4); one machine's hooks never overlap (Juju's machine lock). */
  concurrency?: number;
}

export interface HookEvent {
  unit: string;
  hook: string;
  /** secret-changed / secret-rotate: JUJU_SECRET_ID and JUJU_SECRET_LABEL. */
  secretId?: string;
  secretLabel?: string;
  relId?: number;
  remote?: string;
  departing?: string;
}

export interface HookRun extends HookEvent {
  code: number;
  out: string;
  err: string;
  /** Wall time of the dispatch, ms. */
  ms: number;
}

export class Sim {
  readonly modelFile: string;
  readonly charmDir: string;
  readonly binDir: string;
  readonly queue: HookEvent[] = [];
  readonly runs: HookRun[] = [];
  private contexts = 0;
  private server: Server | undefined;
  readonly socket: string;
  /** The model, in memory (the hook tools read it ~25 times a hook); model.json is a copy for inspection. */
  private m: SimModel | undefined;
  /** The running hooks' contexts, by the key the tools send (PINGER_SIM_CONTEXT). */
  private readonly running = new Map<string, HookCtx>();
  /** Which tool client bin/ links to: the compiled C one, or client.pl where there is no C compiler. */
  toolClient = 'client.pl';

  private constructor(
    readonly dir: string,
    private readonly opts: SimOptions,
  ) {
    this.modelFile = join(dir, 'model.json');
    this.charmDir = join(dir, 'charm/pinger');
    this.binDir = join(dir, 'bin');
    this.socket = join(dir, 'tools.sock');
  }

  private systemctl(argv: string[], unit: string): { out: string; err: string; code: number } {
    const m = this.m!;
    const netns = m.machines[m.units[unit]!.machine]!.netns;
    const r = systemctl(argv, { root: this.root(unit), run: this.opts.systemd === 'run', ...(netns ? { netns } : {}) });
    return { out: r.out ? `${r.out}\n` : '', err: '', code: r.code };
  }

  /** The hook tools' other end: bin/<tool> (the C client, or client.pl) sends argv here; they work on the in-memory model. */
  private async listen(): Promise<void> {
    this.server = createServer((conn) => {
      const chunks: Buffer[] = [];
      conn.on('data', (d) => chunks.push(d));
      conn.on('end', () => {
        const [tool, key, stdin, ...argv] = Buffer.concat(chunks).toString('utf8').split('\0');
        const ctx = this.running.get(key ?? '');
        const r = !ctx
          ? { out: '', err: `ERROR ${tool}: not running in a hook context (no JUJU_CONTEXT_ID)\n`, code: 1 }
          : tool === 'systemctl'
            ? this.systemctl(argv, ctx.unit)
            : runToolOn(tool!, argv, stdin ?? '', this.m!, ctx);
        const out = Buffer.from(r.out);
        conn.end(Buffer.concat([Buffer.from(`${r.code} ${out.length}\n`), out, Buffer.from(r.err)]));
      });
      conn.on('error', () => {});
    });
    await new Promise<void>((r) => this.server!.listen(this.socket, r));
  }

  /** Compiles and stages the charm (runtime linked, not copied), writes the tools and the empty model. */
  static async create(opts: SimOptions): Promise<Sim> {
    const dir = join(repoRoot, 'test/artifacts', `charm-sim-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(dir, { recursive: true });
    const dist = join(dir, 'dist');
    transpileTree(dist);
    pack({ out: join(dir, 'charm'), dist, build: false, linkRuntime: true, zip: false });
    const sim = new Sim(dir, opts);
    mkdirSync(sim.binDir);
    // The C client when there is a compiler (cc, from .ci/setup's g++); else Perl's, ~20 ms a call slower.
    const cc = spawnSync('cc', ['-O2', '-o', join(sim.binDir, '.tool-client'), join(repoRoot, 'test/charm/sim/client.c')], { encoding: 'utf8' });
    const client = cc.status === 0 ? join(sim.binDir, '.tool-client') : join(repoRoot, 'test/charm/sim/client.pl');
    sim.toolClient = cc.status === 0 ? 'client.c' : 'client.pl';
    for (const t of TOOLS) symlinkSync(client, join(sim.binDir, t));
    await sim.listen();
    const meta = parse(readFileSync(join(sim.charmDir, 'metadata.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    const cfg = parse(readFileSync(join(sim.charmDir, 'config.yaml'), 'utf8')) as { options: Record<string, { default?: string | number | boolean }> };
    const acts = parse(readFileSync(join(sim.charmDir, 'actions.yaml'), 'utf8')) as Record<string, { params?: Record<string, { default?: unknown }> }>;
    const keys = (k: string) => Object.keys(meta[k] ?? {});
    const m: SimModel = {
      model: { name: 'openstack', uuid: '6f1b2a6c-0d1e-4c57-9c0a-5a1f0c1d2e3f', jujuVersion: opts.networkGetFormat === 'legacy-yaml' ? '2.8.11' : '3.6.1' },
      networkGetFormat: opts.networkGetFormat ?? 'json',
      app: 'pinger',
      charmDir: sim.charmDir,
      endpoints: [...keys('peers'), ...keys('provides'), ...keys('requires'), ...keys('extra-bindings'), 'juju-info'],
      peerEndpoint: keys('peers')[0]!,
      spaces: opts.spaces,
      bindings: opts.bindings,
      machines: {},
      units: {},
      goal: Array.from({ length: opts.goal }, (_, i) => `pinger/${i}`),
      config: opts.config ?? {},
      configDefaults: Object.fromEntries(
        Object.entries(cfg.options)
          .filter(([, o]) => o.default !== undefined)
          .map(([k, o]) => [k, o.default!]),
      ),
      actionDefaults: Object.fromEntries(
        Object.entries(acts).map(([a, s]) => [
          a,
          Object.fromEntries(
            Object.entries(s.params ?? {})
              .filter(([, p]) => p.default !== undefined)
              .map(([k, p]) => [k, p.default]),
          ),
        ]),
      ),
      relations: [{ id: 0, endpoint: keys('peers')[0]!, seen: {}, unitData: {}, appData: {} }],
      appStatus: { state: 'unknown', message: '' },
      appHistory: [],
      log: [],
    };
    sim.save(m);
    return sim;
  }

  /** A copy of the model (change it with update()). */
  model(): SimModel {
    return structuredClone(this.m!);
  }

  private save(m: SimModel): void {
    this.m = m;
    saveModel(this.modelFile, m);
  }

  update(fn: (m: SimModel) => void): void {
    const m = this.model();
    fn(m);
    this.save(m);
  }

  peers(m = this.model()): SimRelation {
    return m.relations.find((r) => r.endpoint === m.peerEndpoint)!;
  }

  root(unit: string): string {
    return join(this.dir, 'units', unit.replace('/', '-'));
  }

  private enqueue(e: HookEvent): void {
    const same = (q: HookEvent) => q.unit === e.unit && q.hook === e.hook && q.relId === e.relId && q.remote === e.remote;
    if (!this.queue.some(same)) this.queue.push(e);
  }

  /** A new unit on a new machine: its deploy hooks, then the peer joins both ways (as `juju add-unit`). */
  addUnit(): string {
    const m = this.model();
    const n = Object.keys(m.units).length === 0 ? 0 : Math.max(...Object.keys(m.units).map((u) => Number(u.split('/')[1]))) + 1;
    const unit = `pinger/${n}`;
    const machine = String(n);
    const ns = this.opts.netns?.(unit);
    m.machines[machine] = { id: machine, ...this.opts.machine(n), ...(ns ? { netns: ns } : {}) };
    const leader = !Object.values(m.units).some((u) => u.leader);
    m.units[unit] = { machine, leader, life: 'alive', status: { state: 'unknown', message: '' }, history: [], openPorts: [], state: {}, root: this.root(unit) };
    if (!m.goal.includes(unit)) m.goal.push(unit);
    const peers = this.peers(m);
    peers.seen[unit] = [];
    peers.unitData[unit] = {};
    this.save(m);
    const rel = { relId: peers.id };
    for (const hook of ['install', `${peers.endpoint}-relation-created`, leader ? 'leader-elected' : 'leader-settings-changed', 'config-changed', 'start']) {
      this.enqueue({ unit, hook, ...(hook.includes('relation') ? rel : {}) });
    }
    for (const other of Object.keys(m.units).filter((u) => u !== unit && m.units[u]!.life === 'alive')) {
      for (const [a, b] of [
        [other, unit],
        [unit, other],
      ] as const) {
        this.enqueue({ unit: a, hook: `${peers.endpoint}-relation-joined`, ...rel, remote: b });
        this.enqueue({ unit: a, hook: `${peers.endpoint}-relation-changed`, ...rel, remote: b });
      }
    }
    return unit;
  }

  /** `juju remove-unit`: the others see it depart; it stops and is removed; leadership moves if it led. */
  removeUnit(unit: string): void {
    this.update((m) => {
      m.units[unit]!.life = 'dying';
      m.goal = m.goal.filter((u) => u !== unit);
    });
    const peers = this.peers();
    for (const other of Object.keys(this.model().units).filter((u) => u !== unit)) {
      this.enqueue({ unit: other, hook: `${peers.endpoint}-relation-departed`, relId: peers.id, remote: unit, departing: unit });
    }
    this.enqueue({ unit, hook: 'stop' });
    this.enqueue({ unit, hook: 'remove' });
  }

  /** Leadership moves (e.g. the leader's machine went away): leader-elected there, settings-changed elsewhere. */
  setLeader(unit: string): void {
    this.update((m) => {
      for (const [u, s] of Object.entries(m.units)) s.leader = u === unit;
    });
    for (const u of Object.keys(this.model().units)) this.enqueue({ unit: u, hook: u === unit ? 'leader-elected' : 'leader-settings-changed' });
  }

  /** Anything that fires config-changed on every unit: `juju config`, or a machine's addresses changing. */
  configChanged(units = Object.keys(this.model().units)): void {
    for (const u of units) this.enqueue({ unit: u, hook: 'config-changed' });
  }

  updateStatus(): void {
    for (const [u, s] of Object.entries(this.model().units)) if (s.life === 'alive') this.enqueue({ unit: u, hook: 'update-status' });
  }

  /**
   * Runs queued hooks until none is left (bounded: a charm that keeps waking itself is a bug). As Juju's
   * agents do: hooks on one machine run one at a time (the machine lock), each unit's in the order they were
   * queued; hooks on different machines run concurrently (up to `concurrency`). The first failure stops the
   * run once the running hooks end.
   */
  async settle(max = 400): Promise<HookRun[]> {
    const done: HookRun[] = [];
    const busy = new Set<string>();
    const lock = (e: HookEvent) => this.m!.units[e.unit]?.machine ?? e.unit;
    const limit = Math.max(1, this.opts.concurrency ?? 4);
    let failure: Error | undefined;
    await new Promise<void>((resolve, reject) => {
      const pump = (): void => {
        if (failure) return void (busy.size === 0 && reject(failure));
        if (this.queue.length === 0) return void (busy.size === 0 && resolve());
        while (busy.size < limit) {
          const i = this.queue.findIndex((q) => !busy.has(lock(q)));
          if (i < 0) return;
          if (done.length + busy.size >= max) {
            failure = new Error(`hooks did not settle after ${max} runs; queue: ${JSON.stringify(this.queue.slice(0, 5))}`);
            return void (busy.size === 0 && reject(failure));
          }
          const e = this.queue.splice(i, 1)[0]!;
          const held = lock(e);
          busy.add(held);
          this.runHook(e).then(
            (r) => {
              busy.delete(held);
              done.push(r);
              if (r.code !== 0) failure ??= new Error(`hook ${e.hook} on ${e.unit} exited ${r.code}:\n${r.err}${r.out}`);
              pump();
            },
            (err: Error) => {
              busy.delete(held);
              failure ??= err;
              pump();
            },
          );
        }
      };
      pump();
    });
    return done;
  }

  /** A hook's context, live while it runs: the tools find it by this key. */
  private register(ctx: HookCtx): string {
    const key = `ctx-${this.running.size}-${++this.contexts}`;
    this.running.set(key, ctx);
    return key;
  }

  private env(unit: string, dispatchPath: string, ctxKey: string, extra: Record<string, string>): NodeJS.ProcessEnv {
    const m = this.model();
    return {
      PATH: `${this.binDir}:/usr/sbin:/usr/bin:/sbin:/bin`,
      JUJU_UNIT_NAME: unit,
      JUJU_CHARM_DIR: this.charmDir,
      JUJU_DISPATCH_PATH: dispatchPath,
      JUJU_MODEL_NAME: m.model.name,
      JUJU_MODEL_UUID: m.model.uuid,
      JUJU_MACHINE_ID: m.units[unit]!.machine,
      JUJU_AVAILABILITY_ZONE: 'default',
      JUJU_VERSION: m.model.jujuVersion,
      JUJU_CONTEXT_ID: `${unit}-${dispatchPath.replace('/', '-')}-${++this.contexts}`,
      JUJU_AGENT_SOCKET_ADDRESS: `@/var/lib/juju/agents/unit-${unit.replace('/', '-')}/agent.socket`,
      JUJU_AGENT_SOCKET_NETWORK: 'unix',
      PINGER_SIM_SOCKET: this.socket,
      PINGER_SIM_CONTEXT: ctxKey,
      PINGER_CHARM_ROOT: this.root(unit),
      ...extra,
    };
  }

  private async dispatch(unit: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
    const ns = this.opts.netns?.(unit);
    const [cmd, args] = ns ? ['ip', ['netns', 'exec', ns, join(this.charmDir, 'dispatch')]] : [join(this.charmDir, 'dispatch'), []];
    const child = spawn(cmd, args as string[], { cwd: this.charmDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
    return { code, out, err };
  }

  async runHook(e: HookEvent): Promise<HookRun> {
    const m = this.model();
    const rel = m.relations.find((r) => r.id === e.relId);
    // Scope changes happen as Juju runs the hook: a joined unit is listed from its -joined hook on, a
    // departing one no longer in its -departed hook.
    if (rel && e.remote && e.hook.endsWith('-relation-joined')) {
      const seen = (rel.seen[e.unit] ??= []);
      if (!seen.includes(e.remote)) seen.push(e.remote);
      this.save(m);
    }
    if (rel && e.departing && e.hook.endsWith('-relation-departed')) {
      rel.seen[e.unit] = (rel.seen[e.unit] ?? []).filter((u) => u !== e.departing);
      this.save(m);
    }
    const ctx: HookCtx = {
      unit: e.unit,
      ...(e.relId !== undefined ? { relationId: e.relId } : {}),
      ...(e.remote ? { remoteUnit: e.remote } : {}),
      ...(e.departing ? { departing: e.departing } : {}),
      pending: { units: {}, apps: {}, openPorts: [], state: {} },
    };
    const key = this.register(ctx);
    const relEnv: Record<string, string> = rel
      ? {
          JUJU_RELATION: rel.endpoint,
          JUJU_RELATION_ID: `${rel.endpoint}:${rel.id}`,
          JUJU_REMOTE_APP: rel.remoteApp ?? m.app,
          ...(e.remote ? { JUJU_REMOTE_UNIT: e.remote } : {}),
          ...(e.departing ? { JUJU_DEPARTING_UNIT: e.departing } : {}),
        }
      : {};
    const t0 = performance.now();
    const secEnv: Record<string, string> = e.secretId ? { JUJU_SECRET_ID: e.secretId, ...(e.secretLabel ? { JUJU_SECRET_LABEL: e.secretLabel } : {}) } : {};
    const r = await this.dispatch(e.unit, this.env(e.unit, `hooks/${e.hook}`, key, { JUJU_HOOK_NAME: e.hook, ...relEnv, ...secEnv }));
    const ms = performance.now() - t0;
    if (process.env.PINGER_SIM_TRACE)
      process.stderr.write(`sim: ${e.unit} ${e.hook}${e.remote ? ` (${e.remote})` : ''} exit ${r.code} in ${Math.round(ms)} ms\n`);
    this.running.delete(key);
    if (r.code === 0) this.commit(e.unit, ctx);
    if (r.code === 0 && e.hook === 'remove')
      this.update((mm) => {
        delete mm.units[e.unit];
        for (const rr of mm.relations) {
          delete rr.seen[e.unit];
          delete rr.unitData[e.unit];
        }
      });
    const run = { ...e, ...r, ms };
    this.runs.push(run);
    return run;
  }

  /** The hook succeeded: its relation, port and state changes take effect, and wake whoever sees them. */
  private commit(unit: string, ctx: HookCtx): void {
    const m = this.model();
    const u = m.units[unit];
    if (!u) return;
    for (const p of ctx.pending.openPorts) if (!u.openPorts.includes(p)) u.openPorts.push(p);
    u.openPorts = u.openPorts.filter((p) => !(ctx.pending.closePorts ?? []).includes(p));
    // Secrets: a new revision wakes every consumer with secret-changed (Juju runs it on units that track one).
    for (const [id, sec] of Object.entries(ctx.pending.secrets ?? {})) {
      const before = (m.secrets ??= {})[id];
      m.secrets[id] = sec;
      if (before && sec.revisions.length > before.revisions.length) {
        for (const c of Object.keys(sec.tracked))
          if (c !== unit && m.units[c]?.life === 'alive')
            this.enqueue({ unit: c, hook: 'secret-changed', secretId: id, ...(sec.label ? { secretLabel: sec.label } : {}) });
      }
    }
    for (const [k, v] of Object.entries(ctx.pending.state))
      if (v === null) delete u.state[k];
      else u.state[k] = v;
    const apply = (bag: Record<string, string>, kv: Record<string, string>): boolean => {
      let changed = false;
      for (const [k, v] of Object.entries(kv)) {
        if ((bag[k] ?? '') === v) continue;
        changed = true;
        if (v === '') delete bag[k];
        else bag[k] = v;
      }
      return changed;
    };
    const wake: HookEvent[] = [];
    for (const [rid, kv] of Object.entries(ctx.pending.units)) {
      const rel = m.relations.find((r) => `${r.endpoint}:${r.id}` === rid)!;
      if (!apply((rel.unitData[unit] ??= {}), kv) || rel.remoteApp) continue;
      for (const [other, seen] of Object.entries(rel.seen))
        if (other !== unit && seen.includes(unit)) wake.push({ unit: other, hook: `${rel.endpoint}-relation-changed`, relId: rel.id, remote: unit });
    }
    for (const [rid, kv] of Object.entries(ctx.pending.apps)) {
      const rel = m.relations.find((r) => `${r.endpoint}:${r.id}` === rid)!;
      if (!apply((rel.appData[m.app] ??= {}), kv) || rel.remoteApp) continue;
      for (const other of Object.keys(m.units))
        if (other !== unit && m.units[other]!.life === 'alive') wake.push({ unit: other, hook: `${rel.endpoint}-relation-changed`, relId: rel.id });
    }
    this.save(m);
    for (const w of wake) this.enqueue(w);
  }

  /** `juju run <unit> <action> key=value`: the action's results, failure message and log. */
  async runAction(
    unit: string,
    name: string,
    params: Record<string, unknown> = {},
  ): Promise<{ code: number; results: Record<string, string>; failed?: string; logs: string[]; err: string }> {
    const m = this.model();
    const ctx: HookCtx = {
      unit,
      pending: { units: {}, apps: {}, openPorts: [], state: {} },
      action: { name, params: { ...(m.actionDefaults[name] ?? {}), ...params }, results: {}, logs: [] },
    };
    const key = this.register(ctx);
    const r = await this.dispatch(
      unit,
      this.env(unit, `actions/${name}`, key, { JUJU_HOOK_NAME: '', JUJU_ACTION_NAME: name, JUJU_ACTION_UUID: `${++this.contexts}` }),
    );
    this.running.delete(key);
    const after = ctx;
    if (r.code === 0) this.commit(unit, after);
    return {
      code: r.code,
      results: after.action!.results,
      ...(after.action!.failed ? { failed: after.action!.failed } : {}),
      logs: after.action!.logs,
      err: r.err,
    };
  }

  /** Service state recorded by the fake systemctl for a unit. */
  service(unit: string, name: string): { enabled: boolean; active: boolean; pid?: number; starts: number; reloads?: number; file?: string } {
    const root = this.root(unit);
    const st = join(root, 'run/systemd-sim', `${name}.json`);
    const file = join(root, 'etc/systemd/system', `${name}.service`);
    const s = existsSync(st) ? JSON.parse(readFileSync(st, 'utf8')) : { enabled: false, active: false, starts: 0 };
    return { ...s, ...(existsSync(file) ? { file: readFileSync(file, 'utf8') } : {}) };
  }

  /** Stops every service process the fake systemctl started (by PID), then removes the run's folder. */
  async close(keep = false): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    const units = existsSync(join(this.dir, 'units')) ? readdirSync(join(this.dir, 'units')) : [];
    for (const u of units) {
      const d = join(this.dir, 'units', u, 'run/systemd-sim');
      if (!existsSync(d)) continue;
      for (const f of readdirSync(d).filter((f) => f.endsWith('.json'))) {
        const pid = (JSON.parse(readFileSync(join(d, f), 'utf8')) as { pid?: number }).pid;
        if (!pid) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

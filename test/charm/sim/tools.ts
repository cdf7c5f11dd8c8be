// The hook tools as Juju's: same flags, same JSON, exit 2 on usage errors and 1 otherwise, with
// `ERROR <message>` on stderr. Each tool works on the model and the running hook's context (the simulator
// keeps both in memory). relation-set, open-port and state-set go to the context's pending changes, which the
// harness commits only if the hook exits 0; status-set and juju-log take effect at once, as in Juju.
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { randomBytes } from 'node:crypto';
import { inCidr, realDevices, type SimDevice, type SimModel, type SimRelation, type SimSecret } from './model.js';

export interface HookCtx {
  unit: string;
  relationId?: number;
  remoteUnit?: string;
  departing?: string;
  pending: {
    units: Record<string, Record<string, string>>;
    apps: Record<string, Record<string, string>>;
    openPorts: string[];
    /** close-port requests, committed with the rest. */
    closePorts?: string[];
    state: Record<string, string | null>;
    /** Secrets created or changed by this hook (whole records), committed only if it exits 0, as in Juju. */
    secrets?: Record<string, SimSecret>;
  };
  action?: { name: string; params: Record<string, unknown>; results: Record<string, string>; failed?: string; logs: string[] };
}

export interface ToolResult {
  out: string;
  err: string;
  code: number;
}

class Usage extends Error {}
class Failure extends Error {}

interface Parsed {
  flags: Record<string, string | true>;
  args: string[];
}

/** Go-flag style parsing as Juju's cmd package does it: -r x, -r=x, --format=json, --format json. */
function flags(argv: string[], spec: Record<string, 'value' | 'bool'>): Parsed {
  const out: Parsed = { flags: {}, args: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.args.push(a);
      continue;
    }
    const [name, inline] = a.replace(/^--?/, '').split(/=(.*)/s) as [string, string | undefined];
    const kind = spec[name];
    if (!kind) throw new Usage(`flag provided but not defined: ${a.split('=')[0]}`);
    if (kind === 'bool') out.flags[name] = true;
    else {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Usage(`flag needs an argument: ${a}`);
      out.flags[name] = v;
    }
  }
  return out;
}

const fmt = { format: 'value', o: 'value', output: 'value' } as const;

function render(v: unknown, p: Parsed, smart: 'yaml' | 'plain' = 'yaml'): string {
  const f = (p.flags.format as string | undefined) ?? 'smart';
  if (f === 'json') return `${JSON.stringify(v)}\n`;
  if (f === 'yaml') return toYaml(v);
  if (f !== 'smart') throw new Usage(`invalid value "${f}" for option --format: unknown format "${f}"`);
  if (smart === 'plain' && (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number')) return `${String(v)}\n`;
  if (v === null || v === undefined) return '';
  if (Array.isArray(v) && smart === 'plain') return v.map(String).join('\n') + (v.length ? '\n' : '');
  return toYaml(v);
}

function relation(m: SimModel, ctx: HookCtx, r: string | true | undefined): SimRelation {
  if (r === undefined) {
    const cur = m.relations.find((x) => x.id === ctx.relationId);
    if (!cur) throw new Usage('no relation id specified');
    return cur;
  }
  const idS = String(r);
  const id = Number(idS.includes(':') ? idS.split(':')[1] : idS);
  const rel = m.relations.find((x) => x.id === id && (!idS.includes(':') || x.endpoint === idS.split(':')[0]));
  if (!rel) throw new Usage(`invalid value "${idS}" for option -r: relation not found`);
  return rel;
}

const rid = (rel: SimRelation) => `${rel.endpoint}:${rel.id}`;

function members(m: SimModel, rel: SimRelation): string[] {
  return rel.remoteApp ? (rel.remoteUnits ?? []) : Object.keys(m.units);
}

function readInput(file: string, stdin: string): string {
  return file === '-' ? stdin : readFileSync(file, 'utf8');
}

function keyValues(args: string[], file: string | undefined, stdin: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (file) {
    const doc = parseYaml(readInput(file, stdin)) as unknown;
    if (doc !== null && (typeof doc !== 'object' || Array.isArray(doc))) throw new Usage(`expected YAML map in ${file === '-' ? 'stdin' : file}`);
    for (const [k, v] of Object.entries((doc ?? {}) as Record<string, unknown>)) out[k] = v === null ? '' : String(v);
  }
  for (const a of args) {
    const i = a.indexOf('=');
    if (i <= 0) throw new Usage(`expected "key=value", got "${a}"`);
    out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

function networkDevices(m: SimModel, unit: string): SimDevice[] {
  const mach = m.machines[m.units[unit]!.machine]!;
  return mach.devices ?? realDevices(mach.netns);
}

type Tool = (argv: string[], m: SimModel, ctx: HookCtx, stdin: string) => string;

const statuses = ['maintenance', 'blocked', 'waiting', 'active'];

export const tools: Record<string, Tool> = {
  'network-get'(argv, m, ctx) {
    const legacy = m.networkGetFormat === 'legacy-yaml';
    const p = flags(argv, {
      ...(legacy ? { o: 'value', output: 'value' } : fmt),
      r: 'value',
      'primary-address': 'bool',
      'bind-address': 'bool',
      'ingress-address': 'bool',
      'egress-subnets': 'bool',
    });
    if (p.args.length === 0) throw new Usage('no arguments specified');
    if (p.args.length > 1) throw new Usage(`unrecognized args: ["${p.args.slice(1).join('" "')}"]`);
    if (p.flags['primary-address'] && Object.keys(p.flags).length > 1) throw new Usage('--primary-address must be the only flag specified');
    if (p.flags.r !== undefined) relation(m, ctx, p.flags.r);
    const binding = p.args[0]!;
    if (!m.endpoints.includes(binding)) throw new Failure(`binding name "${binding}" not defined by the unit's charm`);
    const space = m.bindings[binding] ?? m.bindings[''];
    const cidrs = space !== undefined ? (m.spaces[space] ?? []) : [];
    const nics = networkDevices(m, ctx.unit)
      .map((d) => ({ ...d, addresses: d.addresses.filter((a) => cidrs.some((c) => inCidr(a.value, c))) }))
      .filter((d) => d.addresses.length > 0);
    if (nics.length === 0) throw new Failure(`no network config found for binding "${binding}"`);
    const all = nics.flatMap((d) => d.addresses);
    if (p.flags['primary-address']) return `${all[0]!.value}\n`;
    const egress = all.map((a) => `${a.value}/${a.value.includes(':') ? 128 : 32}`);
    const ingress = all.map((a) => a.value);
    if (p.flags['bind-address']) return render(all[0]!.value, p, 'plain');
    if (p.flags['ingress-address']) return render(ingress[0], p, 'plain');
    if (p.flags['egress-subnets']) return render(egress.join(','), p, 'plain');
    if (legacy) {
      const doc = {
        'bind-addresses': nics.map((d) => ({
          macaddress: d.mac,
          interfacename: d.name,
          addresses: d.addresses.map((a) => ({ address: a.value, cidr: a.cidr })),
        })),
      };
      return toYaml(doc);
    }
    const json = (p.flags.format ?? 'smart') === 'json';
    const doc = {
      'bind-addresses': nics.map((d) => ({
        ...(json ? {} : { macaddress: d.mac, interfacename: d.name }),
        'mac-address': d.mac,
        'interface-name': d.name,
        addresses: d.addresses.map((a) => ({ hostname: '', ...(json ? {} : { address: a.value }), value: a.value, cidr: a.cidr })),
      })),
      'egress-subnets': egress,
      'ingress-addresses': ingress,
    };
    return render(doc, p);
  },

  'relation-ids'(argv, m, ctx) {
    const p = flags(argv, fmt);
    const cur = m.relations.find((x) => x.id === ctx.relationId);
    const name = p.args[0] ?? cur?.endpoint;
    if (!name) throw new Usage('no endpoint name specified');
    if (p.args.length > 1) throw new Usage(`unrecognized args: ["${p.args.slice(1).join('" "')}"]`);
    return render(m.relations.filter((r) => r.endpoint === name).map(rid), p, 'plain');
  },

  'relation-list'(argv, m, ctx) {
    const p = flags(argv, { ...fmt, r: 'value', app: 'bool' });
    const rel = relation(m, ctx, p.flags.r);
    if (p.flags.app) return render(rel.remoteApp ?? m.app, p, 'plain');
    return render([...(rel.seen[ctx.unit] ?? [])].sort(), p, 'plain');
  },

  'relation-get'(argv, m, ctx) {
    const p = flags(argv, { ...fmt, r: 'value', app: 'bool' });
    const rel = relation(m, ctx, p.flags.r);
    const key = p.args[0] ?? '-';
    let owner = p.args[1];
    if (owner === undefined) {
      if (p.flags.app) owner = rel.remoteApp ?? m.app;
      else if (ctx.remoteUnit && ctx.relationId === rel.id) owner = ctx.remoteUnit;
      else throw new Usage('no unit id specified');
    }
    let bag: Record<string, string>;
    if (p.flags.app) {
      if (owner !== m.app && owner !== rel.remoteApp) throw new Failure('permission denied');
      bag = { ...(rel.appData[owner] ?? {}), ...(owner === m.app ? (ctx.pending.apps[rid(rel)] ?? {}) : {}) };
    } else {
      const visible = owner === ctx.unit || (rel.seen[ctx.unit] ?? []).includes(owner) || owner === ctx.departing;
      if (!visible) throw new Failure('permission denied');
      bag = { ...(rel.unitData[owner] ?? {}), ...(owner === ctx.unit ? (ctx.pending.units[rid(rel)] ?? {}) : {}) };
    }
    bag = Object.fromEntries(Object.entries(bag).filter(([, v]) => v !== ''));
    return key === '-' ? render(bag, p) : render(bag[key] ?? null, p, 'plain');
  },

  'relation-set'(argv, m, ctx, stdin) {
    const p = flags(argv, { r: 'value', app: 'bool', file: 'value' });
    const rel = relation(m, ctx, p.flags.r);
    const kv = keyValues(p.args, p.flags.file as string | undefined, stdin);
    if (p.flags.app && !m.units[ctx.unit]!.leader) throw new Failure('cannot write relation settings: permission denied');
    const where = p.flags.app ? ctx.pending.apps : ctx.pending.units;
    Object.assign((where[rid(rel)] ??= {}), kv);
    return '';
  },

  'status-set'(argv, m, ctx) {
    const p = flags(argv, { application: 'bool' });
    const [state, ...msg] = p.args;
    if (!state) throw new Usage('invalid args, require <status> [message] [data]');
    if (!statuses.includes(state)) throw new Usage(`invalid status "${state}", expected one of [${statuses.join(' ')}]`);
    const s = { state, message: msg.join(' ') };
    if (p.flags.application) {
      if (!m.units[ctx.unit]!.leader) throw new Failure('setting application status: this unit is not the leader');
      m.appStatus = s;
      m.appHistory.push(`${state}: ${s.message}`);
    } else {
      m.units[ctx.unit]!.status = s;
      m.units[ctx.unit]!.history.push(`${state}: ${s.message}`);
    }
    return '';
  },

  'config-get'(argv, m) {
    const p = flags(argv, { ...fmt, all: 'bool', a: 'bool' });
    const cfg = { ...m.configDefaults, ...m.config };
    return p.args[0] ? render(cfg[p.args[0]] ?? null, p, 'plain') : render(cfg, p);
  },

  'is-leader'(argv, m, ctx) {
    const p = flags(argv, fmt);
    return render(m.units[ctx.unit]!.leader, p, 'plain');
  },

  'goal-state'(argv, m) {
    const p = flags(argv, fmt);
    const since = '2026-11-24 21:00:00Z';
    const units = Object.fromEntries(m.goal.map((u) => [u, { status: m.units[u] ? (m.units[u]!.life === 'dying' ? 'dying' : 'active') : 'waiting', since }]));
    const relations: Record<string, Record<string, { status: string; since: string }>> = {};
    for (const r of m.relations) {
      const names = r.remoteApp ? [r.remoteApp, ...(r.remoteUnits ?? [])] : m.goal;
      relations[r.endpoint] = Object.fromEntries(names.map((u) => [u, { status: 'joined', since }]));
    }
    return render({ units, relations }, p);
  },

  'juju-log'(argv, m, ctx) {
    const p = flags(argv, { 'log-level': 'value', l: 'value', debug: 'bool' });
    if (p.args.length === 0) throw new Usage('no message specified');
    const level = String(p.flags['log-level'] ?? p.flags.l ?? 'INFO').toUpperCase();
    m.log.push(`${ctx.unit} ${level} ${p.args.join(' ')}`);
    return '';
  },

  'application-version-set'(argv, m, ctx) {
    const p = flags(argv, {});
    if (p.args.length !== 1) throw new Usage('no version specified');
    m.units[ctx.unit]!.version = p.args[0]!;
    return '';
  },

  'open-port'(argv, _m, ctx) {
    const p = flags(argv, { endpoints: 'value' });
    const spec = p.args[0];
    if (!spec || p.args.length > 1) throw new Usage('no port or range specified');
    if (spec !== 'icmp' && !/^\d{1,5}(-\d{1,5})?(\/(tcp|udp))?$/.test(spec)) throw new Usage(`invalid port or range "${spec}"`);
    ctx.pending.openPorts.push(spec.includes('/') || spec === 'icmp' ? spec : `${spec}/tcp`);
    return '';
  },

  'close-port'(argv, _m, ctx) {
    const p = flags(argv, { endpoints: 'value' });
    const spec = p.args[0];
    if (!spec || p.args.length > 1) throw new Usage('no port or range specified');
    if (spec !== 'icmp' && !/^\d{1,5}(-\d{1,5})?(\/(tcp|udp))?$/.test(spec)) throw new Usage(`invalid port or range "${spec}"`);
    (ctx.pending.closePorts ??= []).push(spec.includes('/') || spec === 'icmp' ? spec : `${spec}/tcp`);
    return '';
  },

  // Secrets, as Juju 3.1+'s jujuc: secret-add/secret-set take key=value args or --file (a YAML map); keys
  // are lowercase words of 3+ characters; the new URI goes to stdout. An application-owned secret is managed
  // by the leader and readable by every unit of the application; a unit-owned one by its unit and the units
  // it was granted to (secret-grant -r <relation> --unit <unit>). Changes commit with the hook.
  'secret-add'(argv, m, ctx, stdin) {
    secretsSupported(m);
    const p = flags(argv, { label: 'value', description: 'value', file: 'value', owner: 'value', expire: 'value', rotate: 'value' });
    if (p.args.length === 0 && !p.flags.file) throw new Usage('missing secret value or filename');
    const owner = String(p.flags.owner ?? 'application');
    if (owner !== 'application' && owner !== 'unit') throw new Usage(`secret owner "${owner}" not valid`);
    if (owner === 'application' && !m.units[ctx.unit]!.leader) throw new Failure('permission denied');
    const content = secretContent(p, stdin);
    const label = p.flags.label as string | undefined;
    const ownerName = owner === 'application' ? 'application' : ctx.unit;
    if (label && Object.values(allSecrets(m, ctx)).some((x) => x.owner === ownerName && x.label === label))
      throw new Failure(`secret with label "${label}" already exists`);
    const id = `secret:${xid()}`;
    (ctx.pending.secrets ??= {})[id] = {
      id,
      owner: ownerName,
      ...(label ? { label } : {}),
      ...(p.flags.description ? { description: String(p.flags.description) } : {}),
      revisions: [content],
      grants: [],
      tracked: {},
    };
    return `${id}\n`;
  },

  'secret-set'(argv, m, ctx, stdin) {
    secretsSupported(m);
    const p = flags(argv, { label: 'value', description: 'value', file: 'value', owner: 'value', expire: 'value', rotate: 'value' });
    if (!p.args[0]) throw new Usage('missing secret URI');
    const sec = structuredClone(findSecret(m, ctx, p.args[0]));
    if (!canManage(m, ctx, sec)) throw new Failure('permission denied');
    if (p.args.length > 1 || p.flags.file) sec.revisions.push(secretContent({ ...p, args: p.args.slice(1) }, stdin));
    if (p.flags.label) sec.label = String(p.flags.label);
    if (p.flags.description) sec.description = String(p.flags.description);
    (ctx.pending.secrets ??= {})[sec.id] = sec;
    return '';
  },

  'secret-get'(argv, m, ctx) {
    secretsSupported(m);
    const p = flags(argv, { ...fmt, label: 'value', peek: 'bool', refresh: 'bool' });
    if (!p.args[0] && !p.flags.label) throw new Usage('require either a secret URI or label');
    if (p.flags.peek && p.flags.refresh) throw new Usage('specify one of --peek or --refresh but not both');
    if (p.args.length > 2) throw new Usage(`unrecognized args: ["${p.args.slice(2).join('" "')}"]`);
    const sec = p.args[0] ? findSecret(m, ctx, p.args[0]) : Object.values(allSecrets(m, ctx)).find((x) => x.label === p.flags.label && canRead(m, ctx, x));
    if (!sec) throw new Failure(`secret with label "${p.flags.label}" not found`);
    if (!canRead(m, ctx, sec)) throw new Failure('permission denied');
    const latest = sec.revisions.length;
    // Owners always see the latest revision; a consumer sees the one it tracks until it asks with --refresh.
    let rev = latest;
    if (!canManageOrOwn(m, ctx, sec)) {
      const tracked = sec.tracked[ctx.unit];
      if (tracked === undefined || p.flags.refresh) {
        const next = structuredClone(ctx.pending.secrets?.[sec.id] ?? sec);
        next.tracked[ctx.unit] = latest;
        (ctx.pending.secrets ??= {})[sec.id] = next;
      } else if (!p.flags.peek) rev = tracked;
    }
    const content = sec.revisions[rev - 1]!;
    const key = p.args[1];
    const f = (p.flags.format as string | undefined) ?? 'yaml';
    if (f !== 'yaml' && f !== 'json') throw new Usage(`invalid value "${f}" for option --format: unknown format "${f}"`);
    const v = key ? (content[key] ?? null) : content;
    return f === 'json' ? `${JSON.stringify(v)}\n` : toYaml(v);
  },

  'secret-grant'(argv, m, ctx) {
    secretsSupported(m);
    const p = flags(argv, { r: 'value', relation: 'value', unit: 'value' });
    if (!p.args[0]) throw new Usage('missing secret URI');
    const r = p.flags.r ?? p.flags.relation;
    if (r === undefined) throw new Usage('no relation id specified');
    const rel = relation(m, ctx, r);
    const app = rel.remoteApp ?? m.app;
    const unit = p.flags.unit as string | undefined;
    if (unit !== undefined && !/^[a-z][a-z0-9-]*\/\d+$/.test(unit)) throw new Usage(`unit "${unit}" not valid`);
    if (unit && unit.split('/')[0] !== app) throw new Usage(`cannot specify unit "${unit}" in relation to application "${app}"`);
    const sec = structuredClone(findSecret(m, ctx, p.args[0]));
    if (!canManage(m, ctx, sec)) throw new Failure('permission denied');
    const who = unit ? [unit] : rel.remoteApp ? (rel.remoteUnits ?? []) : Object.keys(m.units);
    for (const u of who) if (!sec.grants.includes(u)) sec.grants.push(u);
    (ctx.pending.secrets ??= {})[sec.id] = sec;
    return '';
  },

  'secret-remove'(argv, m, ctx) {
    secretsSupported(m);
    const p = flags(argv, { revision: 'value' });
    if (!p.args[0]) throw new Usage('missing secret URI');
    const sec = structuredClone(findSecret(m, ctx, p.args[0]));
    if (!canManage(m, ctx, sec)) throw new Failure('permission denied');
    sec.revisions = [];
    (ctx.pending.secrets ??= {})[sec.id] = sec;
    return '';
  },

  'state-get'(argv, m, ctx) {
    const p = flags(argv, { ...fmt, strict: 'bool' });
    const st = { ...m.units[ctx.unit]!.state };
    for (const [k, v] of Object.entries(ctx.pending.state))
      if (v === null) delete st[k];
      else st[k] = v;
    if (p.args[0]) {
      if (!(p.args[0] in st) && p.flags.strict) throw new Failure(`"${p.args[0]}" not found`);
      return render(st[p.args[0]] ?? null, p, 'plain');
    }
    return render(st, p);
  },

  'state-set'(argv, _m, ctx, stdin) {
    const p = flags(argv, { file: 'value' });
    Object.assign(ctx.pending.state, keyValues(p.args, p.flags.file as string | undefined, stdin));
    return '';
  },

  'state-delete'(argv, _m, ctx) {
    const p = flags(argv, {});
    if (!p.args[0]) throw new Usage('no key specified');
    ctx.pending.state[p.args[0]] = null;
    return '';
  },

  'action-get'(argv, _m, ctx) {
    const p = flags(argv, fmt);
    if (!ctx.action) throw new Failure('not running an action');
    if (p.args[0]) {
      let v: unknown = ctx.action.params;
      for (const k of p.args[0].split('.')) v = (v as Record<string, unknown> | undefined)?.[k];
      return render(v ?? null, p, 'plain');
    }
    return render(ctx.action.params, p);
  },

  'action-set'(argv, _m, ctx) {
    const p = flags(argv, {});
    if (!ctx.action) throw new Failure('not running an action');
    if (p.args.length === 0) throw new Usage('no key=value pairs specified');
    for (const a of p.args) {
      const i = a.indexOf('=');
      if (i <= 0) throw new Usage(`argument "${a}" must be of the form key...=value`);
      const key = a.slice(0, i);
      for (const part of key.split('.')) {
        if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(part))
          throw new Usage(`key "${part}" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods`);
      }
      if (['stdout', 'stderr', 'stdout-encoding', 'stderr-encoding'].includes(key)) throw new Usage(`cannot set reserved action key "${key}"`);
      ctx.action.results[key] = a.slice(i + 1);
    }
    return '';
  },

  'action-fail'(argv, _m, ctx) {
    const p = flags(argv, {});
    if (!ctx.action) throw new Failure('not running an action');
    ctx.action.failed = p.args.join(' ') || 'action failed without reason given, check action for errors';
    return '';
  },

  'action-log'(argv, _m, ctx) {
    const p = flags(argv, {});
    if (!ctx.action) throw new Failure('not running an action');
    if (p.args.length === 0) throw new Usage('no message specified');
    ctx.action.logs.push(p.args.join(' '));
    return '';
  },
};

function secretsSupported(m: SimModel): void {
  const [maj, min] = m.model.jujuVersion.split('.').map(Number) as [number, number];
  // Before 3.1 the tools do not exist: the shell answers, not Juju.
  if (maj < 3 || (maj === 3 && min < 1)) throw new Failure('command not found (secrets need Juju 3.1)');
}

/** The model's secrets with this hook's pending changes over them (a removed one, no revisions left, is gone). */
function allSecrets(m: SimModel, ctx: HookCtx): Record<string, SimSecret> {
  const all = { ...(m.secrets ?? {}), ...(ctx.pending.secrets ?? {}) };
  return Object.fromEntries(Object.entries(all).filter(([, s]) => s.revisions.length > 0));
}

function findSecret(m: SimModel, ctx: HookCtx, ref: string): SimSecret {
  if (!/^secret:[0-9a-v]{20}$/.test(ref) && !/^secret:\/\/[\w-]+\/[0-9a-v]{20}$/.test(ref)) throw new Usage(`secret URI "${ref}" not valid`);
  const id = `secret:${ref.slice(-20)}`;
  const sec = allSecrets(m, ctx)[id];
  if (!sec) throw new Failure(`secret "${ref.slice(-20)}" not found`);
  return sec;
}

const canManage = (m: SimModel, ctx: HookCtx, s: SimSecret) => (s.owner === 'application' ? m.units[ctx.unit]!.leader : s.owner === ctx.unit);
const canManageOrOwn = (m: SimModel, ctx: HookCtx, s: SimSecret) => canManage(m, ctx, s) || s.owner === 'application';
const canRead = (m: SimModel, ctx: HookCtx, s: SimSecret) => canManageOrOwn(m, ctx, s) || s.grants.includes(ctx.unit);

function secretContent(p: Parsed, stdin: string): Record<string, string> {
  const kv = keyValues(p.args, p.flags.file as string | undefined, stdin);
  if (Object.keys(kv).length === 0) throw new Failure('empty secret value not valid');
  for (const k of Object.keys(kv)) if (!/^[a-z](?:-?[a-z0-9]){2,}$/.test(k.replace(/#(base64|file)$/, ''))) throw new Usage(`key "${k}" not valid`);
  return kv;
}

/** Secret IDs are xids: 20 characters of base32hex, lowercase. */
function xid(): string {
  const a = '0123456789abcdefghijklmnopqrstuv';
  return [...randomBytes(20)].map((b) => a[b & 31]).join('');
}

/**
 * Runs one tool invocation against the model and the running hook's context, in place: the simulator keeps
 * both in memory (tools are called ~25 times per hook). A failing call leaves the context as it was; the
 * model is changed only by tools that validate everything first (status-set, juju-log, application-version-set).
 */
export function runToolOn(name: string, argv: string[], stdin: string, m: SimModel, ctx: HookCtx): ToolResult {
  const tool = tools[name];
  if (!tool) return { out: '', err: `ERROR unknown hook tool ${name}\n`, code: 1 };
  const pending = JSON.stringify(ctx.pending);
  const action = ctx.action ? JSON.stringify(ctx.action) : undefined;
  try {
    return { out: tool(argv, m, ctx, stdin), err: '', code: 0 };
  } catch (err) {
    ctx.pending = JSON.parse(pending) as HookCtx['pending'];
    if (action) ctx.action = JSON.parse(action) as HookCtx['action'];
    if (err instanceof Usage) return { out: '', err: `ERROR ${err.message}\n`, code: 2 };
    return { out: '', err: `ERROR ${(err as Error).message}\n`, code: 1 };
  }
}

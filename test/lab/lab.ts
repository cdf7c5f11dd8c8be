// The lab: N nodes x S spaces as network namespaces, one bridge per space in a separate "switch" namespace,
// a real aggregator (in the root namespace, on 127.0.0.1 for people and on a unix socket for the agents)
// and one real agent per node namespace. Faults (faults.ts) are injected and removed while it runs.
//
// Safety: nothing is created in the root namespace but the aggregator's sockets; addresses are
// 198.18.<space>.<host>/24 and 2001:db8:<space>::<host>/64 only; every namespace carries a per-run prefix
// and is deleted by its exact name; processes are killed by PID; teardown also runs on exit and on
// SIGINT/SIGTERM. Needs root (CAP_NET_ADMIN), `ip` (iproute2) and `nft` (nftables) for most faults.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeCredential } from '../../agent/credential.js';
import { inventoryToText, type Inventory } from '../../agent/contract/inventory.js';
import type { Report } from '../../aggregator/report.js';
import { start, type Started } from '../helpers/procs.js';
import { get, makeTls, type TlsFiles } from '../helpers/tls.js';
import { faultLabel, faultRefs, planFault, type Fault, type FaultPlan, type LabNames, type Step } from './faults.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export type Family = 'v4' | 'v6' | 'dual';

export interface SpaceSpec {
  name: string;
  family?: Family;
  mtu?: number;
}

export interface LabOptions {
  nodes: number;
  /** Space names (also the binding names), or specs with a family and an MTU. */
  spaces: (string | SpaceSpec)[];
  /** Aggregator profile: a built-in name or a file (default: demo, for its short interval). */
  profile?: string;
  /** Faults in place before the agents start (port-in-use must be; agent-missing means never started). */
  faults?: Fault[];
  /**
   * How agents and aggregator run: TypeScript through tsx (default), the compiled dist/ (faster start), or the
   * esbuild bundle in dist/bundle/ (`npm run bundle`: fastest start, ~40% less CPU than dist/ per agent).
   */
  runtime?: 'tsx' | 'dist' | 'bundle';
  /** Where people reach the report (default 127.0.0.1:0, a free port). */
  listen?: string;
  /** Start the agents in create() (default true); the benchmark starts them itself to time them. */
  startAgents?: boolean;
  /** Extra `pinger agent` flags for one node's agent (e.g. --lldp-socket), read when the agent starts. */
  agentArgs?: (node: string) => string[];
  /** Extra node flags for one node's agent, e.g. --cpu-prof to profile it (bundle/dist runtimes). */
  agentNodeArgs?: (node: string) => string[];
  log?: (msg: string) => void;
}

export interface ActiveFault {
  id: number;
  fault: Fault;
  plan: FaultPlan;
  occupier?: Started;
}

const MAX_NODES = 254;

const occupyScript = `my ($a, $p) = @ARGV; my $six = $a =~ /:/;
socket(my $s, $six ? AF_INET6 : AF_INET, SOCK_STREAM, 0) or die "socket: $!";
bind($s, $six ? pack_sockaddr_in6($p, inet_pton(AF_INET6, $a)) : pack_sockaddr_in($p, inet_pton(AF_INET, $a))) or die "bind $a port $p: $!";
$| = 1; print "occupied\\n"; sleep;`;
const MAX_SPACES = 200;

const labs = new Set<Lab>();
let hooked = false;

/** Tears every live lab down synchronously: on process exit, and on SIGINT/SIGTERM (then exits). */
function hookProcess(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const l of labs) l.downSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      // Someone else handles the signal (the people's CLI tears down in order): leave it to them; the exit
      // hook above is the backstop.
      if (process.listenerCount(sig) > 0) return;
      for (const l of labs) l.downSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

function sh(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}${input ? `\ninput:\n${input}` : ''}`);
  }
}

/**
 * Agents and the aggregator as the charm's systemd units run them, which pass on nothing from an operator's
 * shell. The lab keeps the rest (PATH for `ip`, tsx) and drops the one that costs: with NODE_EXTRA_CA_CERTS
 * set, every Node process reads and parses that CA bundle before its first line (~45 ms here, measured; see
 * BENCHMARKS.md), which 50 agents starting together on 2 cores would pay one after another.
 */
function unitEnv(): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
  return env;
}

/**
 * The lab's tools, installed when missing (as root, on Debian: what a fresh CI machine is), so the lab
 * works without `.ci/setup` too. Returns what is still missing.
 */
export function ensureTools(): string[] {
  const has = (c: string) => {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const pkgs: Record<string, string> = { ip: 'iproute2', nft: 'nftables', perl: 'perl-base' };
  const want = Object.keys(pkgs).filter((c) => !has(c));
  if (want.length && process.getuid?.() === 0 && has('apt-get')) {
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...want.map((c) => pkgs[c]!)], { stdio: 'ignore', env });
    } catch {
      // reported below as still missing
    }
  }
  return Object.keys(pkgs).filter((c) => !has(c));
}

export function runStep(s: Step): void {
  if (s.tool === 'ip') sh('ip', ['-n', s.ns, '-batch', '-'], s.script);
  else sh('ip', ['netns', 'exec', s.ns, 'nft', '-f', '-'], s.script);
}

function normSpace(s: string | SpaceSpec): Required<SpaceSpec> {
  const spec = typeof s === 'string' ? { name: s } : s;
  return { name: spec.name, family: spec.family ?? 'v4', mtu: spec.mtu ?? 1500 };
}

export class Lab {
  /** Short and unique per run: interface and namespace names stay well under the kernel's limits. */
  readonly prefix = `pl${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  readonly switchNs = `${this.prefix}-sw`;
  readonly nodes: string[];
  readonly spaces: Required<SpaceSpec>[];
  readonly dir: string;
  readonly inventory: Inventory;
  readonly inventoryFile: string;
  readonly tokenFile: string;
  /** The per-run CA and the aggregator's certificate: every agent connects over wss:// and verifies it. */
  tls: TlsFiles | undefined;
  readonly socket: string;
  url = '';
  aggregator: Started | undefined;
  readonly agents = new Map<string, Started>();
  readonly active: ActiveFault[] = [];
  /** When each agent process was spawned (ms since epoch), for timing. */
  readonly agentStartedAt = new Map<string, number>();
  private readonly namespaces: string[] = [];
  private readonly sysctlRestore: [string, string][] = [];
  private nextId = 1;
  private down_ = false;
  private readonly log: (msg: string) => void;

  private constructor(readonly opts: LabOptions) {
    this.log = opts.log ?? (() => {});
    if (!Number.isInteger(opts.nodes) || opts.nodes < 2 || opts.nodes > MAX_NODES) throw new Error(`lab: nodes must be 2..${MAX_NODES}, got ${opts.nodes}`);
    this.spaces = opts.spaces.map(normSpace);
    if (this.spaces.length < 1 || this.spaces.length > MAX_SPACES) throw new Error(`lab: spaces must be 1..${MAX_SPACES}`);
    const names = new Set<string>();
    for (const s of this.spaces) {
      if (!/^[a-z][a-z0-9-]*$/.test(s.name)) throw new Error(`lab: space name ${JSON.stringify(s.name)}: lower-case letters, digits and '-' only`);
      if (names.has(s.name)) throw new Error(`lab: space ${s.name} given twice`);
      if (!Number.isInteger(s.mtu) || s.mtu < 1280 || s.mtu > 9000) throw new Error(`lab: space ${s.name}: MTU must be 1280..9000`);
      names.add(s.name);
    }
    this.nodes = Array.from({ length: opts.nodes }, (_, i) => `node-${i + 1}`);
    this.dir = mkdtempSync(join(tmpdir(), `${this.prefix}-`));
    chmodSync(this.dir, 0o755);
    this.inventoryFile = join(this.dir, 'inventory.yaml');
    this.tokenFile = join(this.dir, 'token');
    this.socket = join(this.dir, 'agg.sock');
    this.inventory = {
      bindings: this.spaces.map((s) => s.name).sort(),
      spaces: {},
      nodes: this.nodes.map((name, i) => ({
        name,
        addresses: Object.fromEntries(this.spaces.map((s, j) => [s.name, this.addrs(j + 1, i + 1, s.family).map((a) => a.split('/')[0]!)])),
      })),
    };
  }

  /** Builds the networks, starts the aggregator and (unless told not to) the agents. Cleans up if any step fails. */
  static async create(opts: LabOptions): Promise<Lab> {
    const missing = ensureTools();
    if (missing.length) throw new Error(`lab: missing ${missing.join(', ')} (apt-get install iproute2 nftables, as root)`);
    const lab = new Lab(opts);
    labs.add(lab);
    hookProcess();
    try {
      lab.buildNetwork();
      writeFileSync(lab.inventoryFile, inventoryToText(lab.inventory), { mode: 0o644 });
      const secret = randomBytes(24).toString('base64');
      writeFileSync(lab.tokenFile, `${secret}\n`, { mode: 0o600 });
      // As an operator would: a CA made by the README's openssl commands, one credential file per node.
      lab.tls = makeTls(lab.dir);
      for (const n of lab.nodes) writeFileSync(lab.credentialFile(n), `${nodeCredential(secret, n)}\n`, { mode: 0o600 });
      await lab.startAggregator();
      for (const f of opts.faults ?? []) await lab.inject(f, { beforeAgents: true });
      if (opts.startAgents !== false) lab.startAgents();
      return lab;
    } catch (err) {
      await lab.down();
      throw err;
    }
  }

  // --- names --------------------------------------------------------------------------------------------

  nodeNs(node: string): string {
    const i = this.nodes.indexOf(node);
    if (i < 0) throw new Error(`lab: no node ${JSON.stringify(node)} (nodes: node-1..node-${this.nodes.length})`);
    return `${this.prefix}-n${i + 1}`;
  }

  private spaceIndex(space: string): number {
    const j = this.spaces.findIndex((s) => s.name === space);
    if (j < 0) throw new Error(`lab: no space ${JSON.stringify(space)} (spaces: ${this.spaces.map((s) => s.name).join(', ')})`);
    return j + 1;
  }

  readonly names: LabNames = {
    switchNs: this.switchNs,
    nodeNs: (node) => this.nodeNs(node),
    iface: (space) => `eth${this.spaceIndex(space)}`,
    port: (node, space) => `n${this.nodes.indexOf(node) + 1}s${this.spaceIndex(space)}`,
    bridge: (space) => `br${this.spaceIndex(space)}`,
    spaceMtu: (space) => this.spaces[this.spaceIndex(space) - 1]!.mtu,
    v6: (node, space) =>
      this.addrs(this.spaceIndex(space), this.nodes.indexOf(node) + 1, this.spaces[this.spaceIndex(space) - 1]!.family).filter((a) => a.includes(':')),
    v4: (node, space) =>
      this.addrs(this.spaceIndex(space), this.nodes.indexOf(node) + 1, this.spaces[this.spaceIndex(space) - 1]!.family).filter((a) => !a.includes(':')),
  };

  /** Addresses with prefix length for host h on space s (both 1-based). */
  private addrs(s: number, h: number, family: Family): string[] {
    const out: string[] = [];
    if (family !== 'v6') out.push(`198.18.${s}.${h}/24`);
    if (family !== 'v4') out.push(`2001:db8:${s.toString(16)}::${h.toString(16)}/64`);
    return out;
  }

  // --- network ------------------------------------------------------------------------------------------

  private buildNetwork(): void {
    const t0 = Date.now();
    const all = [this.switchNs, ...this.nodes.map((n) => this.nodeNs(n))];
    // Recorded before creation so that a half-built lab is still torn down completely.
    this.namespaces.push(...all);
    sh('ip', ['-batch', '-'], all.map((n) => `netns add ${n}`).join('\n') + '\n');
    this.raiseNeighbourLimits();
    const sw: string[] = ['link set lo up'];
    this.spaces.forEach((s, j) => {
      sw.push(`link add br${j + 1} type bridge`, `link set br${j + 1} mtu ${s.mtu}`);
    });
    this.nodes.forEach((node, i) => {
      this.spaces.forEach((s, j) => {
        const port = `n${i + 1}s${j + 1}`;
        sw.push(`link add ${port} mtu ${s.mtu} type veth peer name eth${j + 1} mtu ${s.mtu} netns ${this.nodeNs(node)}`);
        sw.push(`link set ${port} master br${j + 1}`, `link set ${port} up`);
      });
    });
    this.spaces.forEach((_, j) => sw.push(`link set br${j + 1} up`));
    sh('ip', ['-n', this.switchNs, '-batch', '-'], sw.join('\n') + '\n');
    this.nodes.forEach((node, i) => {
      const lines = ['link set lo up'];
      this.spaces.forEach((s, j) => {
        lines.push(`link set eth${j + 1} up`);
        // nodad: no 1-2 s of duplicate address detection before an IPv6 address can be used.
        for (const a of this.addrs(j + 1, i + 1, s.family)) lines.push(`addr add ${a} dev eth${j + 1}${a.includes(':') ? ' nodad' : ''}`);
      });
      sh('ip', ['-n', this.nodeNs(node), '-batch', '-'], lines.join('\n') + '\n');
    });
    this.log(`lab ${this.prefix}: ${this.nodes.length} nodes x ${this.spaces.length} spaces up in ${Date.now() - t0} ms`);
  }

  /**
   * The neighbour tables' limit (gc_thresh3, 1024 by default) is shared by all namespaces; a full mesh needs
   * N x (N-1) entries per space and family. Raised for big labs, restored on teardown.
   */
  private raiseNeighbourLimits(): void {
    const n = this.nodes.length;
    for (const fam of ['ipv4', 'ipv6'] as const) {
      const spaces = this.spaces.filter((s) => (fam === 'ipv4' ? s.family !== 'v6' : s.family !== 'v4')).length;
      const need = n * (n - 1) * spaces;
      const base = `/proc/sys/net/${fam}/neigh/default`;
      const t3 = Number(readFileSync(`${base}/gc_thresh3`, 'utf8'));
      if (need * 1.25 <= t3) continue;
      const want = Math.ceil(need * 2);
      for (const [f, v] of [
        ['gc_thresh2', Math.ceil(need * 1.5)],
        ['gc_thresh3', want],
      ] as const) {
        const file = `${base}/${f}`;
        this.sysctlRestore.push([file, readFileSync(file, 'utf8').trim()]);
        writeFileSync(file, `${v}\n`);
      }
      this.log(`lab ${this.prefix}: ${fam} neighbour table limit raised to ${want} (restored on teardown)`);
    }
  }

  // --- processes ----------------------------------------------------------------------------------------

  private pinger(nodeArgs: string[] = []): string[] {
    if (this.opts.runtime === 'dist' || this.opts.runtime === 'bundle') {
      const cli = join(repoRoot, this.opts.runtime === 'dist' ? 'dist/aggregator/cli/pinger.js' : 'dist/bundle/cli.js');
      if (!existsSync(cli)) throw new Error(`lab: ${cli} not found: run \`npm run ${this.opts.runtime === 'dist' ? 'build' : 'bundle'}\` first`);
      return [process.execPath, ...nodeArgs, cli];
    }
    return [process.execPath, '--import', 'tsx', join(repoRoot, 'aggregator/cli/pinger.ts')];
  }

  private async startAggregator(): Promise<void> {
    const [cmd, ...pre] = this.pinger();
    const args = [...pre, 'aggregator', '--listen', this.opts.listen ?? '127.0.0.1:0', '--listen', `unix:${this.socket}`];
    args.push('--inventory', this.inventoryFile, '--token-file', this.tokenFile, '--tls-cert', this.tls!.cert, '--tls-key', this.tls!.key);
    args.push('--profile', this.opts.profile ?? 'demo', '--log-level', 'warn');
    this.aggregator = start(cmd!, args, { cwd: repoRoot, env: unitEnv() });
    await this.aggregator.waitFor(/also listening on unix:/, 30_000);
    this.url = /listening on (https:\/\/\S+?);/.exec(this.aggregator.output())![1]!;
  }

  credentialFile(node: string): string {
    return join(this.dir, `${node}.cred`);
  }

  /** The agent's command line: run inside the node's namespace, connected over the unix socket. */
  agentArgv(node: string): string[] {
    return [
      'ip',
      'netns',
      'exec',
      this.nodeNs(node),
      ...this.pinger(this.opts.agentNodeArgs?.(node)),
      'agent',
      '--inventory',
      this.inventoryFile,
      '--node',
      node,
      '--aggregator',
      `wss+unix://${this.socket}:/api/v1/agent`,
      '--ca-file',
      this.tls!.ca,
      '--credential-file',
      this.credentialFile(node),
      '--quiet',
      ...(this.opts.agentArgs?.(node) ?? []),
    ];
  }

  /** Starts the agent of every node that has none and is not meant to be missing. */
  startAgents(): void {
    const missing = new Set(this.active.filter((a) => a.fault.kind === 'agent-missing').map((a) => (a.fault as { node: string }).node));
    for (const n of this.nodes) if (!this.agents.has(n) && !missing.has(n)) this.startAgent(n);
  }

  startAgent(node: string): Started {
    const [cmd, ...args] = this.agentArgv(node);
    // `ip netns exec` execs node in place: the PID we hold is the agent's.
    const p = start(cmd!, args, { cwd: repoRoot, env: unitEnv() });
    this.agents.set(node, p);
    this.agentStartedAt.set(node, Date.now());
    return p;
  }

  async stopAgent(node: string): Promise<void> {
    const p = this.agents.get(node);
    this.agents.delete(node);
    await p?.stop('SIGTERM');
  }

  // --- faults -------------------------------------------------------------------------------------------

  /** Injects a fault now. port-in-use on a running agent restarts that agent after taking its port. */
  async inject(fault: Fault, opts: { beforeAgents?: boolean } = {}): Promise<ActiveFault> {
    const refs = faultRefs(fault);
    refs.nodes.forEach((n) => this.nodeNs(n));
    refs.spaces.forEach((s) => this.spaceIndex(s));
    if (fault.kind === 'partition' && (fault.nodes.length === 0 || fault.nodes.length >= this.nodes.length)) {
      throw new Error(`lab: partition of ${fault.space} needs some but not all nodes on the second bridge`);
    }
    const id = this.nextId++;
    const plan = planFault(fault, this.names, `lab_${id}`);
    const a: ActiveFault = { id, fault, plan };
    for (const s of plan.apply) runStep(s);
    if (fault.kind === 'port-in-use') {
      const restart = !opts.beforeAgents && this.agents.has(fault.node);
      if (restart) await this.stopAgent(fault.node);
      a.occupier = await this.occupy(fault.node, fault.space, fault.port);
      if (restart) this.startAgent(fault.node);
    }
    if (fault.kind === 'agent-missing' && this.agents.has(fault.node)) await this.stopAgent(fault.node);
    if (fault.kind === 'agent-stopped') this.signalAgent(fault.node, 'SIGSTOP');
    this.active.push(a);
    this.log(`fault injected: ${faultLabel(fault)}`);
    return a;
  }

  /** Takes a fault away; the running agents and aggregator notice by themselves. */
  async remove(a: ActiveFault): Promise<void> {
    const i = this.active.indexOf(a);
    if (i < 0) return;
    this.active.splice(i, 1);
    for (const s of a.plan.remove) runStep(s);
    await a.occupier?.stop('SIGKILL');
    if (a.fault.kind === 'agent-missing' && !this.agents.has(a.fault.node)) this.startAgent(a.fault.node);
    if (a.fault.kind === 'agent-stopped') this.signalAgent(a.fault.node, 'SIGCONT');
    this.log(`fault removed: ${faultLabel(a.fault)}`);
  }

  /** Signals a node's agent by its PID (`ip netns exec` execs node in place: that PID is the agent). */
  private signalAgent(node: string, sig: 'SIGSTOP' | 'SIGCONT'): void {
    const pid = this.agents.get(node)?.child.pid;
    if (!pid) throw new Error(`lab: ${node} has no running agent to ${sig}`);
    process.kill(pid, sig);
  }

  /**
   * Another process holding the node's address and port inside its namespace: bound, not listening, so the
   * agent's responder cannot take the port and peers are refused. Perl because Node cannot bind a TCP
   * socket without listening, and perl-base is on every Debian system.
   */
  private async occupy(node: string, space: string, port: number): Promise<Started> {
    const addr = this.inventory.nodes.find((n) => n.name === node)!.addresses[space]![0]!;
    const p = start('ip', ['netns', 'exec', this.nodeNs(node), 'perl', '-MSocket=:all', '-e', occupyScript, addr, String(port)], { cwd: repoRoot });
    await p.waitFor(/occupied/, 10_000);
    return p;
  }

  // --- reading the report ---------------------------------------------------------------------------------

  async report(q = ''): Promise<Report> {
    const r = await get(`${this.url}/api/v1/report${q}`, { ca: this.tls!.ca });
    if (r.status !== 200) throw new Error(`report: HTTP ${r.status}`);
    return JSON.parse(r.body) as Report;
  }

  /** Polls the report until `pred` holds; on timeout the error carries the last report's verdict and findings. */
  async waitFor(pred: (r: Report) => boolean, what: string, timeoutMs = 30_000, everyMs = 200): Promise<Report> {
    const end = Date.now() + timeoutMs;
    let last: Report | undefined;
    for (;;) {
      try {
        last = await this.report();
        if (pred(last)) return last;
      } catch {
        // aggregator busy or restarting: poll again
      }
      if (Date.now() > end) {
        const brief = last && {
          verdict: last.verdict,
          summary: last.summary,
          findings: last.findings.map((f) => ({ kind: f.kind, severity: f.severity, binding: f.binding, nodes: f.nodes, summary: f.summary })),
        };
        throw new Error(`lab ${this.prefix}: timed out after ${timeoutMs} ms waiting for ${what}; last report: ${JSON.stringify(brief)}`);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  waitVerdict(v: Report['verdict'], timeoutMs = 30_000): Promise<Report> {
    return this.waitFor((r) => r.verdict === v, `verdict ${v}`, timeoutMs);
  }

  // --- teardown -------------------------------------------------------------------------------------------

  /** Stops every process (by PID), deletes every namespace (by exact name), restores sysctls. Idempotent. */
  async down(): Promise<void> {
    if (this.down_) return;
    for (const a of this.active) if (a.fault.kind === 'agent-stopped') this.signalAgent(a.fault.node, 'SIGCONT');
    const procs = [...this.agents.values(), ...this.active.flatMap((a) => (a.occupier ? [a.occupier] : []))];
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await this.aggregator?.stop('SIGTERM');
    this.downSync();
  }

  /** The synchronous part, also used from exit and signal handlers. */
  downSync(): void {
    if (this.down_) return;
    this.down_ = true;
    labs.delete(this);
    const pids = [...this.agents.values(), ...this.active.flatMap((a) => (a.occupier ? [a.occupier] : [])), ...(this.aggregator ? [this.aggregator] : [])];
    for (const p of pids) {
      if (p.child.exitCode === null && p.child.signalCode === null && p.child.pid) {
        try {
          process.kill(p.child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    const ns = this.namespaces.splice(0);
    if (ns.length) {
      try {
        // -force: go on past a namespace that is already gone.
        sh('ip', ['-force', '-batch', '-'], ns.map((n) => `netns del ${n}`).join('\n') + '\n');
      } catch {
        // some were already gone; the rest are deleted (-force)
      }
    }
    for (const [file, v] of this.sysctlRestore.splice(0).reverse()) {
      try {
        writeFileSync(file, `${v}\n`);
      } catch {
        // nothing more we can do; the value is only a limit
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.log(`lab ${this.prefix}: torn down (${ns.length} namespaces deleted)`);
  }

  /** Namespaces of this lab still present (for tests' cleanup checks). */
  leftovers(): string[] {
    return listNamespaces().filter((n) => n.startsWith(`${this.prefix}-`));
  }
}

export function listNamespaces(): string[] {
  return sh('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

/** PIDs of processes whose command line mentions `text` (a lab's prefix is in every path its agents get). */
export function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text)) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

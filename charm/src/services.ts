// The workload on the machine: files under /var/lib/pinger and two systemd services. Probing runs in the
// services, never in a hook (hooks hold a machine-wide lock). PINGER_CHARM_ROOT prefixes every path so the
// hook-tool simulator can run several units on one test machine; Juju never sets it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const AGENT_SERVICE = 'pinger-agent';
export const AGGREGATOR_SERVICE = 'pinger-aggregator';

export function paths(charmDir: string, root = process.env.PINGER_CHARM_ROOT ?? '/') {
  const data = join(root, 'var/lib/pinger');
  return {
    charmDir,
    data,
    inventory: join(data, 'inventory.yaml'),
    token: join(data, 'token'),
    aggregatorInventory: join(data, 'aggregator-inventory.yaml'),
    aggregatorToken: join(data, 'aggregator-token'),
    profile: join(data, 'profile.yaml'),
    /** This node's credential (agent --credential-file): this unit's only, from its own Juju secret. */
    credential: join(data, 'credential'),
    readToken: join(data, 'read-token'),
    /** The cluster CA's certificate the agent verifies the aggregator with (agent --ca-file). */
    caFile: join(data, 'ca.pem'),
    /** The aggregator's key and certificate (leader only). */
    tls: join(data, 'tls'),
    unitFile: (svc: string) => join(root, 'etc/systemd/system', `${svc}.service`),
    node: join(charmDir, 'runtime/node'),
    cli: join(charmDir, 'dist/aggregator/cli/pinger.js'),
  };
}
export type Paths = ReturnType<typeof paths>;

/** Writes only when the content differs; says whether it did (a changed input means a reload or restart). */
export function writeIfChanged(file: string, content: string, mode = 0o644): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false;
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file); // atomic: a restarting agent never reads half an inventory
  return true;
}

export interface ServiceSpec {
  name: string;
  description: string;
  /** Flags for node itself, before the script. */
  nodeFlags?: readonly string[];
  args: string[];
}

/** The systemd unit: CAP_NET_RAW for ICMP, restarts on failure, nothing else privileged. */
export function unitFile(p: Paths, s: ServiceSpec): string {
  const q = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`);
  return `# Written by the pinger charm; rewritten on every hook, do not edit.
[Unit]
Description=${s.description}
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=${[p.node, ...(s.nodeFlags ?? []), p.cli, ...s.args].map(q).join(' ')}
# Live inventory: \`systemctl reload\` re-reads the inventory (and the aggregator's profile) in place.
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5
AmbientCapabilities=CAP_NET_RAW CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_RAW CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
ReadWritePaths=${p.data}

[Install]
WantedBy=multi-user.target
`;
}

export function systemctl(...args: string[]): { code: number; out: string } {
  const r = spawnSync('systemctl', args, { encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function must(...args: string[]): void {
  const r = systemctl(...args);
  if (r.code !== 0) throw new Error(`systemctl ${args.join(' ')} failed (${r.code}): ${r.out}`);
}

export type ServiceChange = 'started' | 'restarted' | 'reloaded' | 'unchanged';

/**
 * Installs (or updates) a service and makes sure it runs. A changed unit file (new flags) or `restart` (new
 * code, a new secret read only at start) restarts it; `reload` alone (inventory or profile rewritten) sends
 * it SIGHUP through `systemctl reload`: the measurements and the verdict survive a peer joining.
 */
export function ensureService(p: Paths, spec: ServiceSpec, change: { restart?: boolean; reload?: boolean }): ServiceChange {
  const fileChanged = writeIfChanged(p.unitFile(spec.name), unitFile(p, spec));
  if (fileChanged) must('daemon-reload');
  const active = systemctl('is-active', '--quiet', spec.name).code === 0;
  if (!active) {
    must('enable', '--now', spec.name);
    return 'started';
  }
  if (fileChanged || change.restart) {
    must('restart', spec.name);
    return 'restarted';
  }
  if (change.reload) {
    must('reload', spec.name);
    return 'reloaded';
  }
  return 'unchanged';
}

export function removeService(p: Paths, name: string): boolean {
  if (!existsSync(p.unitFile(name))) return false;
  systemctl('disable', '--now', name);
  unlinkSync(p.unitFile(name));
  systemctl('daemon-reload');
  return true;
}

/** The unit leaves the machine: every file the charm wrote under /var/lib/pinger (secrets, certificates) goes. */
export function removeData(p: Paths): void {
  rmSync(p.data, { recursive: true, force: true });
}

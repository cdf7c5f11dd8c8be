// Thin wrappers over Juju's hook tools (found on PATH, as Juju provides them). Parsing always asks for
// --format=json. A failing tool throws a HookToolError carrying its exit code and stderr (`ERROR ...`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class HookToolError extends Error {
  constructor(
    readonly tool: string,
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`${tool} exited ${exitCode}: ${stderr.trim() || '(no output)'}`);
    this.name = 'HookToolError';
  }
}

export function run(tool: string, args: string[], input?: string): string {
  const r = spawnSync(tool, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  if (r.error) throw new HookToolError(tool, 127, r.error.message);
  if (r.status !== 0) throw new HookToolError(tool, r.status ?? 1, r.stderr);
  return r.stdout;
}

function json<T>(tool: string, args: string[]): T {
  const out = run(tool, [...args, '--format=json']).trim();
  return (out === '' ? null : JSON.parse(out)) as T;
}

export type Databag = Record<string, string>;
export type StatusState = 'maintenance' | 'blocked' | 'waiting' | 'active';

export const tools = {
  log(level: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR', msg: string): void {
    try {
      run('juju-log', ['--log-level', level, '--', msg]);
    } catch {
      process.stderr.write(`${level}: ${msg}\n`); // the unit log still gets it, at WARNING
    }
  },
  isLeader: (): boolean => json<boolean>('is-leader', []) === true,
  configGet: (): Record<string, unknown> => json<Record<string, unknown>>('config-get', []) ?? {},
  goalState: (): GoalState => json<GoalState>('goal-state', []) ?? {},
  relationIds: (endpoint: string): string[] => json<string[]>('relation-ids', [endpoint]) ?? [],
  relationList: (rid: string): string[] => json<string[]>('relation-list', ['-r', rid]) ?? [],
  relationGet: (rid: string, unit: string): Databag => json<Databag>('relation-get', ['-r', rid, '-', unit]) ?? {},
  relationGetApp: (rid: string, app: string): Databag => json<Databag>('relation-get', ['-r', rid, '--app', '-', app]) ?? {},
  /** Values go through --file - so addresses, JSON and spaces need no shell quoting; "" deletes a key. */
  relationSet(rid: string, data: Databag, app = false): void {
    run('relation-set', ['-r', rid, ...(app ? ['--app'] : []), '--file', '-'], JSON.stringify(data));
  },
  statusSet(state: StatusState, message: string, application = false): void {
    run('status-set', [...(application ? ['--application'] : []), state, message]);
  },
  applicationVersionSet: (v: string): void => void run('application-version-set', [v]),
  openPort: (p: string): void => void run('open-port', [p]),
  closePort: (p: string): void => void run('close-port', [p]),
  stateDelete: (key: string): void => void run('state-delete', [key]),
  /** Juju >= 3.1 secrets. Content goes through --file (a YAML map) so no value is ever on a command line. */
  secretAdd(content: Record<string, string>, o: { label: string; owner?: 'application' | 'unit'; description?: string }, tmpDir: string): string {
    return withContentFile(tmpDir, content, (file) =>
      run('secret-add', [
        '--label',
        o.label,
        '--owner',
        o.owner ?? 'application',
        ...(o.description ? ['--description', o.description] : []),
        '--file',
        file,
      ]).trim(),
    );
  },
  secretSet(id: string, content: Record<string, string>, tmpDir: string): void {
    withContentFile(tmpDir, content, (file) => run('secret-set', [id, '--file', file]));
  },
  /** The latest revision's content (--refresh: a consumer also tracks it from now on). */
  secretGet(id: string): Record<string, string> {
    return json<Record<string, string>>('secret-get', [id, '--refresh']) ?? {};
  },
  secretGrant: (id: string, rid: string, unit: string): void => void run('secret-grant', [id, '-r', rid, '--unit', unit]),
  secretRemove: (id: string): void => void run('secret-remove', [id]),
  stateGet: (): Record<string, string> => json<Record<string, string>>('state-get', []) ?? {},
  stateSet: (data: Record<string, string>): void => void run('state-set', ['--file', '-'], JSON.stringify(data)),
  actionGet: (): Record<string, unknown> => json<Record<string, unknown>>('action-get', []) ?? {},
  actionSet: (kv: Record<string, string>): void =>
    void run(
      'action-set',
      Object.entries(kv).map(([k, v]) => `${k}=${v}`),
    ),
  actionFail: (msg: string): void => void run('action-fail', [msg]),
  actionLog: (msg: string): void => void run('action-log', [msg]),
};

export interface GoalState {
  units?: Record<string, { status: string; since?: string }>;
  relations?: Record<string, Record<string, { status: string; since?: string }>>;
}

/**
 * `network-get <binding> --format=json`; Juju before 2.9 had only the YAML form with legacy keys, and a
 * tool that does not know --format says so with exit 2 (usage), so ask again without it.
 */
export function networkGet(binding: string): string {
  try {
    return run('network-get', [binding, '--format=json']);
  } catch (err) {
    if (err instanceof HookToolError && err.exitCode === 2) return run('network-get', [binding]);
    throw err;
  }
}

/** A 0600 file that lives only as long as the call: secret content never goes on argv (visible in ps). */
function withContentFile<T>(dir: string, content: Record<string, string>, fn: (file: string) => T): T {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `secret-${process.pid}.yaml`);
  writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
  try {
    return fn(file);
  } finally {
    rmSync(file, { force: true });
  }
}

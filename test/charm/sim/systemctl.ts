// A fake systemctl for the simulator: records unit files and calls, and in "run" mode really starts the
// service's ExecStart (detached, logging to <root>/var/log/<unit>.log; in the unit's network namespace when
// it has one) and stops it by PID. State lives under the unit's root (one per simulated unit):
// run/systemd-sim/<unit>.json and calls.log.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface UnitState {
  enabled: boolean;
  active: boolean;
  pid?: number;
  starts: number;
  reloads?: number;
}

export function splitExec(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function systemctl(argv: string[], opts: { root: string; run: boolean; netns?: string }): { out: string; code: number } {
  const root = opts.root;
  const dir = join(root, 'run/systemd-sim');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'calls.log'), `${argv.join(' ')}\n`);
  const args = argv.filter((a) => !a.startsWith('-'));
  const flags = new Set(argv.filter((a) => a.startsWith('-')));
  const [verb, ...units] = args;
  const stateFile = (u: string) => join(dir, `${u}.json`);
  const read = (u: string): UnitState =>
    existsSync(stateFile(u)) ? (JSON.parse(readFileSync(stateFile(u), 'utf8')) as UnitState) : { enabled: false, active: false, starts: 0 };
  const write = (u: string, s: UnitState) => writeFileSync(stateFile(u), JSON.stringify(s));
  const unitFile = (u: string) => join(root, 'etc/systemd/system', `${u}.service`);
  const run = opts.run;

  const start = (u: string): string | undefined => {
    if (!existsSync(unitFile(u))) return `Failed to start ${u}.service: Unit ${u}.service not found.`;
    const s = read(u);
    if (s.active && (!run || alive(s.pid))) return undefined;
    s.active = true;
    s.starts++;
    if (run) {
      const exec = /^ExecStart=(.*)$/m.exec(readFileSync(unitFile(u), 'utf8'))?.[1];
      if (!exec) return `Failed to start ${u}.service: no ExecStart`;
      const [cmd, ...rest] = splitExec(exec);
      mkdirSync(join(root, 'var/log'), { recursive: true });
      const log = openSync(join(root, 'var/log', `${u}.log`), 'a');
      // Like systemd: a clean environment, not the hook's.
      const [c, a] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, cmd!, ...rest]] : [cmd!, rest];
      const child = spawn(c, a, { detached: true, stdio: ['ignore', log, log], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
      s.pid = child.pid;
      child.unref();
    }
    write(u, s);
    return undefined;
  };
  const stop = (u: string) => {
    const s = read(u);
    if (s.pid && alive(s.pid)) {
      process.kill(s.pid, 'SIGTERM');
      const end = Date.now() + 5000;
      while (alive(s.pid) && Date.now() < end) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      if (alive(s.pid)) process.kill(s.pid, 'SIGKILL');
    }
    s.active = false;
    delete s.pid;
    write(u, s);
  };
  const names = units.map((u) => u.replace(/\.service$/, ''));

  switch (verb) {
    case 'daemon-reload':
      return { out: '', code: 0 };
    case 'enable':
    case 'start':
    case 'restart': {
      for (const u of names) {
        if (verb === 'enable') {
          if (!existsSync(unitFile(u))) return { out: `Failed to enable unit: Unit file ${u}.service does not exist.`, code: 1 };
          write(u, { ...read(u), enabled: true });
          if (!flags.has('--now')) continue;
        }
        if (verb === 'restart') stop(u);
        const e = start(u);
        if (e) return { out: e, code: 5 };
      }
      return { out: '', code: 0 };
    }
    case 'reload': {
      // ExecReload=/bin/kill -HUP $MAINPID: the process stays, its PID unchanged.
      for (const u of names) {
        const s = read(u);
        if (!s.active || (run && !alive(s.pid))) return { out: `Job for ${u}.service failed because the control process exited with error code.`, code: 1 };
        if (!/^ExecReload=/m.test(readFileSync(unitFile(u), 'utf8')))
          return { out: `Failed to reload ${u}.service: Job type reload is not applicable for unit ${u}.service.`, code: 1 };
        if (run && s.pid) process.kill(s.pid, 'SIGHUP');
        s.reloads = (s.reloads ?? 0) + 1;
        write(u, s);
      }
      return { out: '', code: 0 };
    }
    case 'disable':
    case 'stop':
      for (const u of names) {
        if (verb === 'disable') write(u, { ...read(u), enabled: false });
        if (verb === 'stop' || flags.has('--now')) stop(u);
      }
      return { out: '', code: 0 };
    case 'is-active': {
      const s = read(names[0] ?? '');
      const on = s.active && (!run || alive(s.pid));
      return { out: flags.has('--quiet') ? '' : on ? 'active' : 'inactive', code: on ? 0 : 3 };
    }
    case 'is-enabled': {
      const on = read(names[0] ?? '').enabled;
      return { out: flags.has('--quiet') ? '' : on ? 'enabled' : 'disabled', code: on ? 0 : 1 };
    }
    default:
      return { out: `Unknown command verb ${verb}.`, code: 1 };
  }
}

// Child processes started by tests, tracked by PID and killed by PID when the test ends (also on failure).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

export interface Started {
  child: ChildProcess;
  output: () => string;
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<string>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export function start(cmd: string, args: string[], opts: SpawnOptions = {}): Started {
  // Own process group: wrappers like faketime fork instead of exec, and killing only their PID would orphan
  // the agent (still holding our pipes, so the test file never exits). We signal the whole group.
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  started.add(child);
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.on('exit', () => {
    for (const w of waiters.splice(0)) w();
  });
  return {
    child,
    output: () => out,
    waitFor: (re, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${out}`)), timeoutMs);
        const check = () => {
          const m = re.exec(out);
          if (m) {
            clearTimeout(deadline);
            return resolve(m[0]);
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(deadline);
            return reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${re}:\n${out}`));
          }
          waiters.push(check);
        };
        check();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) {
        killGroup(child, 'SIGKILL'); // anything the wrapper left behind
        return child.exitCode;
      }
      const exited = once(child, 'exit');
      killGroup(child, signal);
      const t = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      if (signal !== 'SIGKILL') killGroup(child, 'SIGKILL');
      return child.exitCode;
    },
  };
}

function killGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  if (c.pid === undefined) return;
  try {
    process.kill(-c.pid, signal); // the group: the child and whatever it forked
  } catch {
    // group gone already
  }
}

const started = new Set<ChildProcess>();

/** Kills every child this test file started, and what they forked, by process group. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...started].map(async (c) => {
      const exited = c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined;
      killGroup(c, 'SIGKILL');
      await exited;
    }),
  );
  started.clear();
}

/** The `pinger` command as developers run it (TypeScript sources through tsx). */
export const pingerCmd = (): [string, string[]] => [process.execPath, ['--import', 'tsx', 'aggregator/cli/pinger.ts']];

export async function waitUntil<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

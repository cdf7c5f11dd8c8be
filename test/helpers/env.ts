// Where a check needs root or a Debian package: outside CI it skips and says why; in CI (CI=true) it fails,
// because CI installs everything (.ci/setup) and runs as root, so a skip there would hide a broken step.
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export const inCI = process.env.CI === 'true';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Returns true when the test may go on; otherwise skips (outside CI) or throws (in CI). */
export function requireEnv(t: TestContext, opts: { root?: boolean; commands?: string[] }): boolean {
  const missing: string[] = [];
  if (opts.root && !isRoot()) missing.push('root (CAP_NET_ADMIN / CAP_NET_RAW)');
  for (const c of opts.commands ?? []) if (!hasCommand(c)) missing.push(`command '${c}' (run .ci/setup)`);
  if (missing.length === 0) return true;
  const why = `needs ${missing.join(', ')}`;
  if (inCI) throw new Error(`${why}: CI must provide it`);
  t.skip(why);
  return false;
}

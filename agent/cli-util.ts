// Small helpers shared by the command entry points (argument checks, token files, logging).
import { readFileSync } from 'node:fs';
import { PingerError, type ErrorCode } from './contract/errors.js';
import { logFn, makeLogger, type LogFn } from './log.js';

export function readToken(file: string, code: ErrorCode = 'PINGER_ERR_AGENT_TOKEN'): string {
  let t: string;
  try {
    t = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new PingerError(code, `token file ${file}: ${(err as Error).message}`);
  }
  if (!t) throw new PingerError(code, `token file ${file} is empty`);
  return t;
}

export function parseListen(s: string, code: ErrorCode = 'PINGER_ERR_AGG_USAGE'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new PingerError(code, `--listen ${JSON.stringify(s)}: expected HOST:PORT or [IPv6]:PORT`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Checks options given by their flag names (kebab-case) in commander's values (camelCase). */
export function required(values: object, names: string[], code: ErrorCode): void {
  const camel = (n: string) => n.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const missing = names.filter((n) => (values as Record<string, unknown>)[camel(n)] === undefined);
  if (missing.length) throw new PingerError(code, `missing ${missing.map((n) => `--${n}`).join(', ')}`);
}

/** A log function for one component (agent: the node it speaks for); --quiet keeps warnings and errors only. */
export function makeLog(component: 'agent' | 'aggregator' | 'demo', node?: string, quiet = false): LogFn {
  return logFn(makeLogger({ component, ...(node ? { node } : {}), level: quiet ? 'warn' : 'info' }));
}

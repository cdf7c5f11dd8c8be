// Small helpers shared by the command entry points (argument checks, token files, logging).
import { readFileSync } from 'node:fs';
import { PingerError } from './contract/errors.js';

export function readToken(file: string, code = 'PINGER_ERR_AGENT_TOKEN'): string {
  let t: string;
  try {
    t = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new PingerError(code, `token file ${file}: ${(err as Error).message}`);
  }
  if (!t) throw new PingerError(code, `token file ${file} is empty`);
  return t;
}

export function parseListen(s: string, code = 'PINGER_ERR_AGG_USAGE'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new PingerError(code, `--listen ${JSON.stringify(s)}: expected HOST:PORT or [IPv6]:PORT`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Checks options given by their flag names (kebab-case) in commander's values (camelCase). */
export function required(values: object, names: string[], code: string): void {
  const camel = (n: string) => n.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const missing = names.filter((n) => (values as Record<string, unknown>)[camel(n)] === undefined);
  if (missing.length) throw new PingerError(code, `missing ${missing.map((n) => `--${n}`).join(', ')}`);
}

export type Level = 'info' | 'warn' | 'error';
export function makeLog(tag: string, quiet = false): (level: Level, msg: string) => void {
  return (level, msg) => {
    if (quiet && level === 'info') return;
    process.stderr.write(`${new Date().toISOString()} ${tag} ${level}: ${msg}\n`);
  };
}

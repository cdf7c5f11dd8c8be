// TLS for tests: a CA and an aggregator certificate made by running the README's own openssl commands
// (so the documented commands are the tested ones), and an HTTP(S) GET that trusts that CA.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const readme = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The shell commands between `<!-- tls:begin -->` and `<!-- tls:end -->` in the README (one code fence). */
export function readmeTlsCommands(): string {
  const text = readFileSync(readme, 'utf8');
  const m = /<!-- tls:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- tls:end -->/.exec(text);
  if (!m) throw new Error('README.md has no <!-- tls:begin --> sh block');
  return m[1]!;
}

export interface TlsFiles {
  ca: string;
  caKey: string;
  cert: string;
  key: string;
}

/** Runs the README's commands in `dir` for an aggregator named `name` at `ip`. */
export function makeTls(dir: string, name = 'localhost', ip = '127.0.0.1'): TlsFiles {
  execFileSync('sh', ['-ec', readmeTlsCommands()], { cwd: dir, env: { ...process.env, AGG_NAME: name, AGG_IP: ip }, stdio: ['ignore', 'ignore', 'pipe'] });
  return { ca: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), cert: join(dir, 'aggregator.crt'), key: join(dir, 'aggregator.key') };
}

export interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET (or another method) over http or https, trusting `ca` (PEM file), with an optional Authorization. */
export function get(url: string, opts: { ca?: string; authorization?: string; method?: string } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: opts.method ?? 'GET',
        ...(opts.ca ? { ca: readFileSync(opts.ca) } : {}),
        headers: opts.authorization ? { authorization: opts.authorization } : {},
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

export const basic = (password: string, user = 'pinger') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

// The `pinger` command as a user meets it: real processes, exit codes from the one table, help for every
// command, and a taken port named in the error.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CONCURRENCY } from '../../agent/agent.js';
import { EXIT, exitCodes } from '../../agent/contract/exit-codes.js';
import { DEFAULT_WINDOW } from '../../agent/probes/icmp-engine.js';
import { pingerCmd, start } from '../helpers/procs.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function pinger(args: string[], timeoutMs = 30_000): Promise<Run> {
  const [node, pre] = pingerCmd();
  return new Promise((resolve) => {
    execFile(node, [...pre, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const commands: Record<string, string[]> = {
  agent: [
    '--inventory',
    '--node',
    '--aggregator',
    '--token-file',
    '--credential-file',
    '--ca-file',
    '--plain',
    '--concurrency',
    '--quiet',
    '--dns-server',
    '--no-responders',
  ],
  aggregator: [
    '--listen',
    '--inventory',
    '--token-file',
    '--tls-cert',
    '--tls-key',
    '--plain',
    '--read-token-file',
    '--profile',
    '--log-level',
    '--pair-metrics-max-nodes',
  ],
  credential: ['--token-file', '--node'],
  demo: ['--nodes', '--listen', '--for'],
  sweep: ['--file', '--timeout', '--count', '--size', '--window', '--verbose'],
};

let dir = '';
let token = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pinger-cli-'));
  token = join(dir, 'token');
  writeFileSync(token, 'sekrit\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('pinger', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await pinger([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${pkg.version}\n`);
    }
  });

  it('the bin works after `npm install -g .` (temporary prefix)', async () => {
    const prefix = mkdtempSync(join(tmpdir(), 'pinger-prefix-'));
    try {
      const install = await new Promise<Run>((resolve) =>
        // --ignore-scripts: a folder install links this checkout, whose addon is built; running the install script
        // here would rebuild it under the feet of the tests running beside this one.
        execFile(
          'npm',
          ['install', '-g', '--ignore-scripts', '--prefix', prefix, '--no-audit', '--no-fund', '.'],
          // Without the npm_* variables of an enclosing `npm test`: they carry that run's prefixes, which
          // override --prefix for parts of the install (lstat <prefix>/lib failed under `npm test` only).
          { timeout: 120_000, env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))) },
          (err, stdout, stderr) => resolve({ code: err ? -1 : 0, stdout, stderr }),
        ),
      );
      assert.equal(install.code, 0, install.stderr);
      const r = await new Promise<Run>((resolve) =>
        execFile(join(prefix, 'bin/pinger'), ['--version'], { cwd: tmpdir(), timeout: 30_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? -1 : 0, stdout, stderr }),
        ),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  it('--help lists every command and the exit codes', async () => {
    const r = await pinger(['--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const c of Object.keys(commands)) assert.match(r.stdout, new RegExp(`^  ${c} \\[options\\]`, 'm'));
    for (const e of Object.values(exitCodes)) assert.ok(r.stdout.includes(`${String(e.code).padStart(3)}  ${e.meaning}`), `exit ${e.code} in help`);
  });

  for (const [cmd, flags] of Object.entries(commands)) {
    it(`${cmd} --help shows every option and examples`, async () => {
      for (const args of [
        [cmd, '--help'],
        ['help', cmd],
      ]) {
        const r = await pinger(args);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^Usage: pinger ${cmd} \\[options\\]`));
        for (const f of flags) assert.ok(r.stdout.includes(f), `${cmd} --help mentions ${f}`);
        assert.match(r.stdout, new RegExp(`Examples:\\n(  (sudo )?pinger ${cmd}.*\\n)+`));
      }
    });
  }

  it('help shows the defaults the code uses', async () => {
    assert.match((await pinger(['agent', '--help'])).stdout, new RegExp(`targets probed at once \\(default ${DEFAULT_CONCURRENCY}\\)`));
    assert.match((await pinger(['sweep', '--help'])).stdout, new RegExp(`at once \\(default ${DEFAULT_WINDOW}\\)`));
  });

  it(`exits ${EXIT.usage} on a usage error, saying what is wrong`, async () => {
    const cases: [string[], RegExp][] = [
      [[], /^Usage: pinger/m],
      [['bogus'], /^PINGER_ERR_USAGE: unknown command 'bogus'/m],
      [['agent', '--bogus'], /^PINGER_ERR_USAGE: unknown option '--bogus'/m],
      [['aggregator', '--log-level', 'loud'], /^PINGER_ERR_USAGE: option '--log-level <level>' argument 'loud' is invalid/m],
      [['agent', '--node', 'n1'], /^PINGER_ERR_AGENT_USAGE: missing --inventory, --aggregator$/m],
      [['sweep'], /^PINGER_ERR_USAGE: required option '-f, --file <file>' not specified/m],
      [['sweep', '-f', 'x', '-t', 'soon'], /-t needs an integer >= 1/],
      [['demo', '--nodes', '1'], /^PINGER_ERR_AGENT_USAGE: --nodes must be 2\.\.250/m],
    ];
    for (const [args, why] of cases) {
      const r = await pinger(args);
      assert.equal(r.code, EXIT.usage, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, why, args.join(' '));
    }
  });

  it(`exits ${EXIT.config} on a bad inventory, profile or token file`, async () => {
    const good = 'test/fixtures/inventory/good.yaml';
    const cases: [string[], RegExp][] = [
      [
        ['aggregator', '--listen', '127.0.0.1:0', '--inventory', 'test/fixtures/inventory/bad-yaml.yaml', '--token-file', token, '--plain'],
        /^PINGER_ERR_INVENTORY_YAML: /m,
      ],
      [
        ['aggregator', '--listen', '127.0.0.1:0', '--inventory', 'test/fixtures/inventory/unknown-field.yaml', '--token-file', token, '--plain'],
        /^PINGER_ERR_INVENTORY_INVALID: /m,
      ],
      [['aggregator', '--listen', '127.0.0.1:0', '--inventory', join(dir, 'missing.yaml'), '--token-file', token, '--plain'], /^PINGER_ERR_INVENTORY_READ: /m],
      [['aggregator', '--listen', '127.0.0.1:0', '--inventory', good, '--token-file', join(dir, 'missing'), '--plain'], /^PINGER_ERR_AGG_TOKEN: /m],
      [['aggregator', '--listen', '127.0.0.1:0', '--inventory', good, '--token-file', token, '--plain', '--profile', 'no-such'], /^PINGER_ERR_AGG_PROFILE: /m],
      [
        ['agent', '--inventory', good, '--node', 'no-such-node', '--aggregator', 'ws://127.0.0.1:1/api/v1/agent', '--token-file', token, '--plain'],
        /^PINGER_ERR_AGENT_UNKNOWN_NODE: /m,
      ],
      [['sweep', '-f', join(dir, 'missing.txt')], /cannot read .*missing\.txt/],
    ];
    for (const [args, why] of cases) {
      const r = await pinger(args);
      assert.equal(r.code, EXIT.config, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, why, args.join(' '));
    }
  });

  it('logs JSON records with the shared fields when not on a terminal', async () => {
    const [node, pre] = pingerCmd();
    const p = start(node, [
      ...pre,
      'aggregator',
      '--listen',
      '127.0.0.1:0',
      '--inventory',
      'test/fixtures/inventory/good.yaml',
      '--token-file',
      token,
      '--profile',
      'demo',
      '--plain',
    ]);
    try {
      const line = await p.waitFor(/^\{.*"msg":"listening on http:[^\n]*\n/m, 30_000);
      const r = JSON.parse(line) as Record<string, unknown>;
      assert.deepEqual(Object.keys(r).sort(), ['component', 'level', 'msg', 'time']);
      assert.equal(r.component, 'aggregator');
      assert.equal(r.level, 'info');
    } finally {
      // Not asserted: the stop code (a SIGTERM right after the listen line can come before the handler).
      await p.stop('SIGTERM');
    }
  });

  it(`exits ${EXIT.cannotListen} on a busy port, naming the address and suggesting --listen`, async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0 }, resolve));
    try {
      const port = (holder.address() as AddressInfo).port;
      for (const args of [
        [
          'aggregator',
          '--listen',
          `127.0.0.1:${port}`,
          '--inventory',
          'test/fixtures/inventory/good.yaml',
          '--token-file',
          token,
          '--plain',
          '--profile',
          'demo',
        ],
        ['demo', '--listen', `127.0.0.1:${port}`, '--for', '5'],
      ]) {
        const r = await pinger(args);
        assert.equal(r.code, EXIT.cannotListen, `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^PINGER_ERR_AGG_LISTEN: cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use .*--listen HOST:PORT`, 'm'));
        assert.doesNotMatch(r.stderr, /PINGER_ERR_INTERNAL|\n\s+at /);
      }
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

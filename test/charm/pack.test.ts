// `npm run charm`'s product: a zip Juju can deploy with nothing built or downloaded on the node. Packs a
// real .charm (runtime copied, zipped), checks its contents, then runs the unpacked runtime on its own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { manifestSchema, metadataSchema, problems } from '../../charm/charmcraft-schema.js';
import { pack } from '../../charm/pack.js';
import { requireEnv } from '../helpers/env.js';
import { repoRoot, transpileTree } from './sim/build.js';

test('the .charm holds metadata, config, actions, manifest, dispatch, the code, production deps and the runtime', { timeout: 600_000 }, (t) => {
  if (!requireEnv(t, { commands: ['zip', 'unzip'] })) return;
  mkdirSync(join(repoRoot, 'test/artifacts'), { recursive: true }); // git-ignored: absent in a fresh clone
  const dir = mkdtempSync(join(repoRoot, 'test/artifacts/charm-pack-'));
  try {
    transpileTree(join(dir, 'dist'));
    const { charm, charms } = pack({ out: join(dir, 'out'), dist: join(dir, 'dist'), build: false, linkRuntime: false, zip: true });
    // One .charm per platform of charmcraft.yaml, named as charmcraft names them.
    if (process.arch === 'x64')
      assert.deepEqual(
        charms.map((c) => c.split('/').at(-1)),
        ['pinger_ubuntu@22.04-amd64.charm', 'pinger_ubuntu@24.04-amd64.charm'],
      );
    const files = new Set(
      execFileSync('unzip', ['-Z1', charm!], { encoding: 'utf8', maxBuffer: 64 << 20 })
        .trim()
        .split('\n'),
    );
    for (const f of [
      'metadata.yaml',
      'config.yaml',
      'actions.yaml',
      'manifest.yaml',
      'dispatch',
      'package.json',
      'runtime/node',
      'dist/charm/src/main.js',
      'dist/aggregator/cli/pinger.js',
      'dist/aggregator/main.js',
      'node_modules/raw-socket/build/Release/raw.node',
      'node_modules/fastify/package.json',
      'node_modules/yaml/package.json',
      'node_modules/zod/package.json',
    ]) {
      assert.ok(files.has(f), `${f} in the charm`);
    }
    for (const p of readFileSync(join(repoRoot, 'aggregator/profiles/openstack.yaml'), 'utf8') ? ['dist/aggregator/profiles/openstack.yaml'] : [])
      assert.ok(files.has(p), p);
    const unwanted = [...files].filter(
      (f) =>
        /^node_modules\/(typescript|tsx|esbuild|@types|playwright-core)\//.test(f) ||
        (/\.ts$/.test(f) && !f.startsWith('node_modules/')) ||
        f.startsWith('test/') ||
        f.includes('obj.target'),
    );
    assert.deepEqual(unwanted, [], 'no dev dependencies, sources, tests or build intermediates');
    // charmcraft's lint: the last token of dispatch's last line is an executable in the charm.
    const dispatch = execFileSync('unzip', ['-p', charm!, 'dispatch'], { encoding: 'utf8' });
    const last = dispatch.trim().split('\n').at(-1)!.trim().split(/\s+/).at(-1)!.replace(/^\.\//, '');
    assert.equal(last, 'dist/charm/src/main.js');
    for (const f of ['dispatch', last, 'runtime/node'])
      assert.match(execFileSync('unzip', ['-Z', charm!, f], { encoding: 'utf8' }), /^-rwx/, `${f} executable`);
    const meta = parse(execFileSync('unzip', ['-p', charm!, 'metadata.yaml'], { encoding: 'utf8' })) as Record<string, Record<string, { interface?: string }>>;
    for (const b of ['public', 'admin', 'internal', 'shared-db', 'amqp', 'ceph-public', 'ceph-cluster', 'overlay', 'migration', 'spare-1'])
      assert.ok(b in meta['extra-bindings']!, b);
    assert.equal(meta.peers!.peers!.interface, 'pinger_peers');
    assert.deepEqual(
      Object.entries(meta.provides!).map(([k, v]) => [k, v.interface]),
      [
        ['cos-agent', 'cos_agent'],
        ['metrics-endpoint', 'prometheus_scrape'],
        ['prometheus', 'prometheus'],
      ],
    );
    for (const [i, c] of charms.entries()) {
      const manifest = parse(execFileSync('unzip', ['-p', c, 'manifest.yaml'], { encoding: 'utf8' })) as { bases: { name: string; channel: string }[] };
      assert.deepEqual(problems(manifestSchema, manifest, 'manifest.yaml'), []);
      assert.deepEqual(
        manifest.bases.map((b) => `${b.name}@${b.channel}`),
        [['ubuntu@22.04', 'ubuntu@24.04'][i]],
      );
      assert.deepEqual(problems(metadataSchema, parse(execFileSync('unzip', ['-p', c, 'metadata.yaml'], { encoding: 'utf8' })), 'metadata.yaml'), []);
    }

    // Unpacked, it runs with its own runtime and nothing from this checkout: no PATH, no repo node_modules.
    const un = join(dir, 'unpacked');
    mkdirSync(un);
    execFileSync('unzip', ['-q', charm!, '-d', un]);
    const env = { PATH: '/nonexistent' };
    const help = execFileSync(join(un, 'runtime/node'), [join(un, 'dist/aggregator/cli/pinger.js'), '--help'], { cwd: '/', env, encoding: 'utf8' });
    assert.match(help, /^  agent \[options\]/m, 'the packed CLI lists its agent command');
    const raw = execFileSync(
      join(un, 'runtime/node'),
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(join(un, 'node_modules/raw-socket/index.js'))}); console.log(typeof m.default.createSocket)`,
      ],
      { cwd: '/', env, encoding: 'utf8' },
    );
    assert.equal(raw.trim(), 'function', "raw-socket's compiled raw.node loads with the carried runtime");
    // Pinger's ICMP addon (kernel receive timestamps) is carried where the compiled engine finds it.
    const addon = execFileSync(
      join(un, 'runtime/node'),
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(un, 'dist/agent/probes/icmp-engine.js'))}); console.log(m.stampSource())`],
      { cwd: '/', env, encoding: 'utf8' },
    );
    assert.equal(addon.trim(), 'kernel', 'agent/probes/native/build/Release/pinger_icmp.node loads from the unpacked charm');
    assert.equal(execFileSync(join(un, 'runtime/node'), ['-v'], { env, encoding: 'utf8' }).trim(), process.version, 'the runtime the build used');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

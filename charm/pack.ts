// `npm run charm`: builds a deployable .charm. MAAS nodes have no build tools and Ubuntu's nodejs is old
// (12 on 22.04), so the charm carries everything it runs: the Node binary this build uses (nodejs.org build,
// needs glibc >= 2.28), the compiled code, the production node_modules with raw-socket's compiled raw.node
// (same Node ABI as the binary it ships with), the profiles and the dashboards.
//   node --import tsx charm/pack.ts [--out DIR] [--skip-build] [--link-runtime] [--no-zip]
// --link-runtime / --no-zip are for tests: a staged tree without copying and zipping 100 MB.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import type { z } from 'zod';
import { charmcraftSchema, metadataKeys, metadataSchema, platformsOf, problems } from './charmcraft-schema.js';
import { baseGlibc, glibcVersionsNeeded, missingGlibc } from './src/elf.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const charmSrc = join(repo, 'charm');

export interface PackOptions {
  out: string;
  /** Compiled tree to pack (default: the repo's dist/, which `build` fills). */
  dist?: string;
  build: boolean;
  linkRuntime: boolean;
  zip: boolean;
}

/** The production dependency closure, resolved like Node does (nested node_modules first, then upwards). */
export function productionPackages(root: string): string[] {
  const found = new Set<string>();
  const visit = (fromDir: string, name: string, optional: boolean) => {
    let dir = fromDir;
    for (;;) {
      const cand = join(dir, 'node_modules', name);
      if (existsSync(join(cand, 'package.json'))) {
        if (found.has(cand)) return;
        found.add(cand);
        const pj = JSON.parse(readFileSync(join(cand, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
        for (const d of Object.keys(pj.dependencies ?? {})) visit(cand, d, false);
        for (const d of Object.keys(pj.optionalDependencies ?? {})) visit(cand, d, true);
        return;
      }
      const up = dirname(dir);
      if (up === dir || !dir.startsWith(root)) break;
      dir = up;
    }
    if (!optional) throw new Error(`dependency ${name} (needed from ${relative(root, fromDir) || '.'}) is not installed: run npm ci`);
  };
  const pj = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const d of Object.keys(pj.dependencies)) visit(root, d, false);
  // Only the outermost directories: a nested package is copied with its parent.
  return [...found].sort().filter((p, _, all) => !all.some((q) => q !== p && p.startsWith(`${q}/`)));
}

/** Compiled .js of the runtime folders, plus their non-TypeScript assets (profiles, web pages). */
function copyRuntimeTree(fromSrc: string, fromDist: string, to: string): void {
  cpSync(fromDist, to, { recursive: true, filter: (s) => statSync(s).isDirectory() || s.endsWith('.js') });
  // The ICMP addon's sources and build tree stay out: its one .node file is copied on its own (below).
  cpSync(fromSrc, to, { recursive: true, filter: (s) => !/\/native(\/|$)/.test(s) && (statSync(s).isDirectory() || !/\.(ts|map)$/.test(s)) });
}

// size: the staging steps in the order of the archive's layout
export function pack(o: PackOptions): { stage: string; charm?: string; charms: string[] } {
  if (o.build) {
    const r = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(repo, 'tsconfig.json')], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('tsc failed: fix the type errors above (or pass --skip-build to pack what dist/ holds)');
  }
  const dist = o.dist ?? join(repo, 'dist');
  if (!existsSync(join(dist, 'charm/src/main.js'))) throw new Error(`${dist}/charm/src/main.js is missing: build first (npm run build)`);
  const stage = join(o.out, 'pinger');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  for (const f of ['metadata.yaml', 'config.yaml', 'actions.yaml', 'dispatch', 'README.md']) copyFileSync(join(charmSrc, f), join(stage, f));
  const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
  writeFileSync(join(stage, 'version'), `${version}\n`);
  const project = checkProject();
  const platforms = platformsOf(project);
  const manifest = (p: (typeof platforms)[number]) => `# Written by charm/pack.ts, as charmcraft writes it into each .charm (one base per packed platform).
charmcraft-version: pinger-pack-${version}
charmcraft-started-at: '${new Date().toISOString()}'
analysis:
  attributes:
    - {name: language, result: javascript}
    - {name: framework, result: unknown}
bases:
  - {name: ${p.base.name}, channel: '${p.base.channel}', architectures: [${p.arch}]}
`;
  writeFileSync(join(stage, 'manifest.yaml'), manifest(platforms[0]!));
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify({ name: 'pinger-charm', version, private: true, type: 'module' }, null, 2)}\n`);
  for (const d of ['agent', 'aggregator', 'charm/src']) copyRuntimeTree(join(repo, d), join(dist, d), join(stage, 'dist', d));
  // metadata.yaml as JSON, read by every hook (charm/src/charm-meta.ts) without loading the YAML parser.
  writeFileSync(join(stage, 'dist/charm/metadata.json'), `${JSON.stringify(parse(readFileSync(join(charmSrc, 'metadata.yaml'), 'utf8')))}\n`);
  for (const p of productionPackages(repo)) {
    // Build intermediates of native modules (object files) are not needed at run time.
    cpSync(p, join(stage, relative(repo, p)), { recursive: true, filter: (s) => !/\/(obj\.target|\.deps)(\/|$)/.test(s) });
  }
  // Pinger's ICMP addon (kernel receive timestamps), where dist/agent/probes/icmp/native.js looks for it first
  // (../native/build/Release). Without it the engine falls back to raw-socket: carried when built.
  const addon = join(repo, 'agent/probes/native/build/Release/pinger_icmp.node');
  if (existsSync(addon)) {
    mkdirSync(join(stage, 'dist/agent/probes/native/build/Release'), { recursive: true });
    copyFileSync(addon, join(stage, 'dist/agent/probes/native/build/Release/pinger_icmp.node'));
  }
  mkdirSync(join(stage, 'runtime'));
  // The runtime must start on every base it is packed for: its GLIBC_ symbol versions against the base's glibc.
  const needed = glibcVersionsNeeded(readFileSync(process.execPath));
  for (const p of platforms) {
    const have = baseGlibc[p.base.channel];
    if (!have) throw new Error(`platform ${p.name}: unknown glibc for ${p.base.name}@${p.base.channel}`);
    const lack = missingGlibc(needed, have);
    if (lack)
      throw new Error(
        `platform ${p.name}: ${process.execPath} needs glibc ${lack}, ${p.base.name}@${p.base.channel} has ${have}: pack with a Node build for that base (nodejs.org builds need 2.28)`,
      );
  }
  if (o.linkRuntime) symlinkSync(process.execPath, join(stage, 'runtime/node'));
  else copyFileSync(process.execPath, join(stage, 'runtime/node'));
  if (existsSync(join(repo, 'dashboards'))) cpSync(join(repo, 'dashboards'), join(stage, 'dashboards'), { recursive: true });
  else mkdirSync(join(stage, 'dashboards'));
  chmodSync(join(stage, 'dispatch'), 0o755);
  chmodSync(join(stage, 'dist/charm/src/main.js'), 0o755); // charmcraft's lint: dispatch's last token is executable
  chmodSync(join(stage, 'runtime/node'), 0o755);
  if (!o.zip) return { stage, charms: [] };
  // One .charm per platform, named as charmcraft names them (pinger_ubuntu@22.04-amd64.charm).
  const charms: string[] = [];
  for (const p of platforms) {
    if (p.arch !== arch()) continue; // charmcraft builds on the target architecture; so do we
    writeFileSync(join(stage, 'manifest.yaml'), manifest(p));
    const charm = join(o.out, `pinger_${p.name.replace(/:/g, '-')}.charm`);
    rmSync(charm, { force: true });
    execFileSync('zip', ['-q', '-r', '-X', '-y', charm, '.'], { cwd: stage });
    charms.push(charm);
  }
  return { stage, charm: charms[0], charms };
}

const arch = () => ({ x64: 'amd64', arm64: 'arm64' })[process.arch as 'x64'] ?? process.arch;

/** charmcraft.yaml and metadata.yaml as charmcraft would check them; throws with every problem found. */
export function checkProject(dir = charmSrc): z.infer<typeof charmcraftSchema> {
  const project = parse(readFileSync(join(dir, 'charmcraft.yaml'), 'utf8')) as Record<string, unknown>;
  const meta = parse(readFileSync(join(dir, 'metadata.yaml'), 'utf8')) as unknown;
  const errs = [...problems(charmcraftSchema, project, 'charmcraft.yaml'), ...problems(metadataSchema, meta, 'metadata.yaml')];
  // metadata.yaml exists: its keys must not be in charmcraft.yaml as well (charmcraft refuses both).
  for (const k of metadataKeys) if (k in project) errs.push(`charmcraft.yaml: ${k}: belongs in metadata.yaml (it exists)`);
  if (errs.length) throw new Error(`the charm project does not pass charmcraft's checks:\n${errs.join('\n')}`);
  return charmcraftSchema.parse(project);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(charmSrc, 'build') },
      'skip-build': { type: 'boolean' },
      'link-runtime': { type: 'boolean' },
      'no-zip': { type: 'boolean' },
    },
  });
  try {
    const r = pack({ out: resolve(values.out!), build: !values['skip-build'], linkRuntime: !!values['link-runtime'], zip: !values['no-zip'] });
    process.stdout.write(`staged ${r.stage}\n${r.charms.map((c) => `built ${c} (${(statSync(c).size / 1e6).toFixed(1)} MB)\n`).join('')}`);
  } catch (err) {
    process.stderr.write(`charm pack: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}

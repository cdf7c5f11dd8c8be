// The subset of charmcraft's project schema that Pinger's packing relies on, as zod schemas, so a pack (and
// the tests) refuse what `charmcraft pack` would refuse. Written from charmcraft's documentation:
//   charmcraft.yaml file reference  https://documentation.ubuntu.com/charmcraft/stable/reference/files/charmcraft-yaml-file/
//   platforms reference (standard, shorthand, multi-base, multi-base shorthand notations)
//                                   https://documentation.ubuntu.com/charmcraft/stable/reference/platforms/
//   metadata.yaml (charm metadata v2, as Juju reads it), manifest.yaml (written by charmcraft into every .charm).
// Pure: validates parsed YAML.
import { z } from 'zod';

const arch = z.enum(['amd64', 'arm64', 'armhf', 'ppc64el', 'riscv64', 's390x']);
const baseRe = /^(ubuntu|centos|almalinux)@\d+(\.\d+)?$/;
const base = z.string().regex(baseRe, 'expected <distribution>@<series>, e.g. ubuntu@24.04');
/** "<base>:<arch>", the multi-base form of a build-on / build-for entry or platform name. */
const baseArch = z
  .string()
  .regex(/^(ubuntu|centos|almalinux)@\d+(\.\d+)?:(amd64|arm64|armhf|ppc64el|riscv64|s390x|all)$/, 'expected <base>:<arch>, e.g. ubuntu@24.04:amd64');
const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]);

const platform = z.strictObject({ 'build-on': oneOrMany(z.string()), 'build-for': oneOrMany(z.string()) }).nullable();

const part = z.looseObject({
  plugin: z.enum(['charm', 'dump', 'nil', 'python', 'poetry', 'uv', 'reactive', 'go', 'rust', 'npm', 'make']).optional(),
  source: z.string().optional(),
});

/** Keys that belong to metadata.yaml / config.yaml / actions.yaml when those files exist. */
export const metadataKeys = [
  'name',
  'title',
  'summary',
  'description',
  'assumes',
  'containers',
  'devices',
  'display-name',
  'docs',
  'extra-bindings',
  'issues',
  'maintainers',
  'peers',
  'provides',
  'requires',
  'resources',
  'source',
  'storage',
  'subordinate',
  'terms',
  'website',
  'config',
  'actions',
] as const;

export const charmcraftSchema = z
  .looseObject({
    type: z.enum(['charm', 'bundle']),
    base: base.optional(),
    'build-base': base.optional(),
    platforms: z.record(z.string().min(1), platform).optional(),
    /** Deprecated form (charmcraft 2): refused together with base/platforms, and for 24.04 and later. */
    bases: z.array(z.unknown()).optional(),
    parts: z.record(z.string().regex(/^[a-z0-9][a-z0-9.+-]*$/, 'part names: lowercase letters, digits, ".", "+", "-"'), part).optional(),
  })
  .superRefine((p, ctx) => {
    const issue = (message: string, path: (string | number)[] = []) => ctx.addIssue({ code: 'custom', message, path });
    if ('series' in p) issue('"series" is not a charmcraft.yaml key (deprecated in metadata too): use base/platforms', ['series']);
    if (p.bases && (p.base || p.platforms)) issue('"bases" cannot be combined with "base" or "platforms"', ['bases']);
    if (p.bases) {
      for (const [i, b] of p.bases.entries()) {
        const channels = JSON.stringify(b).match(/"channel":"(\d+\.\d+)"/g) ?? [];
        if (channels.some((c) => Number(c.split('"')[3]!.split('.')[0]) >= 24))
          issue('"bases" is not supported for Ubuntu 24.04 and later: use base/platforms', ['bases', i]);
      }
    }
    if (p.type === 'charm' && !p.bases && !p.platforms) issue('a charm needs "platforms" (or the deprecated "bases")', ['platforms']);
    for (const [name, spec] of Object.entries(p.platforms ?? {})) {
      const multi = name.includes(':');
      if (spec === null) {
        // Shorthand: the name says it all: "<arch>" with a top-level base, or "<base>:<arch>" without one.
        if (multi) {
          if (!baseArch.safeParse(name).success) issue(`platform "${name}": expected <base>:<arch>`, ['platforms', name]);
          if (p.base) issue(`platform "${name}" names its base: remove the top-level "base" (multi-base shorthand)`, ['base']);
        } else {
          if (!arch.safeParse(name).success) issue(`platform "${name}": shorthand names must be an architecture (amd64, arm64, ...)`, ['platforms', name]);
          if (!p.base) issue(`platform "${name}" needs a top-level "base" (or name it <base>:<arch>)`, ['platforms', name]);
        }
        continue;
      }
      const entries = [spec['build-on'], spec['build-for']].flat();
      const withBase = entries.filter((e) => e.includes(':'));
      if (withBase.length && withBase.length !== entries.length)
        issue(`platform "${name}": every build-on/build-for entry names a base, or none does`, ['platforms', name]);
      if (withBase.length && p.base) issue(`platform "${name}" names bases: remove the top-level "base"`, ['base']);
      if (!withBase.length && !p.base) issue(`platform "${name}" needs a top-level "base"`, ['platforms', name]);
    }
  });

/** Charm metadata (metadata.yaml): what Juju and charmcraft read from a packed charm. */
const endpoint = z.looseObject({
  interface: z.string().regex(/^[a-z][a-z0-9_-]*$/),
  limit: z.number().int().positive().optional(),
  optional: z.boolean().optional(),
  scope: z.enum(['global', 'container']).optional(),
});
export const metadataSchema = z
  .looseObject({
    name: z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]*[a-z][a-z0-9]*)*$/, 'charm names: lowercase letters, digits and hyphens'),
    summary: z.string().min(1),
    description: z.string().min(1),
    'display-name': z.string().optional(),
    maintainers: z.array(z.string()).optional(),
    subordinate: z.boolean().optional(),
    peers: z.record(z.string(), endpoint).optional(),
    provides: z.record(z.string(), endpoint).optional(),
    requires: z.record(z.string(), endpoint).optional(),
    'extra-bindings': z.record(z.string(), z.null()).optional(),
  })
  .superRefine((m, ctx) => {
    if ('series' in m)
      ctx.addIssue({ code: 'custom', message: '"series" is deprecated: the bases come from charmcraft.yaml platforms (manifest.yaml)', path: ['series'] });
    const names = [
      ...Object.keys(m.peers ?? {}),
      ...Object.keys(m.provides ?? {}),
      ...Object.keys(m.requires ?? {}),
      ...Object.keys(m['extra-bindings'] ?? {}),
    ];
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    if (dup.length) ctx.addIssue({ code: 'custom', message: `endpoint names must be unique: ${dup.join(', ')}` });
  });

/** manifest.yaml as charmcraft writes it into a .charm: one entry per base the file was packed for. */
export const manifestSchema = z.looseObject({
  'charmcraft-version': z.string(),
  'charmcraft-started-at': z.string(),
  bases: z.array(z.strictObject({ name: z.string(), channel: z.string().regex(/^\d+\.\d+$/), architectures: z.array(arch).min(1) })).min(1),
});

/** The platforms a charmcraft.yaml packs: base (name, channel) and architecture each. */
export function platformsOf(p: z.infer<typeof charmcraftSchema>): { name: string; base: { name: string; channel: string }; arch: string }[] {
  return Object.entries(p.platforms ?? {}).map(([name, spec]) => {
    const target = spec ? [spec['build-for']].flat()[0]! : name;
    const [b, a] = target.includes(':') ? (target.split(':') as [string, string]) : [p.base!, target];
    const [distro, channel] = b.split('@') as [string, string];
    return { name, base: { name: distro, channel }, arch: a };
  });
}

export function problems(schema: z.ZodType, doc: unknown, file: string): string[] {
  const r = schema.safeParse(doc);
  return r.success ? [] : r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(top level)'}: ${i.message}`);
}

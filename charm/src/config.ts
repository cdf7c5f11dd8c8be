// The charm's config, validated first: a bad option becomes a `blocked` status that names the option and
// the problem, never a failed hook. Pure.
export interface PortsOverride {
  tcp: number[];
  udp: number[];
}

export interface CharmConfig {
  profile: string;
  /** Seconds; 0 keeps the profile's interval. */
  probeInterval: number;
  /** Empty: every binding in metadata.yaml. */
  bindings: string[];
  /** The raw specs, passed on to the aggregator as they are once valid. */
  ports: string;
  mtu: string;
  portsByBinding: Record<string, PortsOverride>;
  mtuByBinding: Record<string, number>;
  aggregatorMode: 'leader' | 'external';
  aggregatorPort: number;
  aggregatorBinding: string;
  externalUrl: string;
  externalToken: string;
}

export type ConfigResult = { ok: true; config: CharmConfig } | { ok: false; problem: string };

const bindingName = /^[a-z][a-z0-9-]*$/;

/** "internal=5000,8774 overlay=6081/udp,6643" -> per binding TCP and UDP ports. */
export function parsePorts(spec: string): Record<string, PortsOverride> {
  const out: Record<string, PortsOverride> = {};
  for (const item of spec.trim().split(/\s+/).filter(Boolean)) {
    const m = /^([^=]+)=(.*)$/.exec(item);
    if (!m || !bindingName.test(m[1]!)) throw new Error(`"${item}": expected binding=port[,port[/udp]...]`);
    const p: PortsOverride = (out[m[1]!] = { tcp: [], udp: [] });
    for (const port of m[2]!.split(',').filter(Boolean)) {
      const pm = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(port);
      const n = pm ? Number(pm[1]) : NaN;
      if (!pm || n < 1 || n > 65535) throw new Error(`"${item}": "${port}" is not a port (1-65535, optionally /tcp or /udp)`);
      (pm[2] === 'udp' ? p.udp : p.tcp).push(n);
    }
  }
  return out;
}

/** "ceph-cluster=9000 overlay=1500" -> required path MTU per binding. */
export function parseMtu(spec: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of spec.trim().split(/\s+/).filter(Boolean)) {
    const m = /^([^=]+)=(\d+)$/.exec(item);
    const n = m ? Number(m[2]) : NaN;
    if (!m || !bindingName.test(m[1]!) || n < 576 || n > 65535) throw new Error(`"${item}": expected binding=MTU with MTU 576-65535`);
    out[m[1]!] = n;
  }
  return out;
}

// size: one check per config option, in config.yaml's order
export function parseConfig(raw: Record<string, unknown>, known: { bindings: string[]; profiles: string[] }): ConfigResult {
  const s = (k: string, d = ''): string => (typeof raw[k] === 'string' ? (raw[k] as string) : d);
  const n = (k: string, d: number): number => (typeof raw[k] === 'number' ? (raw[k] as number) : d);
  const fail = (option: string, problem: string): ConfigResult => ({ ok: false, problem: `config ${option}: ${problem}` });

  const profile = s('profile', 'openstack');
  if (!known.profiles.includes(profile)) return fail('profile', `unknown profile "${profile}" (built in: ${known.profiles.join(', ')})`);
  const probeInterval = n('probe-interval', 0);
  // The probe timeout (1 s in the shipped profiles) must fit inside the interval.
  if (!Number.isInteger(probeInterval) || (probeInterval !== 0 && probeInterval < 2) || probeInterval > 3600)
    return fail('probe-interval', `${probeInterval} is not 0 (the profile's) or 2-3600 seconds`);
  const bindings = s('bindings').split(/\s+/).filter(Boolean);
  const unknown = bindings.filter((b) => !known.bindings.includes(b));
  if (unknown.length) return fail('bindings', `unknown binding "${unknown[0]}" (known: ${known.bindings.join(', ')})`);
  let portsByBinding: Record<string, PortsOverride>;
  let mtuByBinding: Record<string, number>;
  try {
    portsByBinding = parsePorts(s('ports'));
  } catch (err) {
    return fail('ports', (err as Error).message);
  }
  try {
    mtuByBinding = parseMtu(s('mtu'));
  } catch (err) {
    return fail('mtu', (err as Error).message);
  }
  for (const [opt, names] of [
    ['ports', Object.keys(portsByBinding)],
    ['mtu', Object.keys(mtuByBinding)],
  ] as const) {
    const bad = names.find((b) => !known.bindings.includes(b));
    if (bad) return fail(opt, `unknown binding "${bad}" (known: ${known.bindings.join(', ')})`);
  }
  const mode = s('aggregator-mode', 'leader');
  if (mode !== 'leader' && mode !== 'external') return fail('aggregator-mode', `"${mode}" is not leader or external`);
  const aggregatorPort = n('aggregator-port', 9300);
  if (!Number.isInteger(aggregatorPort) || aggregatorPort < 1 || aggregatorPort > 65535) return fail('aggregator-port', `${aggregatorPort} is not a port`);
  const aggregatorBinding = s('aggregator-binding', 'peers');
  if (!known.bindings.includes(aggregatorBinding)) return fail('aggregator-binding', `unknown binding "${aggregatorBinding}"`);
  const externalUrl = s('external-aggregator-url');
  const externalToken = s('external-aggregator-token');
  if (mode === 'external' && !/^https?:\/\/[^/\s]+\/?$/.test(externalUrl)) return fail('external-aggregator-url', `"${externalUrl}" is not http://HOST:PORT`);
  if (mode === 'external' && !externalToken) return fail('external-aggregator-token', 'is empty (aggregator-mode=external needs it)');
  return {
    ok: true,
    config: {
      profile,
      probeInterval,
      bindings,
      ports: s('ports').trim(),
      mtu: s('mtu').trim(),
      portsByBinding,
      mtuByBinding,
      aggregatorMode: mode,
      aggregatorPort,
      aggregatorBinding,
      externalUrl: externalUrl.replace(/\/$/, ''),
      externalToken,
    },
  };
}

/** Does the config override the profile at all? If not, a hook loads neither the profile parser nor YAML. */
export function hasOverrides(cfg: CharmConfig): boolean {
  return !!cfg.probeInterval || Object.keys(cfg.portsByBinding).length > 0 || Object.keys(cfg.mtuByBinding).length > 0;
}

// The charm's config overrides (interval, ports, MTU per binding) as a profile file that extends the chosen
// built-in profile (README "Readiness profiles"), so the aggregator judges by one profile as usual. Pure.
import { stringify } from 'yaml';
import type { Profile } from '../../aggregator/profile.js';
import type { CharmConfig } from './config.js';

/** undefined: no overrides, pass the built-in profile by name. */
export function profileOverrides(cfg: CharmConfig, base: Profile): string | undefined {
  const bindings: Record<string, unknown[]> = {};
  for (const [b, ports] of Object.entries(cfg.portsByBinding)) {
    // "Replacing the profile's" ports: switch off the inherited ones the override leaves out.
    const had = base.bindings[b] ?? base.bindings['*'] ?? { tcp: [], udp: [] };
    const list: unknown[] = (bindings[b] ??= []);
    for (const p of had.tcp) if (!ports.tcp.includes(p)) list.push({ condition: `tcp ${p} open`, severity: 'off' });
    for (const p of had.udp) if (!ports.udp.includes(p)) list.push({ condition: `udp ${p} open`, severity: 'off' });
    for (const p of ports.tcp) list.push(`tcp ${p} open`);
    for (const p of ports.udp) list.push(`udp ${p} open`);
  }
  for (const [b, mtu] of Object.entries(cfg.mtuByBinding)) (bindings[b] ??= []).push(`mtu >= ${mtu}`);
  if (!cfg.probeInterval && Object.keys(bindings).length === 0) return undefined;
  const doc: Record<string, unknown> = { name: cfg.profile, extends: cfg.profile };
  if (cfg.probeInterval) doc.interval = `${cfg.probeInterval}s`;
  if (Object.keys(bindings).length) doc.bindings = bindings;
  return `# Written by the pinger charm from its config (profile, probe-interval, ports, mtu); do not edit.\n${stringify(doc)}`;
}

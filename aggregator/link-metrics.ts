// A node's link series (pure): its slowest port's speed and a bond's members by MII state, per binding. Built
// once per hello (the facts' array is the same until the next one) and marked stable, so the exposition writer
// formats each line once too: at 1,000 bonded nodes x 6 bindings they are 18,000 of /metrics's ~23,000 series.
import type { LinkFact } from '../agent/contract/link-wire.js';
import { formatStable } from './exposition.js';
import type { Sample } from './metrics.js';

export interface LinkSamples {
  speed: Sample[];
  bond: Sample[];
}

const cache = new WeakMap<readonly LinkFact[], { node: string; samples: LinkSamples }>();

export function linkSamples(node: string, links: readonly LinkFact[]): LinkSamples {
  const hit = cache.get(links);
  if (hit?.node === node) return hit.samples;
  const samples: LinkSamples = { speed: [], bond: [] };
  // One series per node and binding, never per pair or per port.
  const seen = new Set<string>();
  for (const l of links) {
    if (seen.has(l.binding)) continue;
    seen.add(l.binding);
    let speed = Number.POSITIVE_INFINITY;
    for (const p of l.ports) if (p.speedMbps !== null && p.speedMbps < speed) speed = p.speedMbps;
    if (speed !== Number.POSITIVE_INFINITY) samples.speed.push({ labels: { node, binding: l.binding }, value: speed * 1e6, stable: true });
    if (l.bond) {
      const up = l.ports.filter((p) => (p.mii ?? 'up') === 'up').length;
      samples.bond.push({ labels: { node, binding: l.binding, state: 'up' }, value: up, stable: true });
      samples.bond.push({ labels: { node, binding: l.binding, state: 'down' }, value: l.ports.length - up, stable: true });
    }
  }
  cache.set(links, { node, samples });
  return samples;
}

/**
 * Builds a hello's link series and formats their lines when the hello arrives, not at the next scrape: the first
 * scrape after a fleet of bonded nodes starts formatted all 18,000 of them, and took 147-212 ms against 60-101 ms
 * for the scrapes after it (BENCHMARKS.md "AFTER 10").
 */
export function warmLinkLines(node: string, links: readonly LinkFact[]): void {
  const l = linkSamples(node, links);
  formatStable('pinger_link_speed_bits_per_second', l.speed);
  formatStable('pinger_bond_members', l.bond);
}

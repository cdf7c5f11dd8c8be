// Profile conditions on the links behind a binding (README "Readiness profiles"): `link_speed >= 10G`
// (every physical port under each node's binding interface negotiated at least that), `bond healthy` (every
// member up, all in the active LACP aggregator with one partner) and `port description names node` (the
// switch port's LLDP description names the node cabled to it: magpie's check_port_description). Parsed
// here, checked by link-diagnosis.ts. Pure.
import type { Severity } from './conditions.js';

export const linkChecks = {
  link_speed: { kind: 'link-speed-low', what: 'negotiated speed of each physical port under the binding interface' },
  bond: { kind: 'bond-degraded', what: 'bond members up and LACP agreed with one partner' },
  port_description: { kind: 'port-description-mismatch', what: "the switch port's LLDP description names the node" },
  bandwidth: { kind: 'bandwidth-low', what: 'TCP throughput between pairs of the binding, sampled (needs bandwidth_sample)' },
} as const;
export type LinkCheck = keyof typeof linkChecks;

export interface LinkCondition {
  type: 'link';
  check: LinkCheck;
  /** link_speed, bandwidth: the minimum, Mb/s. */
  minMbps?: number;
  text: string;
  severity: Severity;
}

const rateUnits: Record<string, number> = { m: 1, g: 1000, t: 1_000_000 };

/** "10G", "25Gb/s", "100M", "1000Mbps" -> Mb/s; undefined if it is not a rate. */
export function parseRate(raw: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([mgt])(?:b(?:it)?(?:\/s|ps)?)?$/i.exec(raw.trim());
  if (!m) return undefined;
  const v = Number(m[1]) * rateUnits[m[2]!.toLowerCase()]!;
  return v > 0 && v <= 10_000_000 ? v : undefined;
}

/** A rate as people write it: 10G, 2.5G, 100M. */
export function formatRate(mbps: number): string {
  if (mbps >= 1_000_000) return `${Math.round(mbps / 10_000) / 100}T`;
  if (mbps >= 1000) return `${Math.round(mbps / 10) / 100}G`;
  return `${Math.round(mbps * 100) / 100}M`;
}

/**
 * One of the link conditions, or undefined when the text is none of them (the caller goes on), or a string:
 * the error to report (it is one of them, written wrong).
 */
export function parseLinkCondition(t: string, severity: Severity): LinkCondition | string | undefined {
  if (t === 'bond healthy') return { type: 'link', check: 'bond', text: t, severity };
  if (/^bond\b/.test(t)) return `"${t}": the bond condition is written "bond healthy"`;
  if (t === 'port description names node') return { type: 'link', check: 'port_description', text: t, severity };
  if (/^port description\b/.test(t)) return `"${t}": write "port description names node"`;
  const bw = /^\[?bandwidth\]?\s*(==|!=|<=|>=|<|>)\s*(.+)$/.exec(t);
  if (bw) {
    if (bw[1] !== '>=') return `"${t}": write "bandwidth >= RATE" (every sampled pair must reach at least that)`;
    const v = parseRate(bw[2]!);
    if (v === undefined) return `"${bw[2]}" is not a rate like 1G, 500M or 10G`;
    return { type: 'link', check: 'bandwidth', minMbps: v, text: t, severity };
  }
  if (/^\[?bandwidth\b/.test(t)) return `"${t}": write "bandwidth >= 1G"`;
  const m = /^\[?link_speed\]?\s*(==|!=|<=|>=|<|>)\s*(.+)$/.exec(t);
  if (!m) return /^\[?link_speed\b/.test(t) ? `"${t}": write "link_speed >= 10G"` : undefined;
  if (m[1] !== '>=') return `"${t}": write "link_speed >= RATE" (every port must run at least that fast)`;
  const v = parseRate(m[2]!);
  if (v === undefined) return `"${m[2]}" is not a rate like 10G, 25G or 1000M`;
  return { type: 'link', check: 'link_speed', minMbps: v, text: t, severity };
}

// The readiness profile: what every binding must carry. The aggregator owns it and derives each agent's
// probe plan from it, so all agents probe alike. Pure.
import type { Inventory } from '../agent/inventory.js';
import type { ProbePlan } from '../agent/wire.js';

export interface BindingRequirement {
  tcp: number[];
  udp: number[];
  /** Required path MTU on this binding, checked with a DF echo. */
  mtu?: number;
}

export interface Profile {
  name: string;
  intervalMs: number;
  timeoutMs: number;
  icmpCount: number;
  /** By binding name; '*' applies to bindings the profile does not name. */
  bindings: Record<string, BindingRequirement>;
}

/** The ports OpenStack's services use per binding (../shared/docs/juju.md "What OpenStack needs"). */
export const openstackProfile: Profile = {
  name: 'openstack',
  intervalMs: 10_000,
  timeoutMs: 1_000,
  icmpCount: 3,
  bindings: {
    public: { tcp: [80, 443, 5000, 8774, 8776, 9292, 9696], udp: [] },
    admin: { tcp: [5000], udp: [] },
    internal: { tcp: [5000, 6641, 6642, 8200, 8774, 8775, 8776, 8778, 9292, 9696], udp: [] },
    'shared-db': { tcp: [3306, 33060, 33061], udp: [] },
    amqp: { tcp: [4369, 5672, 25672], udp: [] },
    'ceph-public': { tcp: [3300, 6789, 6800], udp: [] },
    'ceph-cluster': { tcp: [6800, 7300], udp: [] },
    overlay: { tcp: [6643, 6644], udp: [6081] },
    migration: { tcp: [16509], udp: [] },
    '*': { tcp: [], udp: [] },
  },
};

/** Loopback demo: unprivileged ports only, so it runs as a normal user; a short interval so it is lively. */
export const demoProfile: Profile = {
  name: 'demo',
  intervalMs: 3_000,
  timeoutMs: 500,
  icmpCount: 3,
  bindings: {
    internal: { tcp: [5000, 9292, 8774], udp: [] },
    'shared-db': { tcp: [3306], udp: [] },
    'ceph-cluster': { tcp: [6800], udp: [] },
    '*': { tcp: [5000], udp: [] },
  },
};

export const builtinProfiles: Record<string, Profile> = { openstack: openstackProfile, demo: demoProfile };

export function requirementFor(profile: Profile, binding: string): BindingRequirement {
  return profile.bindings[binding] ?? profile.bindings['*'] ?? { tcp: [], udp: [] };
}

export function planFor(profile: Profile, inventory: Inventory): ProbePlan {
  const bindings: ProbePlan['bindings'] = {};
  for (const b of inventory.bindings) {
    const r = requirementFor(profile, b);
    bindings[b] = { tcp: [...r.tcp], udp: [...r.udp], ...(r.mtu ? { mtu: r.mtu } : {}) };
  }
  return {
    profile: profile.name,
    intervalMs: profile.intervalMs,
    timeoutMs: profile.timeoutMs,
    icmpCount: profile.icmpCount,
    bindings,
  };
}

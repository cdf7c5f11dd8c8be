// The one table of probe kinds. The round runner and config refer to kinds by these keys only, so the
// kind union is derived from this object and never listed twice.
import { IcmpUnavailableError } from './icmp-engine.js';
import { defaultIcmpEngine, icmpProbe } from './icmp.js';
import type { ProbeFn } from '../contract/probe.js';
import { tcpProbe } from './tcp.js';
import { udpProbe, type UdpKeyRef } from './udp.js';

/** `udpKey`: where the UDP echo probe finds its key (the aggregator's welcome fills it in). */
export function probeKinds(udpKey: UdpKeyRef = {}) {
  return {
    icmp: icmpProbe,
    tcp: tcpProbe,
    udp: udpProbe(udpKey),
  } as const satisfies Record<string, ProbeFn>;
}
export type ProbeKind = keyof ReturnType<typeof probeKinds>;

export function defaultProbes(udpKey: UdpKeyRef = {}): Record<ProbeKind, ProbeFn> {
  return probeKinds(udpKey);
}

/** Whether ICMP can be measured here; checked once at start so the agent can say so once, clearly. */
export function icmpStatus(): { state: 'available' | 'not-measured'; detail?: string } {
  try {
    defaultIcmpEngine().open(4);
    return { state: 'available' };
  } catch (err) {
    if (err instanceof IcmpUnavailableError) return { state: 'not-measured', detail: `${err.code}: ${err.message}` };
    throw err;
  }
}

// What an agent says about the links behind its bindings (speed, duplex, bond/LACP state, LLDP neighbours):
// the bounded schema of the hello's `links` and `lldp` fields. Every string and list has a ceiling, because
// the aggregator accepts these bytes from the network. Pure.
import { z } from 'zod';

/** A Linux interface name: IFNAMSIZ is 16 with the NUL, no '/' or whitespace. */
const ifname = z
  .string()
  .min(1)
  .max(15)
  .regex(/^[^\s/]+$/, 'is not an interface name');
const mac = z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'is not a MAC address (aa:bb:cc:dd:ee:ff)');
/** Mb/s as the kernel reports it; 1.6 Tb/s links exist, nothing faster yet. */
const speed = z.number().int().min(0).max(10_000_000).nullable();
const u16 = z.number().int().min(0).max(65535);
const text = (max: number) => z.string().max(max);
/** An interface MTU as the kernel reports it: lo has 65536; jumbo frames stop at 9216 on most NICs, but the kernel allows more. */
export const ifaceMtu = z
  .number()
  .int()
  .min(68)
  .max(1 << 20)
  .nullable();
/** What the kernel says of one interface's link, on a port and on the binding's interface alike. */
const linkState = {
  speedMbps: speed,
  duplex: z.enum(['full', 'half']).nullable(),
  carrier: z.boolean().nullable(),
  mtu: ifaceMtu,
  operstate: text(16).nullable(),
};

/** One side of an LACP exchange as /proc/net/bonding shows it per member ("details actor/partner lacp pdu"). */
export const lacpPeer = z.strictObject({ systemMac: mac, key: u16, portState: z.number().int().min(0).max(255) });

/** One LLDP neighbour heard on a physical port (lldpd's view). */
export const lldpNeighbour = z.strictObject({
  /** The switch: its system name, or its chassis id when it sends no name. */
  chassis: text(255),
  chassisId: text(255),
  /** The switch's port id (often its interface name, e.g. Ethernet12 or swp3). */
  port: text(255),
  portDescr: text(255).optional(),
  /** Heard before, not now: the link went down or the switch stopped talking (a dead switch sends nothing). */
  stale: z.boolean().optional(),
});

/** A physical interface under the binding's interface (a bond member, a VLAN's parent), or the interface itself. */
export const linkPort = z.strictObject({
  iface: ifname,
  ...linkState,
  /** Bond members only: the member's MII status ("up", "down", "going back", ...). */
  mii: text(16).optional(),
  aggregatorId: u16.optional(),
  linkFailures: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32)
    .optional(),
  actor: lacpPeer.optional(),
  partner: lacpPeer.optional(),
  lldp: z.array(lldpNeighbour).max(8).optional(),
});

export const bondInfo = z.strictObject({
  /** The kernel's mode name: 802.3ad, active-backup, balance-rr, ... */
  mode: text(32),
  mii: text(16).nullable(),
  /** 802.3ad: the active aggregator the bond transmits on, and who it is bundled with. */
  aggregatorId: u16.optional(),
  ports: u16.optional(),
  actorKey: u16.optional(),
  partnerKey: u16.optional(),
  partnerMac: mac.optional(),
});

export const linkFact = z.strictObject({
  binding: z.string().min(1).max(253),
  iface: ifname,
  kind: z.enum(['physical', 'bond', 'vlan', 'bridge', 'loopback', 'virtual']),
  ...linkState,
  bond: bondInfo.optional(),
  /** The physical interfaces the binding's traffic leaves by: the bond's members, a VLAN's parent (or its members). */
  ports: z.array(linkPort).max(16),
});

/** Whether the agent could read LLDP: lldpd runs and answered, is not installed, or is not running. */
export const lldpState = z.enum(['ok', 'not-installed', 'not-running', 'error']);

export type LacpPeer = z.infer<typeof lacpPeer>;
export type LldpNeighbour = z.infer<typeof lldpNeighbour>;
export type LinkPort = z.infer<typeof linkPort>;
export type BondInfo = z.infer<typeof bondInfo>;
export type LinkFact = z.infer<typeof linkFact>;
export type LldpState = z.infer<typeof lldpState>;

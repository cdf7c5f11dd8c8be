// linkFact (./link-wire.ts) in plain loops (pure): never wider than the schema, which then parses only to word a
// refusal. A bonded node's hello carries ~6 facts of a bond's members, LACP partners and LLDP neighbours: zod's
// parse of them was ~75 of ~100 us a hello (BENCHMARKS.md "AFTER 9"), 1,000 of them as a fleet starts.
import { keysOf, list, nameOk, onlyKeys, optional, text } from './wire-fields.js';
import { isPlain } from './wire-limits.js';
import { bondInfo, lacpPeer, linkFact, linkPort, lldpNeighbour } from './link-wire.js';

const factKeys = keysOf(linkFact.shape);
const portKeys = keysOf(linkPort.shape);
const bondKeys = keysOf(bondInfo.shape);
const lacpKeys = keysOf(lacpPeer.shape);
const lldpKeys = keysOf(lldpNeighbour.shape);
const kinds = new Set<unknown>(linkFact.shape.kind.options);

const int = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const u16 = (v: unknown) => int(v, 0, 65535);
const ifname = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 15 && /^[^\s/]+$/.test(v);
const mac = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(v);

/** speedMbps, duplex, carrier, mtu, operstate: each present, null or in range. */
const linkStateOk = (x: Record<string, unknown>) =>
  (x.speedMbps === null || int(x.speedMbps, 0, 10_000_000)) &&
  (x.duplex === null || x.duplex === 'full' || x.duplex === 'half') &&
  (x.carrier === null || typeof x.carrier === 'boolean') &&
  (x.mtu === null || int(x.mtu, 68, 1 << 20)) &&
  (x.operstate === null || text(x.operstate, 16));

const lacpOk = (x: unknown) => isPlain(x) && onlyKeys(x, lacpKeys) && mac(x.systemMac) && u16(x.key) && int(x.portState, 0, 255);

const lldpOk = (x: unknown) =>
  isPlain(x) &&
  onlyKeys(x, lldpKeys) &&
  text(x.chassis, 255) &&
  text(x.chassisId, 255) &&
  text(x.port, 255) &&
  optional(x.portDescr, (v) => text(v, 255)) &&
  optional(x.stale, (v) => typeof v === 'boolean');

const portOk = (x: unknown) =>
  isPlain(x) &&
  onlyKeys(x, portKeys) &&
  ifname(x.iface) &&
  linkStateOk(x) &&
  optional(x.mii, (v) => text(v, 16)) &&
  optional(x.aggregatorId, u16) &&
  optional(x.linkFailures, (v) => int(v, 0, 2 ** 32)) &&
  optional(x.actor, lacpOk) &&
  optional(x.partner, lacpOk) &&
  optional(x.lldp, (v) => list(v, 8, lldpOk));

const bondOk = (x: unknown) =>
  isPlain(x) &&
  onlyKeys(x, bondKeys) &&
  text(x.mode, 32) &&
  (x.mii === null || text(x.mii, 16)) &&
  optional(x.aggregatorId, u16) &&
  optional(x.ports, u16) &&
  optional(x.actorKey, u16) &&
  optional(x.partnerKey, u16) &&
  optional(x.partnerMac, mac);

/** What linkFact accepts, and never more. */
export function linkFactOk(x: unknown): boolean {
  return (
    isPlain(x) &&
    onlyKeys(x, factKeys) &&
    nameOk(x.binding) &&
    ifname(x.iface) &&
    kinds.has(x.kind) &&
    linkStateOk(x) &&
    optional(x.bond, bondOk) &&
    list(x.ports, 16, portOk)
  );
}

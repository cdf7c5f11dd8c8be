// What the agent tells the aggregator about its links: the link facts of each binding's interface (sysfs,
// /proc/net/bonding) with the LLDP neighbours heard on each physical port. Re-read every round; the hello
// is re-sent only when something changed. A neighbour heard before and gone now is kept, marked stale, for
// an hour: when a switch dies its LLDP goes with it, and that is when the report needs its name.
import { readLinkFacts } from './link-facts.js';
import type { LinkFact, LldpNeighbour, LldpState } from './contract/link-wire.js';
import { readLldp, type LldpRead } from './lldp.js';

const STICKY_MS = 3_600_000;
/**
 * lldpcli is a process per call: asked every 30 s (lldpd's own transmit interval) once it has answered with
 * neighbours, every 60 s while lldpd is absent, and every round only while it runs but has heard nothing yet.
 */
const LLDP_EVERY_MS = 30_000;
const LLDP_ABSENT_EVERY_MS = 60_000;

export interface LinkWatchOptions {
  /** Root of /sys and /proc (tests: a fixture tree). */
  root?: string;
  /** lldpd's control socket (lldpd -u); default lldpd's own. */
  lldpSocket?: string;
  /** The LLDP source; default lldpcli. */
  lldp?: () => Promise<LldpRead>;
  now?: () => number;
}

export class LinkWatch {
  private links: LinkFact[] = [];
  private state: LldpState | undefined;
  private readonly heard = new Map<string, { list: LldpNeighbour[]; at: number }>();
  private busy = false;
  private lldpAt = -Infinity;
  private lastLldp: LldpRead | undefined;
  /**
   * binding + address -> the interface last seen holding it: a link that goes down drops out of
   * os.networkInterfaces() (libuv lists only running interfaces), and a down link is what to report.
   */
  private readonly lastIface = new Map<string, string>();

  constructor(private readonly opts: LinkWatchOptions = {}) {}

  /** The hello's fields: nothing until the first read. */
  fields(): { links?: LinkFact[]; lldp?: LldpState } {
    return this.state === undefined ? {} : { links: this.links, lldp: this.state };
  }

  /** Reads everything again; true when the hello's fields changed. */
  async refresh(interfaces: readonly { binding: string; address?: string; iface: string | null }[]): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      const before = JSON.stringify(this.fields());
      const now = (this.opts.now ?? Date.now)();
      const last = this.lastLldp;
      const every = !last ? 0 : last.state !== 'ok' ? LLDP_ABSENT_EVERY_MS : last.neighbours.size ? LLDP_EVERY_MS : 0;
      if (!last || now - this.lldpAt >= every) {
        this.lastLldp = await (this.opts.lldp ?? (() => readLldp(this.opts.lldpSocket ? { socket: this.opts.lldpSocket } : {})))();
        this.lldpAt = now;
      }
      const lldp = this.lastLldp!;
      for (const [iface, list] of lldp.neighbours) if (list.length) this.heard.set(iface, { list, at: now });
      for (const [iface, h] of this.heard) if (now - h.at > STICKY_MS) this.heard.delete(iface);
      const key = (i: { binding: string; address?: string }) => `${i.binding}\u0000${i.address ?? ''}`;
      for (const i of interfaces) if (i.iface) this.lastIface.set(key(i), i.iface);
      const known = interfaces.map((i) => ({ binding: i.binding, iface: i.iface ?? this.lastIface.get(key(i)) ?? null }));
      const links = readLinkFacts(known, this.opts.root ? { root: this.opts.root } : {});
      for (const l of links) {
        for (const p of l.ports) {
          const nowHeard = lldp.neighbours.get(p.iface);
          const h = this.heard.get(p.iface);
          if (nowHeard?.length) p.lldp = nowHeard;
          else if (h) p.lldp = h.list.map((n) => ({ ...n, stale: true }));
        }
      }
      this.links = links;
      this.state = lldp.state;
      return JSON.stringify(this.fields()) !== before;
    } finally {
      this.busy = false;
    }
  }
}

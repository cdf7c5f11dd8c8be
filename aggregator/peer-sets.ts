// The peer sets this aggregator has offered (./routes/agent-ws.ts sends the current one's id in welcomes and
// plans): the current inventory's and, for results already on their way when the inventory was reloaded, the
// last few before it. Pure.
import { PeerSet, type PeerSetNode } from '../agent/contract/peer-set.js';

/** Sets kept: the current one and three before it (a reload every few seconds still resolves frames in flight). */
const KEEP = 4;

export class PeerSets {
  private readonly byId = new Map<string, PeerSet>();
  private cur: PeerSet | undefined;

  /** The new current set, of the inventory's nodes in order. */
  adopt(nodes: readonly PeerSetNode[]): PeerSet {
    const set = new PeerSet(nodes);
    this.byId.delete(set.id); // re-adopted (a reload back to an earlier inventory): newest again
    this.byId.set(set.id, set);
    for (const id of this.byId.keys()) if (this.byId.size > KEEP) this.byId.delete(id);
    return (this.cur = set);
  }

  /** The id to offer agents: none when its indices would not fit the wire's bounds. */
  get offered(): string | undefined {
    return this.cur?.fits ? this.cur.id : undefined;
  }

  get(id: string): PeerSet | undefined {
    return this.byId.get(id);
  }
}

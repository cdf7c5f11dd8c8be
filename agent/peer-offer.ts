// Whether this connection's results may name peers by index (pure): the aggregator offers its peer set's id
// in the welcome and in every plan; the agent uses indices only while the round's peer set has an id offered
// on this connection. A new connection (maybe a new aggregator) forgets the offers until its welcome.
import { PeerSet, type PeerSetNode } from './contract/peer-set.js';

/**
 * Offers remembered: the newest and two before it. A round probed before a push still indexes into the set it
 * probed, which the aggregator still holds (it keeps four: aggregator/peer-sets.ts).
 */
const OFFERS_KEPT = 3;

export class PeerOffer {
  private offered: string[] = [];
  /** The set of the last node list asked about: a round asks with the same list until the inventory changes. */
  private last: { nodes: readonly PeerSetNode[]; set: PeerSet } | undefined;

  /** `setOf`: how a node list becomes its set (the fleet benchmark shares one set among 500 agents of a process). */
  constructor(private readonly setOf: (nodes: readonly PeerSetNode[]) => PeerSet = (nodes) => new PeerSet(nodes)) {}

  /** The aggregator's offer on this connection (undefined: it offers none now, so none before counts either). */
  offer(id: string | undefined): void {
    this.offered = id === undefined ? [] : [...this.offered.filter((o) => o !== id), id].slice(-OFFERS_KEPT);
  }

  clear(): void {
    this.offered = [];
  }

  /** The set to index into for these nodes (the inventory a round probed), or undefined: name the peers. */
  setFor(nodes: readonly PeerSetNode[]): PeerSet | undefined {
    if (this.offered.length === 0) return undefined;
    if (this.last?.nodes !== nodes) this.last = { nodes, set: this.setOf(nodes) };
    return this.offered.includes(this.last.set.id) && this.last.set.fits ? this.last.set : undefined;
  }
}

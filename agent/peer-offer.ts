// Whether this connection's results may name peers by index (pure): the aggregator offers its peer set's id
// in the welcome and in every plan; the agent uses indices only while its own peer set has that id. A new
// connection (maybe a new aggregator) forgets the offer until its welcome.
import { PeerSet, type PeerSetNode } from './contract/peer-set.js';

export class PeerOffer {
  private offered: string | undefined;
  /** The set of the last node list asked about: a round asks with the same list until the inventory changes. */
  private last: { nodes: readonly PeerSetNode[]; set: PeerSet } | undefined;

  /** `setOf`: how a node list becomes its set (the fleet benchmark shares one set among 500 agents of a process). */
  constructor(private readonly setOf: (nodes: readonly PeerSetNode[]) => PeerSet = (nodes) => new PeerSet(nodes)) {}

  /** The aggregator's offer on this connection (undefined: it offered none). */
  offer(id: string | undefined): void {
    this.offered = id;
  }

  clear(): void {
    this.offered = undefined;
  }

  /** The set to index into for these nodes (the agent's inventory), or undefined: name the peers. */
  setFor(nodes: readonly PeerSetNode[]): PeerSet | undefined {
    if (this.offered === undefined) return undefined;
    if (this.last?.nodes !== nodes) this.last = { nodes, set: this.setOf(nodes) };
    return this.last.set.id === this.offered && this.last.set.fits ? this.last.set : undefined;
  }
}

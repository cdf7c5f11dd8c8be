// ICMP identifiers (one per engine, unique in the process) and sequence numbers with their payload tags.

const usedIds = new Set<number>();

/** A random identifier no live engine of this process uses. */
export function allocId(): number {
  let id: number;
  do id = Math.floor(Math.random() * 0x10000);
  while (usedIds.has(id));
  usedIds.add(id);
  return id;
}

export function releaseId(id: number): void {
  usedIds.delete(id);
}

/**
 * A 48-bit counter: low 16 bits the sequence, the rest the payload tag. Math.random, not node:crypto (start-up
 * cost): the first sequence needs to differ between processes, not to be secret.
 */
export class SequenceCounter {
  private counter = Math.floor(Math.random() * 0x10000);

  /**
   * The next count whose sequence is not in flight: skips any still waiting (only possible with >65,536 sends
   * inside one timeout); the payload tag tells apart requests 65,536 sends apart.
   */
  next(inflight: { has(seq: number): boolean }): number {
    let c: number;
    do {
      c = this.counter;
      this.counter = (c + 1) % 0x1000000000000; // 48 bits, exact in a double
    } while (inflight.has(c & 0xffff));
    return c;
  }
}

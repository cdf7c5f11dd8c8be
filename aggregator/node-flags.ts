// The node flags the aggregator's process runs with: the charm's service and the fleet benchmark both start it so.

/**
 * V8's young generation at 8 MiB a semi-space, not 16. At 1,000 nodes x 6 bindings the aggregator's peak RSS
 * is ~30 MiB lower for the same CPU a round (BENCHMARKS.md, "AFTER 4"); 4 MiB did worse in a paired 14-round
 * run (AFTER 2: 412 against 367 MiB, and more CPU).
 */
export const AGGREGATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

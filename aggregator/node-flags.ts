// The node flags the aggregator's process runs with: the charm's service and the fleet benchmark both start it so.

/**
 * - `--max-semi-space-size=8`: V8's young generation at 8 MiB a semi-space, not 16. At 1,000 nodes x 6 bindings
 *   the peak RSS is ~30 MiB lower for the same CPU a round (BENCHMARKS.md, "AFTER 4"); 4 MiB did worse in a
 *   paired 14-round run (AFTER 2: 412 against 367 MiB, and more CPU).
 * - `--heap-growing-percent=100`: the old generation may grow to twice what survived the last full GC before
 *   the next, where V8 lets a fast-allocating process grow it up to 4x. The aggregator's live heap is ~45 MiB;
 *   V8 let it swing to ~100 MiB, and the socket-read buffers that only a full GC frees waited with it. Paired
 *   14-round runs at 1,000 x 6 (AFTER 5): RSS peak 239-245 MiB against 303-306, CPU a round within noise. 30%
 *   gave 211 MiB but ~0.5 s more CPU a round; `--optimize-for-size` 194 MiB but 2.8 s a round.
 */
export const AGGREGATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=100'];

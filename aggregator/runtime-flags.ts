// The V8 flags the aggregator's service runs with: the charm's systemd unit and the fleet benchmark start it
// with these. A young generation of 4 MiB semi-spaces instead of V8's 16: at 1,000 nodes x 6 bindings the peak
// RSS fell from 322 to 297 MiB at the same CPU a round (BENCHMARKS.md), the messages' garbage being short-lived.
export const AGGREGATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

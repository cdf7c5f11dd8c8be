#!/usr/bin/env bash
# Agent RTT vs fping on the same lab links (namespaces), idle and loaded (a CPU burner per core): ratio of
# medians (per-target round averages) and of p99s (per-target round maxima), several runs each. Each run is
# a fresh lab: test/bench/rtt-vs-fping.ts. Needs root, fping, ip, nft. Not a timed test.
# Usage: bash test/bench/rtt-vs-fping.sh [runs] [seconds] [--fallback]
#   --fallback  also runs loaded with PINGER_ICMP_NATIVE=off (raw-socket, receive time taken in JavaScript)
# The machine may be shared: every run records its 1-minute load average.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
seconds=${2:-30}
fallback=${3:-}
for c in fping ip nft; do command -v "$c" >/dev/null || { echo "needs $c (apt-get install -y fping iproute2 nftables)" >&2; exit 2; }; done
[ -f agent/probes/native/build/Release/pinger_icmp.node ] || { echo "agent/probes/native/build/Release/pinger_icmp.node missing: npm ci (or npm run install)" >&2; exit 2; }
out=$(mktemp /tmp/pinger-bench-rtt.XXXXXX)
trap 'rm -f "$out"' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg), fping $(fping -v 2>&1 | head -1)"
modes=(idle load)
[ "$fallback" = --fallback ] && modes+=(fallback)
for mode in "${modes[@]}"; do
  for i in $(seq 1 "$runs"); do
    case $mode in
      idle) line=$(node --import tsx test/bench/rtt-vs-fping.ts --seconds "$seconds") ;;
      load) line=$(node --import tsx test/bench/rtt-vs-fping.ts --load --seconds "$seconds") ;;
      fallback) line=$(PINGER_ICMP_NATIVE=off node --import tsx test/bench/rtt-vs-fping.ts --load --seconds "$seconds") ;;
    esac
    echo "$mode $line" | tee -a "$out"
  done
done
# Medians over the runs of each mode.
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
const by = {};
for (const l of lines) { const [mode, json] = [l.slice(0, l.indexOf(" ")), JSON.parse(l.slice(l.indexOf(" ") + 1))]; (by[mode] ??= []).push(json); }
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
console.log("| mode | runs | load1 (median) | agent median / p99 ms | fping median / p99 ms | ratio of medians | ratio of p99s |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const [mode, rs] of Object.entries(by)) {
  console.log(`| ${mode} | ${rs.length} | ${med(rs.map((r) => r.load1))} | ${med(rs.map((r) => +r.agent.medianAvgMs))} / ${med(rs.map((r) => +r.agent.p99MaxMs))} | ${med(rs.map((r) => +r.fping.medianAvgMs))} / ${med(rs.map((r) => +r.fping.p99MaxMs))} | ${med(rs.map((r) => r.ratio.median))} | ${med(rs.map((r) => r.ratio.p99))} |`);
}' "$out"

#!/usr/bin/env bash
# ICMP sweep benchmark: Pinger's engine (compiled `sweep`) vs fping over 10,239 loopback targets
# (127.0.0.1-127.0.39.255, the list used in /work/shared/docs/probing-facts.md). Loopback only.
# Needs root (or CAP_NET_RAW), fping, hyperfine, /usr/bin/time.
# Usage: bash test/bench/icmp-vs-fping.sh [runs] [window]     (defaults: 15 runs, the engine's default window)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-15}
window=${2:-}
for c in fping hyperfine /usr/bin/time; do command -v "$c" >/dev/null || { echo "needs $c (apt-get install -y fping hyperfine time)" >&2; exit 2; }; done

work=$(mktemp -d /tmp/pinger-bench-icmp.XXXXXX)
trap 'rm -rf "$work"' EXIT
list=$work/targets.txt
for a in $(seq 1 $((40 * 256 - 1))); do echo "127.0.$((a >> 8)).$((a & 255))"; done >"$list"
echo "targets: $(wc -l <"$list") ($(head -1 "$list") .. $(tail -1 "$list"))"

# Other people's files may not typecheck at a given moment; tsc still emits, and we only need our JS.
npx tsc -p tsconfig.json >/dev/null 2>&1 || echo "warning: tsc reported errors; using the emitted JS" >&2
[ -f dist/agent/sweep-cli.js ] || { echo "dist/agent/sweep-cli.js was not built" >&2; exit 2; }

sweep=(node dist/agent/sweep-cli.js -f "$list" -t 1000)
[ -n "$window" ] && sweep+=(--window "$window")
fping_cmd="fping -c1 -q -i 0 -r 0 -t 1000 -f $list"

echo "== wall time (hyperfine, $runs runs, 3 warm-up)"
hyperfine -N --warmup 3 --runs "$runs" -i --export-json "$work/h.json" \
  -n fping "$fping_cmd" -n pinger-sweep "${sweep[*]}" -n node-startup "node -e 0" >/dev/null
node -e '
  const r = require(process.argv[1]).results;
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[(s.length - 1) >> 1]; };
  const m = Object.fromEntries(r.map((x) => [x.command, med(x.times) * 1000]));
  for (const x of r) console.log(`${x.command.padEnd(13)} median ${(med(x.times) * 1000).toFixed(1)} ms  (min ${(x.min * 1000).toFixed(1)}, max ${(x.max * 1000).toFixed(1)})`);
  console.log(`ratio pinger-sweep / fping (median wall): ${(m["pinger-sweep"] / m.fping).toFixed(2)}`);
' "$work/h.json"

echo "== RTT and in-process sweep time, peak RSS ($runs runs each)"
for i in $(seq 1 "$runs"); do
  /usr/bin/time -f "rss_kb=%M" "${sweep[@]}" 2>&1 | tr '\n' ' '
  echo
done >"$work/sweep.txt"
for i in $(seq 1 "$runs"); do
  { /usr/bin/time -f "rss_kb=%M" $fping_cmd 2>&1 | awk -F'min/avg/max = ' 'NF>1{split($2,a,"/"); print a[2]} /rss_kb/{print}'; } >"$work/fping.$i.txt" || true
done
node -e '
  const fs = require("fs");
  const [dir, runs] = [process.argv[1], +process.argv[2]];
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[(s.length - 1) >> 1]; };
  const lines = fs.readFileSync(dir + "/sweep.txt", "utf8").trim().split("\n");
  const get = (k) => lines.map((l) => +l.match(new RegExp(k + "=([0-9.]+)"))[1]);
  console.log(`pinger-sweep: alive ${med(get("alive"))}/${med(get("targets"))}, in-process sweep ${med(get("wall_ms")).toFixed(1)} ms, ` +
    `rtt median ${med(get("rtt_median_ms")).toFixed(3)} ms, p99 ${med(get("rtt_p99_ms")).toFixed(3)} ms, peak RSS ${(med(get("rss_kb")) / 1024).toFixed(1)} MB (medians of ${runs} runs)`);
  const fm = [], fp = [], fr = [];
  for (let i = 1; i <= runs; i++) {
    const t = fs.readFileSync(`${dir}/fping.${i}.txt`, "utf8").trim().split("\n");
    const rss = t.filter((l) => l.startsWith("rss_kb=")).map((l) => +l.slice(7));
    const v = t.filter((l) => !l.startsWith("rss_kb=")).map(Number).sort((a, b) => a - b);
    fm.push(v[(v.length - 1) >> 1]); fp.push(v[Math.ceil(v.length * 0.99) - 1]); fr.push(rss[0]);
  }
  console.log(`fping:        rtt median ${med(fm).toFixed(3)} ms, p99 ${med(fp).toFixed(3)} ms (kernel receive timestamps), peak RSS ${(med(fr) / 1024).toFixed(1)} MB`);
' "$work" "$runs"
echo "machine: $(nproc) cores, $(uname -r), node $(node --version), fping $(fping --version 2>&1 | awk '{print $NF}'), $(date -u +%Y-%m-%dT%H:%MZ)"

#!/usr/bin/env bash
# ICMP sweep benchmark: Pinger's engine (compiled `sweep`) vs fping over 10,239 loopback targets
# (127.0.0.1-127.0.39.255, the list used in /work/shared/docs/probing-facts.md). Loopback only.
# Needs root (or CAP_NET_RAW), fping, hyperfine, /usr/bin/time.
# Usage: bash test/bench/icmp-vs-fping.sh [runs] [window]     (defaults: 15 runs, the engine's default window)
# Two measurements: hyperfine (all runs of one command, then the next) and an interleaved loop
# (fping, sweep, fping, sweep, ...) whose per-pair ratio holds up better on a shared, noisy machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-15}
window=${2:-}
for c in fping hyperfine /usr/bin/time; do command -v "$c" >/dev/null || { echo "needs $c (apt-get install -y fping hyperfine time)" >&2; exit 2; }; done

work=$(mktemp -d /tmp/pinger-bench-icmp.XXXXXX)
trap 'rm -rf "$work"' EXIT
list=$work/targets.txt
for a in $(seq 1 $((40 * 256 - 1))); do echo "127.0.$((a >> 8)).$((a & 255))"; done >"$list"
echo "targets: $(wc -l <"$list") ($(head -1 "$list") .. $(tail -1 "$list")), load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# Other people's files may not typecheck at a given moment; tsc still emits, and we only need our JS.
npx tsc -p tsconfig.json >/dev/null 2>&1 || echo "warning: tsc reported errors; using the emitted JS" >&2
[ -f dist/agent/sweep-cli.js ] || { echo "dist/agent/sweep-cli.js was not built" >&2; exit 2; }

# Both tools run in the environment the charm's systemd unit gives an agent, which sets no variables.
# NODE_EXTRA_CA_CERTS matters: with it set, every Node process reads and parses that CA bundle before our
# first line (measured here: `node -e 0` 137 -> 84 ms without it). This machine's shell sets it; an agent's
# unit does not, and fping ignores it. hyperfine also runs the sweep with it, to show what it costs.
extra_ca=${NODE_EXTRA_CA_CERTS:-}
unset NODE_EXTRA_CA_CERTS
sweep=(node dist/agent/sweep-cli.js -f "$list" -t 1000)
[ -n "$window" ] && sweep+=(--window "$window")
fping_cmd=(fping -c1 -q -i 0 -r 0 -t 1000 -f "$list")

echo "== hyperfine ($runs runs each, 3 warm-up)"
hyperfine -N --warmup 3 --runs "$runs" -i --export-json "$work/h.json" \
  -n fping "${fping_cmd[*]}" -n pinger-sweep "${sweep[*]}" -n node-startup "node -e 0" \
  ${extra_ca:+-n sweep-extra-ca "env NODE_EXTRA_CA_CERTS=$extra_ca ${sweep[*]}"} >/dev/null 2>&1
node -e '
  const r = require(process.argv[1]).results;
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[(s.length - 1) >> 1]; };
  const m = Object.fromEntries(r.map((x) => [x.command, med(x.times) * 1000]));
  for (const x of r) console.log(`${x.command.padEnd(14)} median ${(med(x.times) * 1000).toFixed(1)} ms  (min ${(x.min * 1000).toFixed(1)}, max ${(x.max * 1000).toFixed(1)})`);
  console.log(`ratio pinger-sweep / fping (medians): ${(m["pinger-sweep"] / m.fping).toFixed(2)}`);
  if (m["sweep-extra-ca"]) console.log(`ratio sweep-extra-ca / fping (medians): ${(m["sweep-extra-ca"] / m.fping).toFixed(2)}  (NODE_EXTRA_CA_CERTS set, as in this shell)`);
' "$work/h.json"

echo "== interleaved ($runs pairs): wall, RTT, peak RSS"
# Timed runs send fping's per-target lines to /dev/null, as hyperfine does: fping writes them to an
# unbuffered stderr (~61k write calls by strace), and to a file they cost it ~15 ms more here (median of
# 10 pairs, 277 vs 293 ms). Its RTTs come from 3 more, untimed runs. The sweep prints one line either way.
now() { date +%s%N; }
for i in $(seq 1 "$runs"); do
  t0=$(now)
  /usr/bin/time -f "rss_kb=%M" -o "$work/f.time" "${fping_cmd[@]}" 2>/dev/null || true
  t1=$(now)
  /usr/bin/time -f "rss_kb=%M" -o "$work/s.time" "${sweep[@]}" >"$work/s.out"
  t2=$(now)
  echo "fping_ms=$(((t1 - t0) / 1000))e-3 $(cat "$work/f.time")" >>"$work/fping.txt"
  echo "sweep_ms=$(((t2 - t1) / 1000))e-3 $(cat "$work/s.time") $(cat "$work/s.out")" >>"$work/sweep.txt"
done
for i in 1 2 3; do
  "${fping_cmd[@]}" 2>"$work/f.out" || true
  awk -F'min/avg/max = ' 'NF>1{split($2,a,"/"); print a[2]}' "$work/f.out" | sort -g >"$work/f.rtt"
  echo "rtt_median_ms=$(awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}' "$work/f.rtt") rtt_p99_ms=$(awk '{v[NR]=$1} END{print v[int(NR*0.99+0.999)]}' "$work/f.rtt")" >>"$work/fping-rtt.txt"
done
node -e '
  const fs = require("fs");
  const dir = process.argv[1];
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[(s.length - 1) >> 1]; };
  const read = (f) => fs.readFileSync(`${dir}/${f}`, "utf8").trim().split("\n");
  const get = (lines, k) => lines.map((l) => +l.match(new RegExp("(?:^| )" + k + "=([0-9.e-]+)"))[1]);
  const f = read("fping.txt"), s = read("sweep.txt"), fr = read("fping-rtt.txt");
  const fw = get(f, "fping_ms"), sw = get(s, "sweep_ms");
  const ratios = sw.map((x, i) => x / fw[i]);
  console.log(`fping        wall median ${med(fw).toFixed(1)} ms, rtt median ${med(get(fr, "rtt_median_ms")).toFixed(3)} ms, p99 ${med(get(fr, "rtt_p99_ms")).toFixed(3)} ms (kernel receive timestamps, 3 untimed runs), peak RSS ${(med(get(f, "rss_kb")) / 1024).toFixed(1)} MB`);
  console.log(`pinger-sweep wall median ${med(sw).toFixed(1)} ms (in-process sweep ${med(get(s, "wall_ms")).toFixed(1)} ms), alive ${med(get(s, "alive"))}/${med(get(s, "targets"))}, rtt median ${med(get(s, "rtt_median_ms")).toFixed(3)} ms, p99 ${med(get(s, "rtt_p99_ms")).toFixed(3)} ms, peak RSS ${(med(get(s, "rss_kb")) / 1024).toFixed(1)} MB`);
  console.log(`ratio pinger-sweep / fping: median of per-pair ratios ${med(ratios).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})`);
' "$work"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) cores, $(uname -r), node $(node --version), fping $(fping --version 2>&1 | awk '{print $NF}'), $(date -u +%Y-%m-%dT%H:%MZ)"

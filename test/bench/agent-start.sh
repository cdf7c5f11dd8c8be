#!/usr/bin/env bash
# CPU one agent spends starting: loading the bundle, reading a 50-node inventory (block YAML and the JSON
# form), finding interfaces, trying to connect. No aggregator listens (127.0.0.1, a closed port), so there is
# no plan and no probing; its CPU is read from /proc after 1.5 s. Loopback only.
# Usage: bash test/bench/agent-start.sh [runs=7]
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run --silent bundle
work=$(mktemp -d /tmp/pinger-bench-start.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "bench-token-0123456789abcdef" >"$work/token" && chmod 600 "$work/token"
node --import tsx -e '
  const { inventoryToText, parseInventory } = await import("./agent/contract/inventory.ts");
  const lines = ["version: 1", "nodes:"];
  for (let n = 1; n <= 50; n++) { lines.push(`  node-${n}:`, "    addresses:"); ["internal", "shared-db", "ceph-cluster"].forEach((b, i) => lines.push(`      ${b}: 127.0.${50 + i}.${n}`)); }
  const fs = await import("node:fs");
  fs.writeFileSync(process.argv[1] + "/block.yaml", lines.join("\n") + "\n");
  fs.writeFileSync(process.argv[1] + "/json.yaml", inventoryToText(parseInventory(lines.join("\n"))));
' "$work"
port=$((40000 + RANDOM % 20000))
for form in block json; do
  cpu=()
  for _ in $(seq 1 "${1:-7}"); do
    node dist/bundle/cli.js agent --inventory "$work/$form.yaml" --node node-1 --aggregator "ws://127.0.0.1:$port/api/v1/agent" --token-file "$work/token" --plain --quiet 2>/dev/null &
    pid=$!
    sleep 1.5
    cpu+=("$(awk '{print ($14 + $15) * 10}' /proc/$pid/stat)") # utime + stime, 100 ticks/s -> ms
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  done
  sorted=$(printf '%s\n' "${cpu[@]}" | sort -n)
  echo "$form inventory: start-up CPU median $(echo "$sorted" | sed -n "$(( (${#cpu[@]} + 1) / 2 ))p") ms (runs: ${cpu[*]})"
done
echo "bare node (node -e 0) for comparison: $(/usr/bin/time -f '%U %S' node -e 0 2>&1 | awk '{print ($1 + $2) * 1000}') ms"

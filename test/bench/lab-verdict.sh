#!/usr/bin/env bash
# Agents started -> final verdict in the namespace lab, 50 nodes x 3 spaces, healthy and with one fault.
# Needs root. Builds dist/ and the bundle first (agents start faster from one bundled file than through tsx).
# Usage: sudo bash test/bench/lab-verdict.sh [--runs 3] [--nodes 50] [--spaces 3] [--runtime bundle|dist|tsx]
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null || echo "tsc reported type errors; using what it emitted" >&2
[ -f dist/aggregator/cli/pinger.js ] || { echo "dist/aggregator/cli/pinger.js missing after the build" >&2; exit 1; }
npm run --silent bundle
exec node --import tsx test/bench/lab-verdict.ts "$@"

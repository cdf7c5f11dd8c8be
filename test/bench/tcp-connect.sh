#!/usr/bin/env bash
# TCP connect-probe benchmark on loopback (see tcp-connect.ts). Needs `ss` (iproute2).
# Usage: bash test/bench/tcp-connect.sh [count=10000] [concurrency=64] [runs=5]
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null 2>&1 || echo "warning: tsc reported errors; using the emitted JS" >&2
[ -f dist/test/bench/tcp-connect.js ] || { echo "dist/test/bench/tcp-connect.js was not built" >&2; exit 2; }
node dist/test/bench/tcp-connect.js "${1:-10000}" "${2:-64}" "${3:-5}"
echo "machine: $(nproc) cores, $(uname -r), node $(node --version), $(date -u +%Y-%m-%dT%H:%MZ)"

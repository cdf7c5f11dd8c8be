#!/usr/bin/env bash
# The one test command (README, CI): typecheck, then every test file under test/ with node's test runner.
# Usage: bash test/run.sh [unit|cli|integration|lab|browser|charm|metrics ...]  (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "typecheck..."; npx tsc -p tsconfig.json --noEmit
echo "lint..."; npx biome lint --diagnostic-level=error .   # errors fail the run; `npx biome lint .` shows the warnings too
echo "format..."; npx biome format --diagnostic-level=error . || { echo "unformatted files: run npx biome format --write ." >&2; exit 1; }
dirs=("$@"); [ ${#dirs[@]} -gt 0 ] || dirs=(unit cli integration lab charm metrics browser)
files=()
for d in "${dirs[@]}"; do
  [ -d "test/$d" ] || continue
  while IFS= read -r f; do files+=("$f"); done < <(find "test/$d" -name '*.test.ts' | sort)
done
[ ${#files[@]} -gt 0 ] || { echo "no test files found" >&2; exit 1; }
# --test-force-exit: a handle some test forgets must not hang CI; the tests check for leftover processes themselves.
# The reporter (test/file-summary.mjs) is node's spec (progress as each test ends) plus one line per file,
# ending with node's own summary lines, which CI reads.
# --test-timeout: 30 min for a file; the longest, the charm's 20-unit join (~1,100 real dispatches), took 12.5 min at load 8.
exec node --import tsx --test --test-reporter=./test/file-summary.mjs --test-reporter-destination=stdout --test-force-exit --test-concurrency=2 --test-timeout=1800000 "${files[@]}"

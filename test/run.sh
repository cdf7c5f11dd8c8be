#!/usr/bin/env bash
# The one test command (README, CI): typecheck, then every test file under test/ with node's test runner.
# Usage: bash test/run.sh [unit|cli|integration|lab|browser|charm|metrics ...]  (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
dirs=("$@"); [ ${#dirs[@]} -gt 0 ] || dirs=(unit cli integration lab charm metrics browser)
files=()
for d in "${dirs[@]}"; do
  [ -d "test/$d" ] || continue
  while IFS= read -r f; do files+=("$f"); done < <(find "test/$d" -name '*.test.ts' | sort)
done
[ ${#files[@]} -gt 0 ] || { echo "no test files found" >&2; exit 1; }
# --test-force-exit: a handle some test forgets must not hang CI; the tests check for leftover processes themselves.
exec node --import tsx --test --test-force-exit --test-concurrency=2 --test-timeout=600000 "${files[@]}"

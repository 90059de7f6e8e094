#!/usr/bin/env bash
# Runs every test: unit tests, storage tests and HTTP tests against real Azurite instances the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test Functions.sln --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line: "N passed, N failed, N skipped".
summary=$(grep -E "(Passed|Failed)!? +- +Failed: " "$log" | tail -n 1)
if [ -n "$summary" ]; then
  failed=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")
  passed=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
  skipped=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")
  echo "Tests: $passed passed, $failed failed, $skipped skipped"
fi
exit "$status"

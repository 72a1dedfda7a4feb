#!/usr/bin/env bash
# Runs every test of the solution (unit, property, TestKit, end-to-end) in Release.
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter Name~Convergence]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-dotnet.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test ActorSync.sln -c Release --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line that CI and people can read: the sums over every test assembly.
awk '/(Passed|Failed)! +- +Failed:/ {
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
if [ "$status" -eq 0 ] && ! grep -qE "(Passed|Failed)! +- +Failed:" "$log"; then
  echo "scripts/test.sh: no test ran" >&2
  exit 1
fi
exit "$status"

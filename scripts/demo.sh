#!/usr/bin/env bash
# The main job: today, the in-process story of three replicas of one workspace editing
# concurrently and converging (ActorSync.Core with real crypto; the network is in memory).
# Usage: scripts/demo.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-dotnet.sh
dotnet build src/ActorSync.Cli -c Release --nologo -v quiet >/dev/null
exec dotnet src/ActorSync.Cli/bin/Release/net10.0/actorsync.dll demo "$@"

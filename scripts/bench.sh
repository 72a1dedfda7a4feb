#!/usr/bin/env bash
# `actorsync bench` from a ReadyToRun build, the way peers and relays are deployed: published for
# linux-x64 with precompiled code, so the figures are not start-up JIT. A plain `dotnet build`
# binary runs the same scenarios (`dotnet src/ActorSync.Cli/bin/Release/net10.0/actorsync.dll bench`)
# with its first seconds in the JIT: measured 0.59-1.19 s for the 500-change catch-up that this
# build does in 0.18-0.30 s on the same loaded machine.
# Usage: scripts/bench.sh [SCENARIO] [--quick] [--json]
# The first publish precompiles Akka.NET and the other libraries (minutes); later ones only ours.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-dotnet.sh
OUT="$PWD/artifacts/bench"
# Configuration is copied only when newer than the published copy: a copy edited for an experiment
# would survive every later publish (one did, with the 10 ms timer tick: fan-out p99 ~130 ms).
rm -rf "$OUT/config"
dotnet publish src/ActorSync.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o "$OUT" --nologo -v quiet
exec dotnet "$OUT/actorsync.dll" bench "$@"

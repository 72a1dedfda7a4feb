# Sourced by the scripts: makes sure the .NET SDK that global.json asks for is on PATH and that
# restores work offline-friendly (packages come from NuGet; nothing else is fetched).
if ! command -v dotnet >/dev/null 2>&1; then
  for candidate in /usr/share/dotnet /usr/lib/dotnet "$HOME/.dotnet"; do
    if [ -x "$candidate/dotnet" ]; then export PATH="$candidate:$PATH"; break; fi
  done
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "ActorSync needs the .NET 10 SDK (dotnet) on PATH; none was found." >&2
  exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

#!/usr/bin/env bash
# The main job: a relay node and three peers (Ann, Bob, Cat) run as separate processes on
# 127.0.0.1, persisting to SQLite in their own home folders, and collaborate in one workspace over
# mutually authenticated gRPC links. Bob's peer is killed (-9) and restarted mid-story; later Cat
# catches up through the relay while Ann, the author, is offline. The story ends when the three
# state hashes are equal.
# Usage: scripts/demo.sh            (scripts/demo.sh --in-process [SEED] tells the same story in one process)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure-dotnet.sh
dotnet build src/ActorSync.Cli -c Release --nologo -v quiet >/dev/null
ACTORSYNC="dotnet $PWD/src/ActorSync.Cli/bin/Release/net10.0/actorsync.dll"

if [ "${1:-}" = "--in-process" ]; then
  shift
  exec $ACTORSYNC demo "$@"
fi

DEMO=$(mktemp -d /tmp/actorsync-demo.XXXXXX)
declare -A PID PORT
cleanup() {
  for n in "${!PID[@]}"; do kill "${PID[$n]}" 2>/dev/null || true; done
  [ -n "${RELAY_PID:-}" ] && kill "$RELAY_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$DEMO"
}
trap cleanup EXIT

say() { printf '\n%s\n' "$*"; }
as() { local who=$1; shift; $ACTORSYNC "$@" --home "$DEMO/$who"; }

# Waits (bounded) until a command succeeds and its output matches a pattern.
wait_for() {
  local what=$1 pattern=$2; shift 2
  for _ in $(seq 1 600); do
    if out=$("$@" 2>/dev/null) && grep -qE "$pattern" <<<"$out"; then return 0; fi
    sleep 0.1
  done
  echo "demo: timed out waiting for $what" >&2
  for n in relay ann bob cat; do echo "--- $n log" >&2; tail -20 "$DEMO/$n.log" >&2 || true; done
  exit 1
}

# First start: port 0 (the peer picks one and prints it); a restart reuses that port.
start_peer() {
  local who=$1
  rm -f "$DEMO/$who/api-address"
  $ACTORSYNC peer --home "$DEMO/$who" --listen "127.0.0.1:${PORT[$who]:-0}" --api 127.0.0.1:0 >>"$DEMO/$who.log" 2>&1 &
  PID[$who]=$!
  wait_for "$who's peer to start" '^http' cat "$DEMO/$who/api-address"
  PORT[$who]=$(grep -oE '^listen: 127\.0\.0\.1:[0-9]+' "$DEMO/$who.log" | tail -1 | cut -d: -f3)
}

stop_peer() { kill -TERM "${PID[$1]}"; wait "${PID[$1]}" 2>/dev/null || true; unset "PID[$1]"; }

state_hash() { as "$1" ws show "$WS" --json | grep -oE '"stateHash" *: *"[0-9a-f]+"' | grep -oE '[0-9a-f]{64}'; }

say "ActorSync: a relay node and three peers on 127.0.0.1, each its own process with its own SQLite journal."
$ACTORSYNC relay --home "$DEMO/relay" >"$DEMO/relay.log" 2>&1 &
RELAY_PID=$!
wait_for "the relay to start" '^relay address' cat "$DEMO/relay.log"
RELAY=$(grep -oE 'https://[^ ]+' "$DEMO/relay.log" | head -1)
echo "  Relay: $RELAY (the fragment pins its TLS key)"
declare -A ACCOUNT
for who in ann bob cat; do
  name="$(tr '[:lower:]' '[:upper:]' <<<"${who:0:1}")${who:1}"
  ACCOUNT[$who]=$($ACTORSYNC init --home "$DEMO/$who" --name "$name" --relay "$RELAY" | tail -1)
  start_peer "$who"
  echo "  $name: account ${ACCOUNT[$who]}, links on 127.0.0.1:${PORT[$who]}"
done

say "They swap contact cards (each card carries the device's pinned TLS key)."
for a in ann bob cat; do
  for b in ann bob cat; do
    [ "$a" = "$b" ] && continue
    as "$a" contact add "$(as "$b" card)" --address "127.0.0.1:${PORT[$b]}" >/dev/null
  done
done

WS=$(as ann ws create "Garden club" | tail -1)
say "Ann creates the workspace \"Garden club\" ($WS) and invites Bob (participant) and Cat (guest)."
as ann ws invite "$WS" "${ACCOUNT[bob]}" --role participant >/dev/null
as ann ws invite "$WS" "${ACCOUNT[cat]}" --role guest >/dev/null
TOPIC=$(as ann discussion post "$WS" "Who orders the seeds this year?" --title "Seeds" | tail -1)

for who in bob cat; do
  wait_for "$who's invitation" "$WS" as "$who" ws invitations --json
  as "$who" ws accept "$WS" >/dev/null 2>&1
done
echo "  Bob and Cat accept; each receives the first copy from Ann over a direct link."

say "Everyone works at once:"
as bob discussion post "$WS" "I will, and I'll add sunflowers." --reply-to "$TOPIC" >/dev/null
echo "  Bob replies to Ann's topic."
as cat chat say "$WS" "Count me in for Saturday!" >/dev/null
echo "  Cat (a guest) chats; her attempt to post a topic is refused:"
as cat discussion post "$WS" "guests cannot post topics" 2>&1 | sed 's/^/    /' || true
printf 'beds 1-4: tulips\nbed 5: sunflowers\n' >"$DEMO/plan.txt"
as ann files put "$WS" "$DEMO/plan.txt" --name plan.txt >/dev/null
echo "  Ann shares plan.txt."

say "Bob's laptop crashes (kill -9) while Ann keeps writing; then Bob's peer restarts on the same port."
kill -9 "${PID[bob]}"; wait "${PID[bob]}" 2>/dev/null || true; unset 'PID[bob]'
as ann discussion post "$WS" "Seeds ordered: tulips, sunflowers." >/dev/null
as ann chat say "$WS" "Bob, you missed this while you were away." >/dev/null
start_peer bob
echo "  Bob's peer recovers its workspace from its journal and catches up from Ann and Cat."

say "Bob and Cat go offline. Ann posts, then goes offline too; Cat comes back while Ann and Bob are away."
stop_peer bob
stop_peer cat
RELAYED=$(as ann discussion post "$WS" "Reminder: bring gloves on Saturday." | tail -1)
# Ann's peer has no direct link to anyone now: the post goes to Bob's and Cat's mailboxes at the
# relay, and her peer waits for the relay to confirm them durable before it stops.
stop_peer ann
start_peer cat
wait_for "Cat to catch up through the relay" "$RELAYED" as cat discussion list "$WS" --json
echo "  Cat has Ann's reminder, fetched from her mailbox at the relay: Ann was offline the whole time."
start_peer ann
start_peer bob

say "Waiting for the three replicas to agree..."
for _ in $(seq 1 600); do
  A=$(state_hash ann || true); B=$(state_hash bob || true); C=$(state_hash cat || true)
  [ -n "$A" ] && [ "$A" = "$B" ] && [ "$B" = "$C" ] && break
  sleep 0.1
done

say "What Bob's replica holds now:"
as bob discussion list "$WS" | sed 's/^/  /'
as bob chat log "$WS" | sed 's/^/  /'
as bob files list "$WS" | sed 's/^/  /'

say "State hashes:"
echo "  Ann  $A"
echo "  Bob  $B"
echo "  Cat  $C"
if [ -n "$A" ] && [ "$A" = "$B" ] && [ "$B" = "$C" ]; then
  echo "  All three replicas are identical."
else
  echo "  The replicas did not converge." >&2
  exit 1
fi

say "Ann removes Cat from the workspace. Cat's peer erases its copy and signs a deletion receipt."
as ann ws uninvite "$WS" "${ACCOUNT[cat]}" >/dev/null
as ann chat say "$WS" "Only Ann and Bob read this: it is sealed under a key Cat never gets." >/dev/null
wait_for "Cat's peer to erase the workspace" '^\(no workspaces' as cat ws list
wait_for "Ann to hold Cat's deletion receipt" 'signed receipt' as ann ws show "$WS"
as ann ws show "$WS" | grep -E '^(REMOVED|Cat) ' | sed 's/^/  /' || true

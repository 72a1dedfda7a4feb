#!/usr/bin/env bash
# A throwaway PostgreSQL server for a relay cluster's shared journal (tests, .ci/run, demos).
#
#   scripts/postgres.sh start DIR   installs PostgreSQL with apt-get when initdb/pg_ctl are missing,
#                                   creates a cluster in DIR (initdb), starts it on 127.0.0.1 and a
#                                   free port, creates the database "actorsync" and prints ONE line on
#                                   stdout: the Npgsql connection string. Everything else goes to stderr.
#   scripts/postgres.sh stop DIR    stops that server and removes DIR.
#
# Both are idempotent: start on a running DIR prints the same line again (and restarts a stopped
# one); stop on a missing DIR does nothing. Every wait is bounded. As root (CI) the server runs as
# the `postgres` user, since initdb and postgres refuse to run as root; DIR is handed to that user,
# so every folder above DIR must be searchable by it (e.g. under /tmp).
# The server trusts every local connection and runs with fsync off: it is for throwaway data only.
set -euo pipefail

readonly DATABASE=actorsync
readonly MARKER=.actorsync-postgres   # written into DIR by start; stop deletes only marked folders
readonly START_TIMEOUT=60             # seconds pg_ctl waits for the server to accept connections
readonly STOP_TIMEOUT=30
readonly LOCK_TIMEOUT=900             # seconds to wait for another run's apt-get install

die() { echo "postgres.sh: $*" >&2; exit 1; }
say() { echo "postgres.sh: $*" >&2; }

usage() { die "usage: scripts/postgres.sh start|stop DIR"; }

[ $# -eq 2 ] || usage
command=$1
dir=$2
[ -n "$dir" ] || usage

# --- locating and installing the server binaries -------------------------------------------------

bin=""
find_binaries() {
  bin=""
  local candidate
  # Debian keeps them out of PATH, in /usr/lib/postgresql/<major>/bin; prefer 15 (what we measured).
  for candidate in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && [ -x "$candidate/psql" ]; then
      bin=$candidate
      return 0
    fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null && command -v psql >/dev/null; then
    bin=$(dirname "$(readlink -f "$(command -v initdb)")")
    [ -x "$bin/pg_ctl" ] || bin=$(dirname "$(command -v pg_ctl)")
    return 0
  fi
  return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "PostgreSQL is not installed and installing it needs root (or password-less sudo): apt-get install -y postgresql"
  fi
}

install_postgres() {
  command -v apt-get >/dev/null || die "initdb/pg_ctl not found and apt-get is missing: install PostgreSQL 15 and put its bin folder in PATH"
  # One installer at a time (parallel test runs); the loser finds it installed afterwards.
  local lock=${TMPDIR:-/tmp}/actorsync-postgres-install.lock
  exec 9>"$lock"
  flock -w "$LOCK_TIMEOUT" 9 || die "timed out after ${LOCK_TIMEOUT}s waiting for another PostgreSQL install ($lock)"
  if ! find_binaries; then
    say "PostgreSQL not found: installing it with apt-get (once)"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300)
    as_root "${apt[@]}" update >&2 || die "apt-get update failed (see above)"
    as_root "${apt[@]}" install --no-install-recommends postgresql >&2 || die "apt-get install postgresql failed (see above)"
    find_binaries || die "apt-get installed postgresql but initdb/pg_ctl/psql are not under /usr/lib/postgresql/*/bin"
  fi
  flock -u 9
  exec 9>&-
}

# --- running as the server's user ----------------------------------------------------------------

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# --- paths and state in DIR ----------------------------------------------------------------------

data=""; run=""; log=""; portfile=""
set_paths() {
  data=$dir/data
  run=$dir/run          # the server's unix socket folder (kept inside DIR)
  log=$dir/postgres.log
  portfile=$dir/port
}

connection_string() {
  echo "Host=127.0.0.1;Port=$1;Username=postgres;Database=$DATABASE;Timeout=15;Command Timeout=60"
}

is_running() {
  [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

port_in_use() {
  # A connect that succeeds means something listens there.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
  # Below Linux's ephemeral range (32768+), which Kestrel and Akka draw from for port 0.
  local port tries
  for tries in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 12000 ))
    if ! port_in_use "$port"; then echo "$port"; return 0; fi
  done
  die "no free port found on 127.0.0.1 between 20000 and 32000"
}

log_tail() {
  [ -f "$log" ] && tail -n 20 "$log" | sed 's/^/  | /' >&2 || true
}

start_server() {
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    if as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t "$START_TIMEOUT" \
         -o "-p $port -h 127.0.0.1 -k $run" start >&2; then
      echo "$port" > "$portfile"
      return 0
    fi
    if grep -q "could not bind\|Address already in use" "$log" 2>/dev/null; then
      say "port $port was taken meanwhile; trying another"
      continue
    fi
    log_tail
    die "pg_ctl could not start the server in $data within ${START_TIMEOUT}s (log: $log)"
  done
  log_tail
  die "could not find a port the server could bind after 5 attempts (log: $log)"
}

psql_at() {
  local port=$1; shift
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"
}

ensure_database() {
  local port=$1 exists
  exists=$(psql_at "$port" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'") \
    || die "cannot connect to the server at 127.0.0.1:$port (log: $log)"
  if [ "$exists" != "1" ]; then
    psql_at "$port" -d postgres -c "CREATE DATABASE $DATABASE" >&2 || die "could not create database $DATABASE"
  fi
}

# --- commands ------------------------------------------------------------------------------------

start() {
  find_binaries || install_postgres
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user to run the server (apt-get install postgresql creates it)"
    command -v runuser >/dev/null || die "running as root needs runuser (util-linux) to start the server as 'postgres'"
  fi

  mkdir -p "$dir" || die "cannot create $dir"
  dir=$(cd "$dir" && pwd -P)
  set_paths
  if [ ! -e "$dir/$MARKER" ]; then
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty and was not made by postgres.sh: give an empty or new folder"
    : > "$dir/$MARKER"
  fi
  # The socket path must fit in sun_path (107 bytes).
  [ ${#run} -le 80 ] || die "DIR is too long for a unix socket path ($run): use a shorter folder, e.g. under /tmp"
  mkdir -p "$run"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$dir"
    runuser -u postgres -- test -w "$dir" \
      || die "the postgres user cannot write $dir: every folder above it must be searchable by others (chmod o+x), e.g. use a folder under /tmp"
  fi

  if is_running; then
    [ -f "$portfile" ] || die "a server runs in $data but $portfile is missing: run 'scripts/postgres.sh stop $dir' and start again"
    connection_string "$(cat "$portfile")"
    return 0
  fi

  if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 \
      || { sed 's/^/  | /' "$dir/initdb.log" >&2; die "initdb failed in $data"; }
    # Throwaway settings: nothing here survives the machine, so skip the disk flushes.
    as_owner tee -a "$data/postgresql.conf" >/dev/null <<EOF

# scripts/postgres.sh: a throwaway server for tests and demos.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$run'
max_connections = 300
fsync = off
full_page_writes = off
synchronous_commit = off
EOF
  fi

  start_server
  local port
  port=$(cat "$portfile")
  ensure_database "$port"
  connection_string "$port"
}

stop() {
  [ -e "$dir" ] || return 0
  dir=$(cd "$dir" && pwd -P)
  set_paths
  if [ -z "$(ls -A "$dir")" ]; then rmdir "$dir"; return 0; fi
  [ -e "$dir/$MARKER" ] || die "$dir was not made by postgres.sh (no $MARKER): not touching it"
  if [ -f "$data/postmaster.pid" ]; then
    find_binaries || die "a server's data is in $data but pg_ctl is not installed"
    if is_running; then
      as_owner "$bin/pg_ctl" -D "$data" -m immediate -w -t "$STOP_TIMEOUT" stop >&2 || true
    fi
    # Still there (pg_ctl failed or timed out): kill that one postmaster, by its pid.
    local pid
    pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q postgres "/proc/$pid/comm" 2>/dev/null; then
      say "pg_ctl did not stop the server: killing postmaster $pid"
      kill -9 "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -rf "$dir"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac

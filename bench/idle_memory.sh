#!/usr/bin/env bash
# Resident memory of pgshim with N idle client connections (each through pgshim
# to PostgreSQL) against none: bytes per idle connection.
#
#   bash bench/idle_memory.sh [CONNECTIONS]        # default 1000
#
# Two cases, each on a fresh pgshim: clients that ran one small query before going
# idle, and clients that first read a 64 KiB result (which fills the proxy's
# buffers, so every page of them is resident). The clients are pgbench's: each
# connects, runs its query, then sleeps client-side, so its connection is idle.
# "None" is pgshim after one client has come and gone (its lazily made state
# counted once). It starts and stops everything it needs (a throwaway PostgreSQL
# 15 with max_connections above N, pgshim, pgbench), stopping each by its PID;
# pgshim must be built (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${1:-1000}
PG_BIN=/usr/lib/postgresql/15/bin
PGSHIM=$ROOT/build/proxy/pgshim
[[ -x $PGSHIM ]] || { echo "build pgshim first: bash scripts/build.sh" >&2; exit 1; }
PG_PORT=${PG_PORT:-57452}
SHIM_PORT=${SHIM_PORT:-57453}
WORK=$(mktemp -d /tmp/pgshim-idle-XXXXXX)
AS_PG=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres "$WORK"
  AS_PG=(runuser -u postgres --)
fi
ulimit -n "$(ulimit -Hn)"  # pgbench needs a descriptor per client

PG_PID="" SHIM_PID="" BENCH_PID=""
# Sends a signal to a PID and waits (up to 30 s) until it is gone.
stop_pid() {
  local pid=$1 signal=$2
  [[ -n $pid ]] || return 0
  kill "-$signal" "$pid" 2>/dev/null || return 0
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$BENCH_PID" TERM
  stop_pid "$SHIM_PID" TERM
  stop_pid "$PG_PID" INT  # fast shutdown
  rm -rf "$WORK"
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
sql() { psql -X -q -t -A -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "$1"; }

"${AS_PG[@]}" "$PG_BIN/initdb" -D "$WORK/data" -U postgres --auth=trust >/dev/null
"${AS_PG[@]}" "$PG_BIN/postgres" -D "$WORK/data" -p "$PG_PORT" -k "$WORK" -c listen_addresses=127.0.0.1 \
  -c max_connections=$((N + 50)) -c fsync=off -c shared_buffers=128MB >"$WORK/postgres.log" 2>&1 &
for _ in $(seq 600); do
  [[ -s $WORK/data/postmaster.pid ]] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
  sleep 0.1
done
PG_PID=$(head -1 "$WORK/data/postmaster.pid")

# measure KEY LABEL QUERY: one case on a fresh pgshim; prints a table row.
measure() {
  local name=$1 label=$2 query=$3
  mkdir -p "$WORK/rules"
  "$PGSHIM" serve --listen "127.0.0.1:$SHIM_PORT" --upstream "127.0.0.1:$PG_PORT" --rules "$WORK/rules" \
    --upstream-tls disable --threads 1 --log-level warn >"$WORK/pgshim-$name.log" 2>&1 &
  SHIM_PID=$!
  for _ in $(seq 100); do
    psql -X -q -h 127.0.0.1 -p "$SHIM_PORT" -U postgres -d postgres -c "$query" >/dev/null 2>&1 && break
    sleep 0.1
  done
  sleep 1
  local before
  before=$(rss_kib "$SHIM_PID")
  printf '%s\n\\sleep 600 s\n' "$query" >"$WORK/idle.sql"
  "$PG_BIN/pgbench" -n -c "$N" -j 4 -t 1 -f "$WORK/idle.sql" -h 127.0.0.1 -p "$SHIM_PORT" -U postgres \
    "dbname=postgres application_name=idle_bench" >"$WORK/pgbench-$name.log" 2>&1 &
  BENCH_PID=$!
  local idle=0
  for _ in $(seq 1200); do
    idle=$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'idle_bench' AND state = 'idle'")
    [[ $idle -ge $N ]] && break
    kill -0 "$BENCH_PID" 2>/dev/null || { cat "$WORK/pgbench-$name.log" >&2; exit 1; }
    sleep 0.1
  done
  [[ $idle -ge $N ]] || { echo "only $idle of $N clients became idle" >&2; exit 1; }
  sleep 2
  local with
  with=$(rss_kib "$SHIM_PID")
  printf '| %s | %d | %d KiB | %d KiB | %d |\n' "$label" "$N" "$before" "$with" $(((with - before) * 1024 / N))
  stop_pid "$BENCH_PID" TERM  # pgbench sleeps through SIGINT
  BENCH_PID=""
  stop_pid "$SHIM_PID" TERM
  SHIM_PID=""
}

echo "| clients went idle after | idle connections | pgshim RSS, none | pgshim RSS, all idle | bytes per idle connection |"
echo "|---|---|---|---|---|"
measure small "SELECT 1" "SELECT 1"
measure large "a 64 KiB result" "SELECT repeat('x', 65536)"

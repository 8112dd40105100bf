#!/usr/bin/env bash
# User-space instructions per query of pgshim (one worker) and of PgBouncer
# (session mode), side by side, counted by valgrind's callgrind over the same
# pgbench -S workload. Unlike CPU time on a shared VM, the count does not move
# from run to run, so it shows what a change to the proxy's own code saves even
# when that is far below the noise of pgbench_compare.sh. It says nothing about
# the kernel's share (system calls, wakeups), which is most of a proxy's CPU.
#
#   bash bench/instructions_per_query.sh [TRANSACTIONS_PER_CLIENT] [MODE...]
#   PGSHIM=/path/to/other/pgshim bash bench/instructions_per_query.sh   # another build
#
# MODE is pgbench's -M: simple, extended, prepared (default: all three). Four
# clients each run TRANSACTIONS_PER_CLIENT (default 1000) after a warm-up; the
# count starts after the warm-up (callgrind_control -z) and ends with a dump.
# Under callgrind a proxy runs about fifty times slower, so it finds more
# messages per wakeup than at full speed: compare counts with counts.
#
# It starts and stops everything it needs; pgshim must be built
# (scripts/build.sh) and valgrind installed (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TX=${1:-1000}
shift || true
MODES=("$@")
[[ ${#MODES[@]} -gt 0 ]] || MODES=(simple extended prepared)
CLIENTS=4
PG_BIN=/usr/lib/postgresql/15/bin
PGSHIM=${PGSHIM:-$ROOT/build/proxy/pgshim}
[[ -x $PGSHIM ]] || { echo "build pgshim first: bash scripts/build.sh" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is missing: bash scripts/deps.sh" >&2; exit 1; }
WORK=$(mktemp -d /tmp/pgshim-instructions-XXXXXX)
chmod 755 "$WORK"
PG_PORT=${PG_PORT:-57532}
SHIM_PORT=${SHIM_PORT:-57540}
BOUNCER_PORT=${BOUNCER_PORT:-57534}
AS_PG=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres "$WORK"
  AS_PG=(runuser -u postgres --)
fi
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 1
  "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"${AS_PG[@]}" "$PG_BIN/initdb" -D "$WORK/data" -U postgres --auth=trust >/dev/null
"${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w \
  -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
"$PG_BIN/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$PG_PORT" -U postgres postgres >/dev/null 2>&1

# Both run as the same user as their callgrind_control (PgBouncer refuses root).
mkdir -p "$WORK/rules" "$WORK/out"
[[ $(id -u) -eq 0 ]] && chown postgres "$WORK/rules" "$WORK/out"
cat >"$WORK/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$PG_PORT dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $WORK/userlist.txt
pool_mode = session
max_client_conn = 200
default_pool_size = 40
logfile = $WORK/pgbouncer.log
INI
echo '"postgres" ""' >"$WORK/userlist.txt"
[[ $(id -u) -eq 0 ]] && chown postgres "$WORK/pgbouncer.ini" "$WORK/userlist.txt"

# name | port | command
start_under_callgrind() {
  local name=$1 port=$2
  shift 2
  "${AS_PG[@]}" valgrind --tool=callgrind --callgrind-out-file="$WORK/out/$name.%p" "$@" \
    >"$WORK/$name.valgrind.log" 2>&1 &
  for _ in $(seq 300); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.2; done
  pg_isready -q -h 127.0.0.1 -p "$port" || { echo "$name did not start:" >&2; cat "$WORK/$name.valgrind.log" >&2; exit 1; }
  pgrep -f "callgrind-out-file=$WORK/out/$name" | tail -n 1
}
SHIM_PID=$(start_under_callgrind pgshim "$SHIM_PORT" "$PGSHIM" serve --listen "127.0.0.1:$SHIM_PORT" \
  --upstream "127.0.0.1:$PG_PORT" --rules "$WORK/rules" --upstream-tls disable --threads 1 --log-level warn)
PIDS+=("$SHIM_PID")
BOUNCER_PID=$(start_under_callgrind pgbouncer "$BOUNCER_PORT" /usr/sbin/pgbouncer "$WORK/pgbouncer.ini")
PIDS+=("$BOUNCER_PID")

# The instructions one proxy ran for one mode's TX transactions per client.
count() {
  local name=$1 pid=$2 port=$3 mode=$4
  "$PG_BIN/pgbench" -S -M "$mode" -c "$CLIENTS" -j 1 -t 100 -h 127.0.0.1 -p "$port" -U postgres postgres \
    >/dev/null 2>&1
  "${AS_PG[@]}" callgrind_control -z "$pid" >/dev/null 2>&1
  local out
  out=$("$PG_BIN/pgbench" -S -M "$mode" -c "$CLIENTS" -j 1 -t "$TX" -h 127.0.0.1 -p "$port" -U postgres postgres 2>&1)
  grep -q "number of transactions actually processed: $((CLIENTS * TX))/" <<<"$out" || {
    echo "pgbench through $name failed: $out" >&2
    exit 1
  }
  rm -f "$WORK/out/$name.$pid".[0-9]*
  "${AS_PG[@]}" callgrind_control -d "$pid" >/dev/null 2>&1
  local dump
  for _ in $(seq 100); do
    dump=$(ls "$WORK/out/$name.$pid".[0-9]* 2>/dev/null | tail -n 1 || true)
    [[ -n $dump ]] && grep -q "^totals:" "$dump" 2>/dev/null && break
    sleep 0.1
  done
  awk '/^totals:/ { print $2; exit }' "$dump"
}

echo "User-space instructions per query (callgrind), pgbench -S -c $CLIENTS -t $TX; pgshim: $PGSHIM, one worker"
printf '%-10s %14s %14s %14s\n' mode pgshim PgBouncer pgshim/PgBouncer
for mode in "${MODES[@]}"; do
  shim=$(count pgshim "$SHIM_PID" "$SHIM_PORT" "$mode")
  bouncer=$(count pgbouncer "$BOUNCER_PID" "$BOUNCER_PORT" "$mode")
  awk -v m="$mode" -v s="$shim" -v b="$bouncer" -v q="$((CLIENTS * TX))" \
    'BEGIN { printf "%-10s %14.0f %14.0f %14.2f\n", m, s / q, b / q, s / b }'
done

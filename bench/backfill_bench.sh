#!/usr/bin/env bash
# Throughput of `pgshim backfill` in rows per second on a 200,000-row table
# (accounts.balance text -> balance_cents bigint, phase expanded), without and
# with concurrent writers: two old (shop-v1) and two new (shop-v2) pgbench
# clients updating random rows through pgshim for the whole run. Rounds alternate
# the two cases; the table is reset between runs. Reports the median rows/s of
# each case and the writers' TPS while the backfill ran.
#
#   bash bench/backfill_bench.sh [ROUNDS] [BATCH]
#
# It starts and stops everything it needs (a throwaway PostgreSQL 15 and pgshim);
# pgshim must be built (scripts/build.sh, or PGSHIM=path/to/pgshim).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${1:-3}
BATCH=${2:-1000}
ROWS=200000
PG_BIN=/usr/lib/postgresql/15/bin
PGSHIM=${PGSHIM:-$ROOT/build/proxy/pgshim}
[[ -x $PGSHIM ]] || { echo "build pgshim first: bash scripts/build.sh" >&2; exit 1; }
WORK=$(mktemp -d /tmp/pgshim-backfill-bench-XXXXXX)
PG_PORT=${PG_PORT:-57442}
SHIM_PORT=${SHIM_PORT:-57443}
AS_PG=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres "$WORK"
  AS_PG=(runuser -u postgres --)
fi
SHIM_PID="" WRITER_PIDS=()
cleanup() {
  for pid in "${WRITER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  [[ -n $SHIM_PID ]] && kill -TERM "$SHIM_PID" 2>/dev/null || true
  "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"${AS_PG[@]}" "$PG_BIN/initdb" -D "$WORK/data" -U postgres --auth=trust >/dev/null
"${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w \
  -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
DSN="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"; }

psql_q -c "CREATE TABLE accounts (id bigint PRIMARY KEY, balance text, balance_cents bigint)"
psql_q -c "INSERT INTO accounts (id, balance) SELECT i, ((i * 7919) % 100000000 / 100.0)::numeric(12,2)::text
           FROM generate_series(1, $ROWS) i"
psql_q -c "VACUUM ANALYZE accounts"

mkdir -p "$WORK/rules"
cat >"$WORK/rules/accounts.yaml" <<'YAML'
migration: accounts_cents
phase: expanded
versions:
  old: { application_name: "shop-v1*" }
  new: { application_name: "shop-v2*" }
  default: old
changes:
  - retype_column:
      table: accounts
      from: { column: balance, type: text }
      to: { column: balance_cents, type: bigint }
      up: "round(balance::numeric * 100)::bigint"
      down: "(balance_cents / 100.0)::numeric(12,2)::text"
YAML
"$PGSHIM" serve --listen "127.0.0.1:$SHIM_PORT" --upstream "127.0.0.1:$PG_PORT" --rules "$WORK/rules" \
  --upstream-tls disable --threads 1 --log-level warn >"$WORK/pgshim.log" 2>&1 &
SHIM_PID=$!
for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p "$SHIM_PORT" && break; sleep 0.1; done

cat >"$WORK/old.sql" <<'SQL'
\set id random(1, 200000)
\set c random(0, 99999999)
UPDATE accounts SET balance = (:c / 100.0)::numeric(12,2)::text WHERE id = :id;
SQL
cat >"$WORK/new.sql" <<'SQL'
\set id random(1, 200000)
\set c random(0, 99999999)
UPDATE accounts SET balance_cents = :c WHERE id = :id;
SQL

reset_table() {
  psql_q -c "UPDATE accounts SET balance_cents = NULL" \
         -c "DELETE FROM pgshim_backfill_progress WHERE migration = 'accounts_cents'" 2>/dev/null ||
    psql_q -c "UPDATE accounts SET balance_cents = NULL"
  psql_q -c "VACUUM ANALYZE accounts"
}

# Runs one backfill; writes "rows/s seconds writer-TPS" to $WORK/result. (Not in a
# subshell: the EXIT trap must only run in this shell.)
run_case() {
  local writers=$1
  reset_table
  WRITER_PIDS=()
  if [[ $writers == yes ]]; then
    for version in old new; do
      local app=shop-v1
      [[ $version == new ]] && app=shop-v2
      PGAPPNAME=$app pgbench -n -M simple -c 2 -T 3600 -f "$WORK/$version.sql" \
        -h 127.0.0.1 -p "$SHIM_PORT" -U postgres postgres >"$WORK/pgbench-$version.log" 2>&1 &
      WRITER_PIDS+=($!)
    done
    sleep 1
  fi
  local before after start end
  before=$(psql_q -At -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'")
  start=$(date +%s.%N)
  "$PGSHIM" backfill --rules "$WORK/rules" --dsn "$DSN" --batch "$BATCH" >"$WORK/backfill.log" 2>&1 ||
    { cat "$WORK/backfill.log" >&2; exit 1; }
  end=$(date +%s.%N)
  after=$(psql_q -At -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'")
  for pid in "${WRITER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  WRITER_PIDS=()
  local batches=$(( (ROWS + BATCH - 1) / BATCH + 1 ))
  awk -v rows=$ROWS -v s="$start" -v e="$end" -v b="$before" -v a="$after" -v batches=$batches -v w=$writers \
    'BEGIN { t = e - s; printf "%.0f %.2f %.0f\n", rows / t, t, (w == "yes" ? (a - b - batches) / t : 0) }' \
    >"$WORK/result"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "backfill of $ROWS rows, batch $BATCH, $ROUNDS rounds"
: >"$WORK/alone" ; : >"$WORK/loaded"
for round in $(seq "$ROUNDS"); do
  run_case no
  read -r rate secs _ <"$WORK/result"
  echo "round $round  no writers:   $rate rows/s ($secs s)"
  echo "$rate" >>"$WORK/alone"
  run_case yes
  read -r rate secs tps <"$WORK/result"
  echo "round $round  4 writers:    $rate rows/s ($secs s), writers $tps TPS through pgshim"
  echo "$rate $tps" >>"$WORK/loaded"
done
echo
echo "| case | median rows/s |"
echo "|---|---|"
echo "| no writers | $(median <"$WORK/alone") |"
echo "| 4 writers through pgshim (2 old, 2 new) | $(cut -d' ' -f1 "$WORK/loaded" | median) |"
echo "writers' median TPS during the backfill: $(cut -d' ' -f2 "$WORK/loaded" | median)"

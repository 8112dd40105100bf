#!/usr/bin/env bash
# Installs what is missing, builds pgshim, starts a throwaway PostgreSQL 15 with
# pgshim in front of it, and runs the old (shop-v1) and the new (shop-v2) version
# of a small application side by side through a whole expand/contract migration
# (examples/shop): planned -> expanded -> backfilled -> contracted. Neither
# version changes; pgshim rewrites what each sends. Everything it starts is
# stopped at the end (or on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
bash scripts/deps.sh
bash scripts/build.sh --target pgshim

PG_BIN=/usr/lib/postgresql/15/bin
PGSHIM=$ROOT/build/proxy/pgshim
WORK=$(mktemp -d /tmp/pgshim-demo-XXXXXX)
PG_PORT=${PG_PORT:-55432}
PROXY_PORT=${PROXY_PORT:-56432}
AS_PG=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres "$WORK"
  AS_PG=(runuser -u postgres --)
fi
PROXY_PID=""
cleanup() {
  if [[ -n $PROXY_PID ]]; then kill -TERM "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null || true; fi
  "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
db() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d shop "$@"; }
# The two application versions: identical clients except for their name.
app() {
  local version=$1
  shift
  echo "   [shop-$version] $*"
  psql -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$PROXY_PORT user=postgres dbname=shop application_name=shop-$version" \
    -c "$*" | sed 's/^/      /'
}
set_phase() {
  "$PGSHIM" phase --rules "$WORK/rules" --migration shop_0001 --set "$1"
  sleep 1.5  # pgshim notices the edited rule file within a second
}

step "PostgreSQL 15 on port $PG_PORT, database shop (examples/shop/schema.sql)"
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 >/dev/null
"${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w \
  -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1" start >/dev/null
psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE shop"
db -f examples/shop/schema.sql

step "pgshim on port $PROXY_PORT with the rule file examples/shop/rules/shop_0001.yaml"
cp -r examples/shop/rules "$WORK/rules"
"$PGSHIM" check --rules "$WORK/rules" --dsn "host=127.0.0.1 port=$PG_PORT user=postgres dbname=shop"
"$PGSHIM" serve --listen "127.0.0.1:$PROXY_PORT" --upstream "127.0.0.1:$PG_PORT" \
  --rules "$WORK/rules" --upstream-tls disable >"$WORK/pgshim.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p "$PROXY_PORT" && break; sleep 0.1; done

step "phase planned: only fullname exists; v2 already speaks display_name"
app v1 "INSERT INTO users (fullname, email) VALUES ('Grace Hopper', 'grace@example.com')"
app v2 "UPDATE users SET display_name = 'Ada King' WHERE id = 1"
app v1 "SELECT id, fullname FROM users ORDER BY id"
app v2 "SELECT * FROM users ORDER BY id"

step "expand: add display_name (DDL), phase expanded: every write goes to both columns"
db -c "ALTER TABLE users ADD COLUMN display_name text"
set_phase expanded
app v1 "INSERT INTO users (fullname, email) VALUES ('Edsger Dijkstra', 'ed@example.com')"
app v2 "INSERT INTO users (display_name, email) VALUES ('Barbara Liskov', 'barbara@example.com')"
echo "   [database] both columns, old rows not yet copied:"
db -c "SELECT id, fullname, display_name FROM users ORDER BY id" | sed 's/^/      /'

step "pgshim backfill copies the old rows in batches, then phase backfilled"
"$PGSHIM" backfill --rules "$WORK/rules" --dsn "host=127.0.0.1 port=$PG_PORT user=postgres dbname=shop" \
  --batch 1000 | sed 's/^/   /'
set_phase backfilled
app v2 "SELECT id, display_name FROM users ORDER BY id"

step "contract: drop fullname (DDL), phase contracted: v1 still works unchanged"
db -c "ALTER TABLE users DROP COLUMN fullname"
set_phase contracted
app v1 "UPDATE users SET fullname = 'Grace B. Hopper' WHERE email = 'grace@example.com'"
app v1 "SELECT id, fullname FROM users ORDER BY id"
app v2 "SELECT * FROM users ORDER BY id"
echo "   [database] only display_name is left:"
db -c "SELECT * FROM users ORDER BY id" | sed 's/^/      /'

step "what pgshim did (its log at debug level shows every rewrite)"
grep -E "rules v|refused|read the schema" "$WORK/pgshim.log" | tail -n 8 | sed 's/^/   /'
step "done: stopping pgshim and PostgreSQL"

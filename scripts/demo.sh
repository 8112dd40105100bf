#!/usr/bin/env bash
# Installs what is missing, builds pgshim, starts a throwaway PostgreSQL 15 and
# pgshim in front of it, and shows clients going through the proxy. Everything it
# starts is stopped at the end (or on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
bash scripts/deps.sh
bash scripts/build.sh --target pgshim

PG_BIN=/usr/lib/postgresql/15/bin
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
  [[ -n $PROXY_PID ]] && kill -TERM "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null || true
  "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== starting PostgreSQL 15 on port $PG_PORT (data in $WORK)"
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 >/dev/null
"${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w \
  -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1" start >/dev/null

echo "== starting pgshim on port $PROXY_PORT in front of it"
mkdir -p "$WORK/rules"
"$ROOT/build/proxy/pgshim" serve --listen "127.0.0.1:$PROXY_PORT" --upstream "127.0.0.1:$PG_PORT" \
  --rules "$WORK/rules" --upstream-tls disable >"$WORK/pgshim.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 50); do
  pg_isready -q -h 127.0.0.1 -p "$PROXY_PORT" && break
  sleep 0.1
done

PSQL=(psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PROXY_PORT" -U postgres)
echo "== a client going through pgshim"
"${PSQL[@]}" -d postgres <<'SQL'
CREATE TABLE users (id serial PRIMARY KEY, fullname text NOT NULL);
INSERT INTO users (fullname) VALUES ('Ada Lovelace'), ('Alan Turing');
SELECT id, fullname FROM users ORDER BY id;
SQL
echo "== pgbench through pgshim for 3 seconds"
"$PG_BIN/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$PROXY_PORT" -U postgres postgres >/dev/null 2>&1
"$PG_BIN/pgbench" -S -c 4 -T 3 -h 127.0.0.1 -p "$PROXY_PORT" -U postgres postgres 2>/dev/null |
  grep -E "tps|failed"
echo "== pgshim's log"
cat "$WORK/pgshim.log" | tail -n 5
echo "== done: stopping pgshim and PostgreSQL"

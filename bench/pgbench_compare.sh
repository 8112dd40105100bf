#!/usr/bin/env bash
# Side-by-side pgbench: PostgreSQL directly, through pgshim, and through PgBouncer
# (session mode), interleaved round by round so that all three see the same
# machine. Reports median TPS, the ratios pgshim/direct and pgshim/PgBouncer, and
# the CPU time each proxy spent per query (from /proc/PID/stat).
#
#   bash bench/pgbench_compare.sh [ROUNDS] [SECONDS]
#   PGSHIM_THREADS="1 2" bash bench/pgbench_compare.sh   # one pgshim per worker count
#   PGSHIM_B=/path/to/other/pgshim bash bench/pgbench_compare.sh   # two builds, same run
#
# Without PGSHIM_THREADS, one pgshim with its default workers (one per CPU).
# PGSHIM_B adds a second build (a change to measure against the one in build/),
# started beside the first for each worker count and named pgshimB.
#
# Besides TPS and CPU per query, it reports each proxy's context switches per
# query (voluntary and involuntary, every thread, from /proc/PID/task/*/status):
# a proxy pays for each, and pays most when it is preempted by the peers it wakes.
#
# It starts and stops everything it needs (a throwaway PostgreSQL, pgshim,
# PgBouncer); pgshim must be built (scripts/build.sh).
#
# Each proxy runs in a session of its own (setsid), as a service does. With the
# kernel's autogroup scheduling (kernel.sched_autogroup_enabled, on by default
# in Debian) every session is one scheduling group with one share of the CPUs,
# and every PostgreSQL backend is a session of its own: a proxy left in the
# script's session would share one group with pgbench, and be starved by the 16
# backends at -c 16. The order of the targets turns by one each round.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${1:-5}
SECONDS_PER_RUN=${2:-5}
THREAD_COUNTS=${PGSHIM_THREADS:-default}
PG_BIN=/usr/lib/postgresql/15/bin
PGSHIM=$ROOT/build/proxy/pgshim
[[ -x $PGSHIM ]] || { echo "build pgshim first: bash scripts/build.sh" >&2; exit 1; }
PGSHIM_B=${PGSHIM_B:-}
[[ -z $PGSHIM_B || -x $PGSHIM_B ]] || { echo "PGSHIM_B is not an executable: $PGSHIM_B" >&2; exit 1; }
WORK=$(mktemp -d /tmp/pgshim-bench-XXXXXX)
PG_PORT=${PG_PORT:-57432}
SHIM_PORT=${SHIM_PORT:-57440}  # and the ports after it, one per pgshim
BOUNCER_PORT=${BOUNCER_PORT:-57434}
AS_PG=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres "$WORK"
  AS_PG=(runuser -u postgres --)
fi
SHIM_PIDS=() BOUNCER_PID=""
cleanup() {
  for pid in "${SHIM_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  if [[ -n $BOUNCER_PID ]]; then kill -TERM "$BOUNCER_PID" 2>/dev/null || true; fi
  "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"${AS_PG[@]}" "$PG_BIN/initdb" -D "$WORK/data" -U postgres --auth=trust >/dev/null
"${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w \
  -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off -c synchronous_commit=off" start >/dev/null
"$PG_BIN/pgbench" -i -q -s 10 -h 127.0.0.1 -p "$PG_PORT" -U postgres postgres >/dev/null 2>&1

mkdir -p "$WORK/rules"
# One pgshim per worker count, on consecutive ports from SHIM_PORT: "name:pid:port".
TARGETS=("direct::$PG_PORT")
port=$SHIM_PORT
for threads in $THREAD_COUNTS; do
  for build in pgshim ${PGSHIM_B:+pgshimB}; do
    binary=$PGSHIM name=$build-$threads threads_flag=(--threads "$threads")
    [[ $build == pgshimB ]] && binary=$PGSHIM_B
    [[ $threads == default ]] && name=$build threads_flag=()
    setsid "$binary" serve --listen "127.0.0.1:$port" --upstream "127.0.0.1:$PG_PORT" --rules "$WORK/rules" \
      --upstream-tls disable "${threads_flag[@]}" --log-level warn >"$WORK/$name.log" 2>&1 &
    SHIM_PIDS+=("$!")
    TARGETS+=("$name:$!:$port")
    port=$((port + 1))
  done
done
[[ $BOUNCER_PORT -ge $SHIM_PORT && $BOUNCER_PORT -lt $port ]] && { echo "BOUNCER_PORT collides with a pgshim port" >&2; exit 1; }

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
log_connections = 0
log_disconnections = 0
INI
echo '"postgres" ""' >"$WORK/userlist.txt"
chmod a+r "$WORK"/pgbouncer.ini "$WORK"/userlist.txt
[[ $(id -u) -eq 0 ]] && chown postgres "$WORK"/pgbouncer.ini "$WORK"/userlist.txt
setsid "${AS_PG[@]}" /usr/sbin/pgbouncer "$WORK/pgbouncer.ini" >/dev/null 2>&1 &
BOUNCER_PID=$!
for target in "${TARGETS[@]:1}" "pgbouncer::$BOUNCER_PORT"; do
  for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p "${target##*:}" && break; sleep 0.1; done
done
# runuser forks: find PgBouncer's own PID for its CPU time.
BOUNCER_REAL=$(pgrep -f "pgbouncer $WORK/pgbouncer.ini" | tail -n 1)
TARGETS+=("pgbouncer:$BOUNCER_REAL:$BOUNCER_PORT")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
switches() { cat "/proc/$1"/task/*/status | awk '/^(non)?voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'; }
TICK=$(getconf CLK_TCK)

# case name | pgbench arguments | statements per transaction
CASES=(
  "select-simple|-S -M simple|1"
  "select-extended|-S -M extended|1"
  "select-prepared|-S -M prepared|1"
  "tpcb-simple|-M simple|7"
)
RESULTS=$WORK/results.tsv
: >"$RESULTS"
for round in $(seq "$ROUNDS"); do
  for case in "${CASES[@]}"; do
    IFS='|' read -r name args per_tx <<<"$case"
    for clients in 1 16; do
      count=${#TARGETS[@]}
      for ((i = 0; i < count; i++)); do
        IFS=: read -r target pid port <<<"${TARGETS[(i + round) % count]}"
        before=0 switched=0
        [[ -n $pid ]] && before=$(cpu_ticks "$pid") switched=$(switches "$pid")
        # shellcheck disable=SC2086
        out=$("$PG_BIN/pgbench" $args -c "$clients" -j "$((clients < 2 ? 1 : 2))" -T "$SECONDS_PER_RUN" \
          -h 127.0.0.1 -p "$port" -U postgres postgres 2>&1)
        after=0
        [[ -n $pid ]] && after=$(cpu_ticks "$pid") switched=$(($(switches "$pid") - switched))
        tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
        tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
        failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
        read -r cpu_us sw_q < <(awk -v t="$((after - before))" -v hz="$TICK" -v n="$tx" -v k="$per_tx" -v sw="$switched" \
          'BEGIN { if (n > 0) printf "%.2f %.3f\n", t / hz * 1e6 / (n * k), sw / (n * k); else print 0, 0 }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$clients" "$target" "$tps" "$cpu_us" "${failed:-?}" "$round" \
          "$sw_q" >>"$RESULTS"
        echo "round $round $name -c $clients $target: tps=$tps cpu_us/query=$cpu_us switches/query=$sw_q" \
          "failed=${failed:-?}" >&2
      done
    done
  done
done

echo
echo "pgbench, $ROUNDS interleaved rounds of ${SECONDS_PER_RUN}s (pgshim: default workers, pgshim-N: --threads N${PGSHIM_B:+;\
 pgshimB: $PGSHIM_B}); medians."
echo "tps>=pgb, cpu<pgb: in how many rounds pgshim's TPS was at least PgBouncer's, and its CPU per query below it;"
echo "sw/q: the proxy's context switches per query"
VARIANTS=""
for target in "${TARGETS[@]}"; do [[ $target == pgshim* ]] && VARIANTS="$VARIANTS ${target%%:*}"; done
awk -F'\t' -v variants="$VARIANTS" '
  # The median over the rounds of one case and target, from V[key, target, round].
  function median(V, key, target,   n, a, r, i, j, t) {
    n = 0
    for (r = 1; r <= rounds; r++) if ((key, target, r) in V) a[++n] = V[key, target, r] + 0
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { key = $1 "\t" $2; if ($6 != "0") failed[key] = 1; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    T[key, $3, $7] = $4; C[key, $3, $7] = $5; S[key, $3, $7] = $8; if ($7 > rounds) rounds = $7 }
  END {
    nv = split(variants, variant, " ")
    printf "%-16s %3s %-9s %10s %10s %10s %8s %8s %10s %10s %9s %9s %9s %9s\n", "case", "-c", "pgshim", "direct",
           "pgshim", "pgbouncer", "shim/dir", "shim/pgb", "shim_us/q", "pgb_us/q", "tps>=pgb", "cpu<pgb", "shim_sw/q",
           "pgb_sw/q"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, p, "\t")
      d = median(T, k, "direct"); b = median(T, k, "pgbouncer")
      for (v = 1; v <= nv; v++) {
        s = median(T, k, variant[v])
        faster = 0; cheaper = 0
        for (r = 1; r <= rounds; r++) {
          faster += T[k, variant[v], r] + 0 >= T[k, "pgbouncer", r] + 0
          cheaper += C[k, variant[v], r] + 0 < C[k, "pgbouncer", r] + 0
        }
        printf "%-16s %3s %-9s %10.0f %10.0f %10.0f %8.2f %8.2f %10.2f %10.2f %9s %9s %9.3f %9.3f%s\n", p[1], p[2],
               variant[v], d, s, b, s / d, s / b, median(C, k, variant[v]), median(C, k, "pgbouncer"), faster "/" rounds,
               cheaper "/" rounds, median(S, k, variant[v]), median(S, k, "pgbouncer"), (k in failed) ? "  FAILURES" : ""
      }
    }
  }' "$RESULTS"

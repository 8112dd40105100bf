#!/usr/bin/env bash
# Runs one fuzz target for a bounded time on a temporary copy of its seed corpus,
# as each fuzz.<target> test does; the checked-in corpus is never written.
# Fails on any finding: a crash, a sanitizer report, a leak, a violated property,
# an input slower than the input timeout, or memory above the limit. Findings and
# the full log land in FINDINGS_DIR.
#   run_fuzzer.sh BINARY SEED_CORPUS FINDINGS_DIR [DICTIONARY]
# Environment: PGSHIM_FUZZ_SECONDS (else PGSHIM_FUZZ_DEFAULT_SECONDS, else 60),
# PGSHIM_FUZZ_INPUT_TIMEOUT (10), PGSHIM_FUZZ_RSS_LIMIT_MB (2048).
set -euo pipefail
binary=$1
seeds=$2
findings=$3
dictionary=${4:-}
seconds=${PGSHIM_FUZZ_SECONDS:-${PGSHIM_FUZZ_DEFAULT_SECONDS:-60}}
input_timeout=${PGSHIM_FUZZ_INPUT_TIMEOUT:-10}
rss_limit=${PGSHIM_FUZZ_RSS_LIMIT_MB:-2048}
name=$(basename "$binary")

work=$(mktemp -d "${TMPDIR:-/tmp}/pgshim-$name-XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$seeds" "$work/corpus"
mkdir -p "$findings"
log=$findings/$name.log

args=(-max_total_time="$seconds" -timeout="$input_timeout" -rss_limit_mb="$rss_limit"
  -artifact_prefix="$findings/" -print_final_stats=1)
if [[ -n $dictionary ]]; then args+=(-dict="$dictionary"); fi

echo "$name: fuzzing for $seconds s on a copy of $seeds ($(find "$seeds" -type f | wc -l) seeds)"
status=0
# libFuzzer stops itself after max_total_time; the outer bound only catches a
# run that cannot stop (a hang outside any input).
timeout --kill-after=30 $((seconds + 300)) "$binary" "${args[@]}" "$work/corpus" >"$log" 2>&1 || status=$?
if ((status != 0)); then
  tail -n 150 "$log"
  echo "$name: FAILED (exit $status); full log: $log; the input that caused it:"
  ls -1 "$findings" | grep -v '\.log$' | sed "s|^|  $findings/|" || true
  exit 1
fi
grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
echo "$name: no finding; corpus grew from $(find "$seeds" -type f | wc -l) to $(find "$work/corpus" -type f | wc -l) inputs"

#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and integration;
# the integration tests start their own PostgreSQL 15), then the fuzz smoke run
# (scripts/fuzz.sh: each fuzz target for about a minute). Fails if either fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
status=0
(cd build && ctest --output-on-failure --timeout 900 -j"$(nproc)") || status=$?
bash scripts/fuzz.sh || status=$?
exit "$status"

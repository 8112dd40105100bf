#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit and integration;
# the integration tests start their own PostgreSQL 15).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 900 -j"$(nproc)"

#!/usr/bin/env bash
# Builds the libFuzzer targets into build-fuzz/ (clang-14 with ASan and UBSan,
# only the pure libraries they need) and runs each fuzz.<target> test: every
# target fuzzes for a bounded time on a temporary copy of its seed corpus and
# fails on any finding (tests/fuzz/README.md).
#   scripts/fuzz.sh                the smoke run, 60 s per target (PGSHIM_FUZZ_SECONDS overrides)
#   scripts/fuzz.sh long SECONDS   the release run, SECONDS per target
# Further arguments go to ctest, e.g. -R fuzz.rewriter.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == long ]]; then
  export PGSHIM_FUZZ_SECONDS=${2:?usage: scripts/fuzz.sh long SECONDS [ctest arguments]}
  shift 2
fi
bash scripts/deps.sh
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGSHIM_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build build-fuzz -j"$(nproc)"
cd build-fuzz
ctest --output-on-failure -j"$(nproc)" -L fuzz "$@"

#!/usr/bin/env bash
# Installs the Debian 12 packages pgshim needs to build, test, fuzz, benchmark
# and run its demo. Only what is missing is installed; run as root.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config make
  libboost1.81-dev libpg-query-dev libprotobuf-c-dev postgresql-server-dev-15
  libssl-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libpq-dev liburing-dev
  postgresql-15 postgresql-client-15 pgbouncer openssl procps docker-compose valgrind
  clang-14 libclang-rt-14-dev llvm-14
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "pgshim: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "pgshim: installing packages needs root (run as root or with sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

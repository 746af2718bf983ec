#!/usr/bin/env bash
# Runs ../shared/bench/harness against this service and the Express peer on
# this machine, in one run (same PostgreSQL, same Redis, interleaved), and
# prints the medians and ratios. Loopback only; stops everything it started.
#
#   tests/bench/compare.sh                  # REPEAT=3 DURATION=15 (the harness defaults)
#   REPEAT=1 DURATION=10 tests/bench/compare.sh
#
# The shared folder is read-only, so the harness is copied to $WORK (default
# /tmp/household-bench) and its npm dependencies are installed there.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
shared="${SHARED_BENCH:-$root/../shared/bench}"
work="${WORK:-/tmp/household-bench}"
build_dir="${BUILD_DIR:-build}"

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" --target household-service -j"$(nproc)"

if [[ ! -d "$work/harness/node_modules" ]]; then
  rm -rf "$work" && mkdir -p "$work" && cp -r "$shared"/. "$work"/ && chmod -R u+w "$work"
  (cd "$work/harness" && npm ci --no-audit --no-fund)
  (cd "$work/peer-express" && npm ci --no-audit --no-fund)
fi

# Cheap hashing and limits a benchmark needs (the harness sends far more than a person would).
export SECOND_NAME=cpp SECOND_DIR="$root" SPARE_USERS_2="${SPARE_USERS_2:-40000}"
exec "$work/harness/compare.sh" \
  "PASSWORD_HASH_OPSLIMIT=1 PASSWORD_HASH_MEMLIMIT_KIB=8192 RATE_LIMIT_MAX_REQUESTS=100000000 \
AUTH_RATE_LIMIT_MAX_REQUESTS=100000000 CODE_LOOKUP_RATE_LIMIT_MAX=100000000 LOG_LEVEL=warn \
HOST=127.0.0.1 exec $root/$build_dir/household-service serve"

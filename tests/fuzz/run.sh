#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, build-fuzz/) and runs each for
# FUZZ_SECONDS (default 600) on a scratch copy of its committed seed corpus.
#   tests/fuzz/run.sh                 # all three, one after another
#   tests/fuzz/run.sh fuzz_json       # one
# New inputs stay in build-fuzz/corpus/<target>; crashes in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${FUZZ_BUILD_DIR:-build-fuzz}"
seconds="${FUZZ_SECONDS:-600}"
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPETCARE_FUZZ=ON >/dev/null
cmake --build "$build" -j2
targets=("$@")
(( ${#targets[@]} )) || targets=(fuzz_request fuzz_invite_code fuzz_json)
for t in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/${t#fuzz_}"
  work="$build/corpus/${t#fuzz_}"
  mkdir -p "$work" "$build/artifacts"
  echo "== $t: ${seconds}s, seeds $seeds"
  "$build/tests/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -artifact_prefix="$build/artifacts/$t-" "$work" "$seeds"
done

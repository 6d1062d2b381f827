#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time.
#
#   fuzz/run_fuzzers.sh [seconds per target, default 20] [build dir, default build-fuzz]
#
# Seeds come from fuzz/corpus/<target>/ (read only); inputs the fuzzer finds
# go to <build>/corpus/<target>/ and crashes to <build>/artifacts/<target>/.
# A crashing input belongs in tests/data/npy_regressions/ (npy_test.cc replays
# every file there) once the bug is fixed. Exit status is non-zero on a crash.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${1:-20}"
build="${2:-$here/../build-fuzz}"
jobs="${FUZZ_BUILD_JOBS:-2}"

CXX="${CXX_FOR_FUZZ:-clang++}" cmake -S "$here" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j "$jobs"

status=0
for target in npy; do
  corpus="$build/corpus/$target"
  artifacts="$build/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  dict=()
  [[ -f "$here/$target.dict" ]] && dict=(-dict="$here/$target.dict")
  echo "== ${target}_fuzzer for ${seconds}s"
  if ! "$build/${target}_fuzzer" "$corpus" "$here/corpus/$target" "${dict[@]}" \
      -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$artifacts/" -print_final_stats=1; then
    echo "!! ${target}_fuzzer found a failing input in $artifacts/" >&2
    status=1
  fi
done
exit "$status"

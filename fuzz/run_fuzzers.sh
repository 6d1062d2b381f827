#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time.
#
#   fuzz/run_fuzzers.sh [seconds per target, default 20] [build dir, default build-fuzz] [target...]
#
# Targets: npy, toml (default both). FUZZ_SKIP_BUILD=1 runs already built
# targets (the ctests fuzz.npy and fuzz.toml do, after the main build built
# them). Seeds come from fuzz/corpus/<target>/ and tests/data/<target>_regressions/
# (read only); inputs the fuzzer finds go to <build>/corpus/<target>/ and
# crashes to <build>/artifacts/<target>/. A crashing input belongs in
# tests/data/<target>_regressions/ once the bug is fixed (the data tests replay
# every file there). Exit status is non-zero on a crash (docs/fuzzing.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${1:-20}"
build="${2:-$here/../build-fuzz}"
shift $(( $# < 2 ? $# : 2 ))
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(npy toml)
jobs="${FUZZ_BUILD_JOBS:-2}"

if [[ "${FUZZ_SKIP_BUILD:-0}" != 1 ]]; then
  CXX="${CXX_FOR_FUZZ:-clang++}" cmake -S "$here" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$build" -j "$jobs"
fi

# The TOML target's empty base directory goes here (a crash leaves it behind).
export TMPDIR="$build/tmp"
mkdir -p "$TMPDIR"

status=0
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  artifacts="$build/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  seeds=("$here/corpus/$target")
  regressions="$here/../tests/data/${target}_regressions"
  [[ -d "$regressions" ]] && seeds+=("$regressions")
  dict=()
  [[ -f "$here/$target.dict" ]] && dict=(-dict="$here/$target.dict")
  echo "== ${target}_fuzzer for ${seconds}s"
  if ! "$build/${target}_fuzzer" "$corpus" "${seeds[@]}" "${dict[@]}" \
      -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$artifacts/" -print_final_stats=1; then
    echo "!! ${target}_fuzzer found a failing input in $artifacts/" >&2
    status=1
  fi
done
exit "$status"

#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds attnpaths, then runs the
# demo or the test suite. Run as root on Debian 12 from anywhere:
#
#   bash scripts/bootstrap.sh demo              # install, build, run the demo
#   bash scripts/bootstrap.sh test              # install, build, run every test
#   bash scripts/bootstrap.sh test --sanitize   # the same under ASan + UBSan (build-asan/)
#   bash scripts/bootstrap.sh test --tsan       # the same under ThreadSanitizer (build-tsan/)
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-demo}
sanitize=OFF
tsan=OFF
build=build
case "${2:-}" in
  --sanitize) sanitize=ON; build=build-asan ;;
  --tsan) tsan=ON; build=build-tsan ;;
  "") ;;
  *) echo "usage: bash scripts/bootstrap.sh demo|test [--sanitize|--tsan]" >&2; exit 2 ;;
esac

packages=(build-essential cmake ninja-build pkg-config libeigen3-dev libceres-dev
  libboost-math-dev libboost-random-dev libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas-dev liblapacke-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libhdf5-dev pybind11-dev python3-dev python3-numpy python3-matplotlib python3-sklearn
  python3-h5py python3-xarray python3-scipy python3-yaml python3-pip python3-venv python3-setuptools python3-wheel
  python3-pybind11 clang libclang-rt-14-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# OpenBLAS 0.3.21 mistakes AVX-512 CPUs for Haswell; its SkylakeX kernels are
# ~1.8x faster there (DGEMM). Only where the CPU has AVX-512 (forcing them
# elsewhere runs instructions the CPU lacks), and never over a value the
# environment already sets.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
  export OPENBLAS_CORETYPE=SkylakeX
fi

# This build runs where it is built, so it is tuned for this CPU (-march=native:
# path inputs and kernel builds ~3x faster, bench/results/portability.md). A
# plain `cmake -S . -B build` is portable (ATTNPATHS_NATIVE=OFF).
jobs=$(nproc)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DATTNPATHS_NATIVE=ON \
  -DPython3_EXECUTABLE=/usr/bin/python3 -DATTNPATHS_SANITIZE="$sanitize" \
  -DATTNPATHS_TSAN="$tsan" >/dev/null
cmake --build "$build" -j "$jobs"

case "$what" in
  demo)
    "$build/attnpaths" demo
    ;;
  test)
    if [ "$sanitize" = ON ]; then
      export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
      export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    fi
    if [ "$tsan" = ON ]; then
      # A race fails the test (exit 66); the suppressions cover uninstrumented libraries only.
      export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp"
    fi
    # The default limit of a script test without its own: the sanitizers slow the sampler's
    # script test (sampler.cli_sample_compare) past 900 s on two busy cores.
    timeout=900
    if [ "$sanitize" = ON ] || [ "$tsan" = ON ]; then timeout=3600; fi
    (cd "$build" && ctest --output-on-failure -j "$jobs" --timeout "$timeout")
    ;;
  *)
    echo "usage: bash scripts/bootstrap.sh demo|test [--sanitize|--tsan]" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# A project outside the tree builds against an installed attnpaths, twice:
# with find_package(attnpaths CONFIG) and with pkg-config. Usage:
#   consumer_test.sh PREFIX WORK_DIR    (PREFIX: what `cmake --install` wrote)
set -euo pipefail
prefix=$(cd "$1" && pwd)
work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
launcher=()
if command -v ccache >/dev/null; then launcher=(ccache); fi

# Nothing outside include/attnpaths/ (no <data/config.h> squatting in a shared prefix).
extra=$(find "$prefix/include" -mindepth 1 -maxdepth 1 ! -name attnpaths)
if [ -n "$extra" ]; then echo "FAIL: headers outside include/attnpaths: $extra" >&2; exit 1; fi
test -f "$prefix/include/attnpaths/solver/solve.h"
test -x "$prefix/bin/attnpaths"

# 1. CMake: find_package(attnpaths CONFIG) and the attnpaths:: targets.
cmake -S "$here/consumer" -B "$work/cmake" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER=ccache} >"$work/configure.log"
cmake --build "$work/cmake" >"$work/build.log"
"$work/cmake/consumer" "$work/y_cmake.npy"

# 2. pkg-config: the flags alone build and link the same program.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
installed=$("$prefix/bin/attnpaths" --version | sed -n '1s/^attnpaths //p')
if [ "$(pkg-config --modversion attnpaths)" != "$installed" ]; then
  echo "FAIL: pkg-config says $(pkg-config --modversion attnpaths), attnpaths --version $installed" >&2
  exit 1
fi
# shellcheck disable=SC2046
"${launcher[@]}" c++ -std=c++20 -O1 "$here/consumer/main.cc" -o "$work/consumer_pc" \
  $(pkg-config --cflags --libs attnpaths)
"$work/consumer_pc" "$work/y_pc.npy"

# 3. The installed command line runs.
"$prefix/bin/attnpaths" demo --widths 100 --train 20 --test 20 --quiet >/dev/null
echo "consumer_test: ok"

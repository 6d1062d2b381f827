#!/usr/bin/env bash
# The digits study end to end (examples/digits/README.md):
#
#   bash examples/digits/run.sh [OUTPUT_DIR]          (default examples/digits/out)
#
# exports sklearn's 8x8 digits (16 tokens of 2x2 pixels + position, digits
# 0-4 vs 5-9, P = 600 / 1000 test), trains the attention network for every
# seed (`attnpaths train`), solves the theory with the trained QK heads frozen
# at N ∈ {10, 30, 100, 300, 1000} and a T grid, computes the GP limit and the
# head scores (Python module), prunes the trained networks in the theory's
# order and in random orders (`attnpaths train-eval`), and draws the figures.
# Prints the results table and the time and peak memory of the whole study.
#
# Environment: ATTNPATHS (the binary, default build/attnpaths), SEEDS (default
# "1 2 3 4 5 6 7 8 9 10"), JOBS (seeds in parallel, default 2), TRAIN_CONFIG
# (default examples/digits/train.toml). The Python module is taken from
# build/python (ATTNPATHS_PYTHONPATH overrides). About 9 minutes for 10 seeds on 2 busy cores.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${ATTNPATHS:-$ROOT/build/attnpaths}
OUT=${1:-$HERE/out}
SEEDS=${SEEDS:-"1 2 3 4 5 6 7 8 9 10"}
JOBS=${JOBS:-2}
PY=/usr/bin/python3   # Debian's python3 with numpy, sklearn, matplotlib (a pyenv python3 may come first)
# OpenBLAS 0.3.21 mistakes AVX-512 CPUs for Haswell; SkylakeX kernels are faster
# there. Only where the CPU has AVX-512 (as scripts/bootstrap.sh does): forcing
# them elsewhere would run instructions the CPU lacks.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo 2>/dev/null; then
  export OPENBLAS_CORETYPE=SkylakeX
fi
export OPENBLAS_NUM_THREADS=1   # parallelism is over seeds (JOBS), one thread each

if [ ! -x "$BIN" ]; then
  echo "error: $BIN: not found; build first (see README.md) or set ATTNPATHS=/path/to/attnpaths" >&2
  exit 2
fi
if ! ls "${ATTNPATHS_PYTHONPATH:-$ROOT/build/python}"/attnpaths*.so >/dev/null 2>&1; then
  echo "error: the Python module is not built (ninja -C build attnpaths_python)" >&2
  exit 2
fi
mkdir -p "$OUT"
# /usr/bin/time -v: wall time and the largest resident set of any one process
# of the study (getrusage of the waited-for children: a maximum, not a sum).
/usr/bin/time -v -o "$OUT/time.txt" \
  "$PY" "$HERE/study.py" --out "$OUT" --bin "$BIN" --jobs "$JOBS" \
  --train-config "${TRAIN_CONFIG:-$HERE/train.toml}" --seeds $SEEDS >"$OUT/results_table.md"
"$PY" "$HERE/figures.py" --out "$OUT"
cat "$OUT/results_table.md"
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$OUT/time.txt")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/time.txt")
cpu=$(sed -n 's/.*Percent of CPU this job got: //p' "$OUT/time.txt")
echo "whole study: wall $wall, CPU $cpu, peak resident memory $((rss / 1024)) MiB (largest single process)"

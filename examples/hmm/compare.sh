#!/usr/bin/env bash
# Theory against the sampled finite network on the Markov task (theory.md §8,
# four paths, T = 0.01): `attnpaths compare` at every N of COMPARE_WIDTHS, the
# table of theory vs sampled U_1 entries, test means and accuracy with their
# Monte Carlo standard errors, and the accuracy-vs-N figure with the sampled
# points and their error bars over the theory's curve.
#
#   bash examples/hmm/compare.sh [OUTPUT_DIR]        (default examples/hmm/out)
#
# Environment: ATTNPATHS (the binary, default build/attnpaths), THREADS (0 =
# every core), COMPARE_WIDTHS (default "10 30 100 300 1000"), COMPARE_FLAGS
# (sampler flags, default "--chains 4 --warmup 500 --samples 500": the
# collapsed sampler, the readout integrated out exactly; see docs/cli.md).
# Each N writes OUTPUT_DIR/compare/N<N>/ (compare.json, compare.csv, the
# theory's and the sampler's files, report.txt); a width whose compare.json
# exists is not run again. The theory sweep for the curve is run if missing.
# Writes OUTPUT_DIR/compare/table.md, sampled_points.csv (compare_points.py) and the figures of examples/plot.py
# (accuracy_vs_N with the sampled points) in OUTPUT_DIR/compare/figures.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${ATTNPATHS:-$ROOT/build/attnpaths}
OUT=${1:-$HERE/out}
THREADS=${THREADS:-0}
PY=/usr/bin/python3
WIDTHS=${COMPARE_WIDTHS:-10 30 100 300 1000}
FLAGS=${COMPARE_FLAGS:---chains 4 --warmup 500 --samples 500}

if [ ! -x "$BIN" ]; then
  echo "error: $BIN: not found; build first (see README.md) or set ATTNPATHS=/path/to/attnpaths" >&2
  exit 2
fi
mkdir -p "$OUT/compare"
if [ ! -f "$OUT/four_paths/sweep.json" ]; then
  echo "== four_paths: theory sweep" >&2
  "$BIN" sweep --config "$HERE/four_paths.toml" --output "$OUT/four_paths" --threads "$THREADS" \
    --quiet >/dev/null
fi
reported=0
for N in $WIDTHS; do
  dir="$OUT/compare/N$N"
  if [ ! -f "$dir/compare.json" ]; then
    echo "== compare at N = $N ($FLAGS)" >&2
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$BIN" compare --config "$HERE/four_paths.toml" --width "$N" --output "$dir" \
      --threads "$THREADS" $FLAGS >"$dir.report.txt" || echo "warning: compare at N = $N failed (see $dir.report.txt)" >&2
    echo "wall seconds: $(( $(date +%s) - start ))" >>"$dir.report.txt"
    mv "$dir.report.txt" "$dir/report.txt" 2>/dev/null || true
  fi
  [ -f "$dir/report.txt" ] && reported=$((reported + 1))
done
"$PY" "$HERE/compare_table.py" "$OUT/compare" $WIDTHS >"$OUT/compare/table.md"
cat "$OUT/compare/table.md"
if [ "$reported" -gt 0 ]; then
  # The sampled points from each width's report.txt (what a results folder keeps).
  # shellcheck disable=SC2086
  "$PY" "$HERE/compare_points.py" "$OUT/compare" $WIDTHS >"$OUT/compare/sampled_points.csv"
  "$PY" "$ROOT/examples/plot.py" --output "$OUT/compare/figures" --name "4 paths" \
    --sweep "$OUT/four_paths/sweep.json" --sampled "$OUT/compare/sampled_points.csv"
fi
echo "done: $OUT/compare/table.md, figures in $OUT/compare/figures" >&2

#!/usr/bin/env bash
# What the theory says about data size (issue 13 §2; theory.md §8, §10): the
# paper's 4-path Markov task at P = 10², 10³, 10⁴, 10⁵ training sequences,
# solved at widths N = P/10, P/3 and P (fixed ratios N/P) and in the GP limit
# (N = 10¹², where U = U_GP), 4000 test sequences, T = 0.01. From P = 10³ on
# the storage of G is the feature form of theory.md §10 and the generated
# sequences are streamed (memory O(M²), M = 924, whatever P).
#
#   bash examples/hmm/p_sweep.sh [OUTPUT_DIR]      (default examples/hmm/out/p_sweep)
#
# Writes OUTPUT_DIR/P<P>/sweep.csv for every P, then OUTPUT_DIR/p_sweep.csv and
# the figure OUTPUT_DIR/p_sweep.png / .pdf (examples/hmm/p_sweep_plot.py).
# Environment: ATTNPATHS (default build/attnpaths), THREADS (0: every core),
# PS (default "100 1000 10000 100000"). Sweeps resume. About 10 minutes on 2
# cores, most of it the pass over the 10⁵ sequences; under mpirun the
# sweeps split over processes (docs/cli.md "Running over MPI").
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${ATTNPATHS:-$ROOT/build/attnpaths}
OUT=${1:-$HERE/out/p_sweep}
THREADS=${THREADS:-0}
PS=${PS:-"100 1000 10000 100000"}
PY=/usr/bin/python3
if [ ! -x "$BIN" ]; then
  echo "error: $BIN: not found; build first (see README.md) or set ATTNPATHS=/path/to/attnpaths" >&2
  exit 2
fi
mkdir -p "$OUT"
for P in $PS; do
  widths="$((P / 10)) $((P / 3)) $P 1000000000000"
  sed -e "s/^P = 100 .*/P = $P/" -e "s/^P_test = 1000 .*/P_test = 4000/" \
      -e "s|^directory = .*|directory = \"$OUT/P$P\"|" -e "/^\[sweep\]/,/^widths/d" \
      "$HERE/four_paths.toml" > "$OUT/P$P.toml"
  echo "== P = $P: widths $widths" >&2
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$BIN" sweep --config "$OUT/P$P.toml" --widths $widths --threads "$THREADS" --quiet >/dev/null
  echo "   $(( $(date +%s) - start )) s" >&2
done
# shellcheck disable=SC2086
"$PY" "$HERE/p_sweep_plot.py" "$OUT" $PS

#!/usr/bin/env bash
# The paper's hidden-Markov-chain study end to end (theory.md §8):
#
#   bash examples/hmm/run.sh [OUTPUT_DIR]          (default examples/hmm/out)
#
# 1. theory sweeps over N ∈ {10, 30, 50, 100, 300, 500, 1000} for the 4-path
#    network and the two variants (good path only; good + denoising paths),
#    and the GP limit of each (the variants' GP limits are the baselines of §8);
# 2. head relevance at every N, pruning (silencing and re-solve) and
#    kernel–task alignment at N = 10 (alignment also at N = 100 and 1000);
# 3. every figure, as PNG and PDF, in OUTPUT_DIR/figures.
#
# Environment: ATTNPATHS (the binary, default build/attnpaths), THREADS
# (default 0 = every core), SAMPLE_WIDTHS (e.g. "10 100": also sample the
# finite 4-path network's posterior with NUTS at those N — 4 chains × 200
# warm-up + 200 draws, or SAMPLE_FLAGS — and overlay the sampled accuracies
# with their Monte Carlo standard errors), SAMPLED (further sampled-results
# files to overlay, space-separated, see examples/plot.py). Sweeps resume: running the script again
# reuses every finished point. About 20 s of CPU (10-20 s on 2 idle cores).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${ATTNPATHS:-$ROOT/build/attnpaths}
OUT=${1:-$HERE/out}
THREADS=${THREADS:-0}
PY=/usr/bin/python3   # Debian's python3 with matplotlib (a pyenv python3 may come first on PATH)
T=0.01
NS=(10 30 50 100 300 500 1000)

if [ ! -x "$BIN" ]; then
  echo "error: $BIN: not found; build first (see README.md) or set ATTNPATHS=/path/to/attnpaths" >&2
  exit 2
fi
mkdir -p "$OUT"
step() { echo "== $*" >&2; }

for net in four_paths good_path good_denoising; do
  step "$net: theory sweep over N = ${NS[*]}"
  "$BIN" sweep --config "$HERE/$net.toml" --output "$OUT/$net" --threads "$THREADS" --quiet >/dev/null
  step "$net: GP limit"
  "$BIN" gp --config "$HERE/$net.toml" --output "$OUT/$net/gp" --threads "$THREADS" --quiet >/dev/null
done

point() { echo "$OUT/four_paths/points/N$1_T$T.json"; }
heads_files=()
for N in "${NS[@]}"; do
  step "four_paths: head relevance at N = $N"
  mkdir -p "$OUT/heads/N$N"
  "$BIN" heads --config "$HERE/four_paths.toml" --solution "$(point "$N")" --output "$OUT/heads/N$N" \
    --quiet >"$OUT/heads/N$N/report.txt"
  heads_files+=("$OUT/heads/N$N/heads.json")
done
step "four_paths: pruning at N = 10 (silencing and re-solve)"
mkdir -p "$OUT/prune/N10"
"$BIN" prune --config "$HERE/four_paths.toml" --solution "$(point 10)" --output "$OUT/prune/N10" \
  --threads "$THREADS" --quiet >"$OUT/prune/N10/report.txt"
align_files=()
for N in 10 100 1000; do
  step "four_paths: kernel-task alignment at N = $N"
  mkdir -p "$OUT/align/N$N"
  "$BIN" align --config "$HERE/four_paths.toml" --solution "$(point "$N")" --output "$OUT/align/N$N" \
    --threads "$THREADS" --quiet >"$OUT/align/N$N/report.txt"
  align_files+=("$OUT/align/N$N/alignment.json")
done
cat "$OUT/heads/N10/report.txt" "$OUT/prune/N10/report.txt" "$OUT/align/N10/report.txt"

step "figures"
sampled_files=()
for N in ${SAMPLE_WIDTHS:-}; do
  step "four_paths: NUTS sampling of the finite network at N = $N"
  mkdir -p "$OUT/sampled"
  # shellcheck disable=SC2086
  "$BIN" sample --config "$HERE/four_paths.toml" --width "$N" --output "$OUT/sampled/N$N" \
    --threads "$THREADS" ${SAMPLE_FLAGS:---chains 4 --warmup 200 --samples 200} --quiet \
    >"$OUT/sampled/N$N.txt" || echo "warning: sampling at N = $N reported a failure (see $OUT/sampled/N$N.txt)" >&2
  if [ -f "$OUT/sampled/N$N/sample_summary.json" ]; then
    sampled_files+=("$OUT/sampled/N$N/sample_summary.json")
  fi
done
# shellcheck disable=SC2206
sampled_files+=(${SAMPLED:-})
sampled=()
if [ ${#sampled_files[@]} -gt 0 ]; then sampled=(--sampled "${sampled_files[@]}"); fi
"$PY" "$ROOT/examples/plot.py" --output "$OUT/figures" --name "4 paths" \
  --sweep "$OUT/four_paths/sweep.json" --gp "$OUT/four_paths/gp/summary.json" \
  --variant "good + denoising paths=$OUT/good_denoising/sweep.json" \
  --variant "good path only=$OUT/good_path/sweep.json" \
  --baseline "GP limit, good + denoising paths=$OUT/good_denoising/gp/summary.json" \
  --baseline "GP limit, good path only=$OUT/good_path/gp/summary.json" \
  "${sampled[@]}" \
  --heads "${heads_files[@]}" --prune "$OUT/prune/N10/pruning.json" --align "${align_files[@]}"
"$PY" - "$OUT" <<'PYEOF'
import json, sys
out = sys.argv[1]
rows = {n: {r["N"]: r for r in json.load(open(f"{out}/{n}/sweep.json"))["points"]}
        for n in ("four_paths", "good_denoising", "good_path")}
gp = {n: json.load(open(f"{out}/{n}/gp/summary.json")) for n in rows}
print("\ntest accuracy (generalisation error) vs N, T = 0.01")
print(f"{'N':>6}  {'4 paths':>16}  {'good + denoising':>16}  {'good path only':>16}")
for N in sorted(rows["four_paths"]):
    cells = [f"{rows[n][N]['test_accuracy']:.3f} ({rows[n][N]['generalization_error']:.3f})" for n in rows]
    print(f"{N:>6g}  " + "  ".join(f"{c:>16}" for c in cells))
cells = [f"{gp[n]['test_accuracy']:.3f} ({gp[n]['generalization_error']:.3f})" for n in rows]
print(f"{'GP':>6}  " + "  ".join(f"{c:>16}" for c in cells))
PYEOF
echo "done: results in $OUT, figures in $OUT/figures" >&2

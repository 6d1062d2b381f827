#!/usr/bin/env bash
# Signal propagation at initialisation (docs/signal-propagation.md), from the
# repository root after a build:
#   bash examples/propagation/run.sh [build/attnpaths]
# 1. figures.py: kernel-prop for every construction and shaped-sde beside
#    finite networks, then the figures (PNG + PDF) in figures/propagation.
# 2. The Bayesian theory of an E-SPA network: its attention at initialisation
#    as fixed heads of a theory.md study on the Markov task, solved over N and
#    compared with the same network with uniform (collapsing) attention.
set -euo pipefail
BIN=${1:-build/attnpaths}
HERE=$(dirname "$0")
/usr/bin/python3 "$HERE/figures.py" --attnpaths "$BIN" --output figures/propagation
for method in espa uniform; do
  "$BIN" kernel-prop --config "$HERE/${method}_heads.toml" --quiet
  "$BIN" sweep --config "$HERE/${method}_study.toml" --quiet
  "$BIN" gp --config "$HERE/${method}_study.toml" --output "$HERE/out/${method}_study/gp" --quiet
done
/usr/bin/python3 examples/plot.py --output figures/propagation \
  --sweep "$HERE/out/espa_study/sweep.json" --gp "$HERE/out/espa_study/gp/summary.json" \
  --variant "uniform attention=$HERE/out/uniform_study/sweep.json" \
  --baseline "GP limit, uniform attention=$HERE/out/uniform_study/gp/summary.json"

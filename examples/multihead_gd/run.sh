#!/usr/bin/env bash
# The multi-head gradient-descent study (README.md): the head-count sweep at the
# step size eta = 2, then the figures. STEP_SIZES="0.5 2.0" runs several;
# SWEEP_ARGS adds flags, e.g. SWEEP_ARGS="--steps 20 --hessian-every 0" for a quick run
# (the NTK margins at initialisation do not depend on the steps).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${ATTNPATHS:-$root/build/attnpaths}
cd "$here"
for eta in ${STEP_SIZES:-2.0}; do
  # One thread per gradient: the committed results, bit for bit, on any machine.
  # shellcheck disable=SC2086
  "$bin" train-sweep --config sweep.toml --learning-rate "$eta" --output "out/eta_$eta" \
    --threads 1 ${SWEEP_ARGS:-}
done
/usr/bin/python3 figures.py out

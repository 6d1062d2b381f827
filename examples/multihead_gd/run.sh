#!/usr/bin/env bash
# The multi-head gradient-descent study (README.md): the head-count sweep at the
# step size eta = 2, then the figures. STEP_SIZES="0.5 2.0" runs several.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${ATTNPATHS:-$root/build/attnpaths}
cd "$here"
for eta in ${STEP_SIZES:-2.0}; do
  "$bin" train-sweep --config sweep.toml --learning-rate "$eta" --output "out/eta_$eta"
done
/usr/bin/python3 figures.py out

#!/usr/bin/env bash
# The Hessian growth study (README.md): the single layer at the specification's
# size, then a 3-layer network trained by `attnpaths train` on a tokenised mixture
# and the growth of every layer's blocks; figures in out/figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${ATTNPATHS:-$root/build/attnpaths}
py=/usr/bin/python3
cd "$here"
mkdir -p out

# 1. One self-attention layer (hessian.toml).
"$bin" hessian --config hessian.toml

# 2. A 3-layer network (heads 2, 1, 1) trained for 30 Adam epochs on a tokenised
#    mixture, then its Hessian: blocks of every layer against sigma.
PYTHONPATH=${ATTNPATHS_PYTHONPATH:-$root/build/python} $py - <<'PY'
import numpy as np, attnpaths as ap
m = ap.tokenized_mixture(examples=256, tokens=6, features=8, irrelevant_means=3, seed=3)
np.save('out/mixture_x.npy', m['x']); np.save('out/mixture_y.npy', m['y'])
PY
"$bin" train --train-x out/mixture_x.npy --train-y out/mixture_y.npy --heads 2 1 1 \
    --width 8 --key-dim 4 --epochs 30 --threads 1 --seed 1 --quiet -o out/network
"$bin" hessian --model trained_network --network out/network --x out/mixture_x.npy \
    --y out/mixture_y.npy --batch 32 --repeats 10 --sigma-from 0.005 --sigma-to 2 \
    --sigma-points 16 --fit-points 4 --spectrum 5 --threads 1 -o out/network_hessian

# 3. Figures and the numbers of README.md.
$py figures.py out

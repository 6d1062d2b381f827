#!/usr/bin/env bash
# `pip install .` into a fresh venv (--system-site-packages for NumPy), offline,
# then import the module from the venv and use it. Usage:
#   pip_test.sh SOURCE_DIR WORK_DIR [PREFIX]
# With PREFIX (an installed attnpaths, the package.install fixture) setup.py
# compiles only the bindings and links the installed libraries
# (ATTNPATHS_PREFIX); without it, it compiles the libraries too (minutes).
set -euo pipefail
source_dir=$1
work=$2
prefix=${3:-}
if ! /usr/bin/python3 -c "import venv, ensurepip, setuptools, pybind11" 2>/dev/null; then
  echo "skipped: Debian's python3 lacks venv/ensurepip, setuptools or pybind11" \
       "(python3-venv, python3-setuptools, python3-pybind11)"
  exit 77
fi
if [ -n "$prefix" ] && [ ! -f "$prefix/lib/pkgconfig/attnpaths.pc" ]; then
  echo "skipped: $prefix holds no installed attnpaths (the Python module is not built?)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
export ATTNPATHS_SETUPTOOLS_BUILD_DIR="$work/setuptools"
if [ -n "$prefix" ]; then export ATTNPATHS_PREFIX=$prefix; fi
# ccache, when present, makes a repeated build of unchanged bindings cheap.
if command -v ccache >/dev/null && [ -z "${CC:-}" ]; then export CC="ccache c++"; fi
start=$(date +%s)
"$work/venv/bin/pip" install --no-build-isolation --no-index --no-deps --quiet "$source_dir" \
  >"$work/pip.log" 2>&1 || { cat "$work/pip.log"; exit 1; }
echo "pip install: $(( $(date +%s) - start )) s"
cd "$work"  # not the source tree: the import must find the installed module
"$work/venv/bin/python" - "$work/venv" "$source_dir" <<'PYEOF'
import json, os, re, sys
venv, source = sys.argv[1], sys.argv[2]
import attnpaths as ap
assert os.path.realpath(ap.__file__).startswith(os.path.realpath(venv)), ap.__file__
stub = os.path.join(os.path.dirname(ap.__file__), "attnpaths.pyi")
assert os.path.exists(stub), "the type stubs are installed beside the module"
version = re.search(r"project\(attnpaths\s+VERSION\s+([0-9.]+)",
                    open(os.path.join(source, "CMakeLists.txt")).read()).group(1)
info = ap.build_info()
assert ap.__version__ == version == info["version"], (ap.__version__, version, info)
assert re.fullmatch(r"[0-9a-f]{40}|unknown", info["git_commit"]), info
# A small GP-limit prediction: at T -> 0 the predictor interpolates its labels.
import numpy as np
rng = np.random.default_rng(0)
x = rng.normal(size=(8, 3, 12))
y = np.where(np.arange(8) % 2 == 0, 1.0, -1.0)
arch = ap.Architecture(layers=[[ap.HeadSpec(kind="uniform", name="u")]], N=20)
kernel = ap.PathKernel(ap.compute_path_inputs(arch, x))
stats = ap.predict(kernel, y, 1e-10, ap.gp_limit(arch).U[0], ap.compute_path_inputs(arch, x, "test"))
assert np.max(np.abs(stats.mean[:, 0] - y)) < 1e-5, stats.mean
print("pip_test: imported", ap.__file__, "version", ap.__version__, "commit", info["git_commit"][:12])
PYEOF

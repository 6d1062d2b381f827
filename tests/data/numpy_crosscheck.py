#!/usr/bin/python3
"""Cross-checks data/npy.cc against NumPy (run by ctest as data_npy_numpy_crosscheck).

NumPy writes arrays of every supported dtype, byte order, memory order, format
version and a range of shapes (0-D, empty, up to 4-D, special float values);
npy_tool reads each with attnpaths::ReadNpy and writes it back with
attnpaths::WriteNpy; NumPy then checks the result equals array.astype(float64)
in C order, that the reported dtype equals NumPy's descr, and that our output
equals np.save's bytes for that C-order float64 array. Truncated copies of
every file must be reported as an attnpaths::Error naming the file.

usage: /usr/bin/python3 numpy_crosscheck.py path/to/npy_tool
"""
import io
import os
import subprocess
import sys
import tempfile

import numpy as np

DTYPES = ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]
SHAPES = [(), (0,), (1,), (5,), (3, 0), (2, 3), (4, 1, 3), (2, 3, 2, 2), (17, 9)]
VERSIONS = [(1, 0), (2, 0), (3, 0)]


def make(rng, dt, shape):
    n = int(np.prod(shape))
    if dt.kind == "f":
        values = rng.standard_normal(n) * 100
        specials = [np.nan, np.inf, -np.inf, -0.0, np.finfo(dt).tiny, np.finfo(dt).max]
        values[: min(n, len(specials))] = specials[: min(n, len(specials))]
        return values.astype(dt).reshape(shape)
    if dt.kind == "b":
        return (rng.integers(0, 2, n) == 1).reshape(shape)
    native = dt.newbyteorder("=")
    info = np.iinfo(native)
    values = rng.integers(info.min, info.max, n, dtype=native, endpoint=True)
    values[: min(n, 2)] = [info.min, info.max][: min(n, 2)]
    return values.astype(dt).reshape(shape)


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng(2024)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = []  # (label, array, input path, output path)
        for dtype in DTYPES:
            orders = "<>" if np.dtype(dtype).itemsize > 1 else "|"
            for order in orders:
                dt = np.dtype(dtype) if order == "|" else np.dtype(dtype).newbyteorder(order)
                for shape in SHAPES:
                    for fortran in (False, True):
                        for version in VERSIONS:
                            a = make(rng, dt, shape)
                            a = np.asfortranarray(a) if fortran else np.ascontiguousarray(a)
                            stem = os.path.join(tmp, f"c{len(cases)}")
                            with open(stem + ".npy", "wb") as f:
                                np.lib.format.write_array(f, a, version=version)
                            label = f"{a.dtype.str} shape={shape} fortran={fortran} version={version}"
                            cases.append((label, a, stem + ".npy", stem + ".out.npy"))
        # Truncated copies: every cut of a valid file must be an Error naming it.
        cuts = []
        for i, (label, a, src, _) in enumerate(cases):
            with open(src, "rb") as f:
                whole = f.read()
            for cut in sorted({0, 7, 9, 11, len(whole) // 2, len(whole) - 1}):
                path = os.path.join(tmp, f"cut{i}_{cut}.npy")
                with open(path, "wb") as f:
                    f.write(whole[:cut])
                cuts.append((f"{label} cut at {cut}", path))

        manifest = os.path.join(tmp, "manifest.txt")
        with open(manifest, "w") as f:
            for _, _, src, dst in cases:
                f.write(f"{src}\t{dst}\n")
            for _, path in cuts:
                f.write(f"{path}\n")
        r = subprocess.run([tool, manifest], capture_output=True, text=True)
        lines = r.stdout.splitlines()
        if r.returncode != 0 or len(lines) != len(cases) + len(cuts):
            print(f"npy_tool exited {r.returncode} after {len(lines)} lines:\n{r.stdout[-2000:]}{r.stderr}")
            return 1

        for (label, a, src, dst), line in zip(cases, lines):
            if line != "ok " + a.dtype.str:
                failures.append(f"{label}: {line}")
                continue
            b = np.load(dst, allow_pickle=False)
            expected = a.astype(np.float64)
            if b.dtype != np.dtype("<f8") or b.shape != a.shape or not np.array_equal(
                    b, expected, equal_nan=True):
                failures.append(f"{label}: values differ\n{b}\n{expected}")
            # Our output is byte for byte what np.save writes for the C-order float64 array.
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(expected))
            with open(dst, "rb") as f:
                if f.read() != buf.getvalue():
                    failures.append(f"{label}: bytes differ from np.save")
        for (label, path), line in zip(cuts, lines[len(cases):]):
            if not line.startswith(f"error {path}: found "):
                failures.append(f"{label}: {line}")

    for failure in failures[:50]:
        print("FAIL", failure)
    print(f"{len(cases)} arrays and {len(cuts)} truncations checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

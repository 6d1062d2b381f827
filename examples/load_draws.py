#!/usr/bin/env python3
"""Load a sampler's draws.h5 (attnpaths sample / compare) into xarray.

    from load_draws import load_draws
    ds = load_draws("out/draws.h5")          # an xarray.Dataset
    ds.draws.sel(quantity="U[0,1]")           # (chain, draw)
    posterior = split_quantities(ds)          # lp, f, f_var, U as variables
    posterior.U.mean(("chain", "draw"))       # U^sampled, (U_row, U_col)

Needs h5py and xarray only. Every dataset of draws.h5 carries its dimension
labels (HDF5 dimension-scale labels, `f[name].dims[i].label` in h5py), so the
loader needs no list of names; the file's root attributes (provenance, seed,
sampler settings, metric, integrator) become the Dataset's attrs.

ArviZ (not needed here) takes the split variables directly:
    import arviz as az
    idata = az.from_dict(
        posterior={k: posterior[k].values for k in posterior.data_vars},
        sample_stats={"acceptance_rate": ds.accept_stat.values, "energy": ds.energy.values,
                      "tree_depth": ds.tree_depth.values, "n_steps": ds.leapfrog_steps.values,
                      "diverging": ds.divergent.values.astype(bool)},
        dims={"f": ["test_point", "output"], "f_var": ["test_point"], "U": ["U_row", "U_col"]})
    az.summary(idata)
"""
import re
import sys

import h5py
import numpy as np
import xarray as xr


def load_draws(path):
    """draws.h5 as an xarray.Dataset: draws (chain, draw, quantity), the NUTS
    statistics (chain, draw), step_size (chain), coordinates chain, draw and
    quantity (names such as "lp", "f[3]", "f[3,1]", "f_var[3]", "U[0,2]")."""
    variables, coords = {}, {}
    with h5py.File(path, "r") as f:
        for name, item in f.items():
            if not isinstance(item, h5py.Dataset):
                continue
            dims = [d.label for d in item.dims]
            if item.dtype.kind == "O" or h5py.check_string_dtype(item.dtype):
                values = item.asstr()[()]
            else:
                values = item[()]
            if len(dims) == 1 and dims[0] == name:
                coords[name] = values
            else:
                variables[name] = (dims, values)
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    for name in ("chain", "draw"):
        if name in coords:
            coords[name] = coords[name].astype(np.int64)
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def split_quantities(ds):
    """The flat `draws` as one variable per reported quantity: lp (chain,
    draw), f (chain, draw, test_point, output), f_var (chain, draw,
    test_point) when the collapsed sampler wrote it, and U (chain, draw,
    U_row, U_col), the symmetric matrix U^sampled rebuilt from its packed
    upper triangle."""
    names = [str(q) for q in ds.quantity.values]
    draws = ds.draws.values
    C, S = draws.shape[:2]
    out = {"lp": (("chain", "draw"), draws[:, :, names.index("lp")])}
    groups = {}
    for k, q in enumerate(names):
        m = re.fullmatch(r"(\w+)\[([\d,]+)\]", q)
        if m:
            groups.setdefault(m.group(1), []).append((tuple(map(int, m.group(2).split(","))), k))
    if "f" in groups:
        index = groups["f"]
        P = 1 + max(i[0] for i, _ in index)
        D = 1 + max(i[1] if len(i) > 1 else 0 for i, _ in index)
        f = np.empty((C, S, P, D))
        for i, k in index:
            f[:, :, i[0], i[1] if len(i) > 1 else 0] = draws[:, :, k]
        out["f"] = (("chain", "draw", "test_point", "output"), f)
    if "f_var" in groups:
        index = groups["f_var"]
        v = np.empty((C, S, 1 + max(i[0] for i, _ in index)))
        for i, k in index:
            v[:, :, i[0]] = draws[:, :, k]
        out["f_var"] = (("chain", "draw", "test_point"), v)
    if "U" in groups:
        index = groups["U"]
        K = 1 + max(i[1] for i, _ in index)
        U = np.empty((C, S, K, K))
        for (i, j), k in index:
            U[:, :, i, j] = U[:, :, j, i] = draws[:, :, k]
        out["U"] = (("chain", "draw", "U_row", "U_col"), U)
    return xr.Dataset(out, coords={"chain": ds.chain.values, "draw": ds.draw.values},
                      attrs=ds.attrs)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: load_draws.py DIR/draws.h5")
    ds = load_draws(sys.argv[1])
    print(ds)
    print(split_quantities(ds))

#!/usr/bin/python3
"""Signal-propagation figures in one command (docs/signal-propagation.md):

    /usr/bin/python3 examples/propagation/figures.py --attnpaths build/attnpaths --output figures/propagation

runs `attnpaths kernel-prop` for every attention construction and
`attnpaths shaped-sde` (shaped and standard networks at several widths beside
the SDE, and a small stability map), keeps their output folders under
OUTPUT/runs, and writes each figure as PNG and PDF (--formats):

  kernel_correlation_vs_depth   mean off-diagonal correlation of the token kernel
                                against depth for uniform, Value-SkipInit, shaped,
                                U-SPA and E-SPA attention (causal, TAT MLPs): the
                                infinite-width recursion as lines, networks of
                                finite width (Gaussian values) as markers with
                                ±1 s.e. — uniform collapses to 1, E-SPA holds its target
  kernel_heatmaps               correlation matrices of Sigma_L, one per construction
  shaped_quantile_bands         median and 25-75 % band of V_00 and rho_01 against
                                t = l/n: the SDE, the SDE without attention, and
                                shaped networks at each width (converging to the SDE)
  shaped_rank_collapse          median rho_01 at t_f against the width n for shaped and
                                standard (softmax) attention, the SDE's as a band:
                                standard attention goes to 1 (rank collapse)
  shaped_stability_map          exploded fraction of SDE paths at t_f over (gamma, tau0)

--quick uses fewer paths and networks (a smoke run of a few seconds).
Uses Debian's python3-matplotlib with the Agg backend.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

METHODS = [("uniform", "uniform"), ("value_skipinit", "Value-SkipInit"), ("shaped", "shaped"),
           ("uspa", "U-SPA"), ("espa", "E-SPA")]
COLORS = {"uniform": "#d1495b", "value_skipinit": "#edae49", "shaped": "#66a182",
          "uspa": "#00798c", "espa": "#1f4e9c"}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed (exit {r.returncode}): {r.stderr.strip()}")


def save(fig, out, name, formats):
    for f in formats:
        fig.savefig(os.path.join(out, f"{name}.{f}"), dpi=150, bbox_inches="tight")
    plt.close(fig)
    print("wrote", os.path.join(out, name) + "." + "/".join(formats))


def read_csv(path):
    with open(path) as f:
        rows = [l for l in f if not l.startswith("#")]
    return list(csv.DictReader(rows))


def number(text):
    return float(text) if text not in ("", "inf") else (np.inf if text == "inf" else np.nan)


def kernel_prop_runs(args, runs):
    tokens, depth = 16, 12
    widths = [32, 128] if not args.quick else [32]
    draws = 20 if not args.quick else 4
    for method, mlp in [(m, mlp) for m, _ in METHODS for mlp in ("tat", "none")]:
        name = f"kp_{method}" + ("" if mlp == "tat" else "_nomlp")
        path = os.path.join(runs, f"{name}.toml")
        with open(path, "w") as f:
            f.write(f"""[kernel_prop]
tokens = {tokens}
depth = {depth}
causal = true
method = "{method}"
gamma_final = 0.05
rho_final = 0.9
mlp = "{mlp}"
tat_eta = 0.9
[kernel_prop.finite_width]
widths = {widths}
values = "gaussian"
draws = {draws}
seed = 1
[output]
directory = "{name}"
""")
        run([args.attnpaths, "kernel-prop", "--config", path, "--quiet"])
    return widths


def shaped_runs(args, runs):
    widths = [16, 64, 256] if not args.quick else [16, 64]
    samples = [2000, 2000, 1000] if not args.quick else [200, 200]
    paths = 4000 if not args.quick else 400
    path = os.path.join(runs, "shaped.toml")
    with open(path, "w") as f:
        f.write(f"""[shaped_sde]
V0 = [[1.0, 0.2, -0.1], [0.2, 0.9, 0.3], [-0.1, 0.3, 1.1]]
gamma = 0.5
tau0 = 0.5
depth_to_width = 0.4
dt = 0.0009765625
paths = {paths}
seed = 1
attention = "both"
exploded_in_quantiles = "infinity"
[shaped_sde.networks]
widths = {widths}
samples = {samples}
key_dim = 4
sampler = "chain"
[output]
directory = "shaped"
""")
    cmd = [args.attnpaths, "shaped-sde", "--config", path, "--quiet",
           "--stability-map", "0.2", "0.35", "0.5", "0.7", "--stability-tau0", "0.3", "0.5", "0.8",
           "1.2", "--stability-paths", "300" if not args.quick else "50"]
    run(cmd)
    return widths


def kernel_figures(args, runs, widths):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    markers = ["o", "s", "^", "D"]
    panels = [(axes[0], "_nomlp", "attention only"), (axes[1], "", "attention + TAT MLP (η = 0.9)")]
    for ax, suffix, title in panels:
        for method, label in METHODS:
            d = os.path.join(runs, f"kp_{method}{suffix}")
            rec = read_csv(os.path.join(d, "metrics.csv"))
            layers = [int(r["layer"]) for r in rec]
            ax.plot(layers, [number(r["mean_correlation"]) for r in rec], color=COLORS[method],
                    ls="--" if method == "shaped" else "-",  # shaped = Value-SkipInit at init
                    label=label)
            fw = read_csv(os.path.join(d, "finite_width.csv"))
            for k, w in enumerate(widths):
                rows = [r for r in fw if int(r["width"]) == w and int(r["layer"]) > 0]
                ax.errorbar([int(r["layer"]) + 0.12 * (k + 1) for r in rows],
                            [number(r["mean_correlation"]) for r in rows],
                            yerr=[number(r["mean_correlation_se"]) for r in rows],
                            fmt=markers[k % 4], ms=3.5, color=COLORS[method], mfc="white", lw=0.8,
                            capsize=1.5, label=f"d = {w}" if method == "espa" else None)
        if suffix == "_nomlp":
            T = np.load(os.path.join(runs, "kp_espa_nomlp", "targets.npy"))
            tc = [(t / np.sqrt(np.outer(np.diag(t), np.diag(t))))[np.triu_indices(t.shape[0], 1)].mean()
                  for t in T]
            ax.plot(range(len(tc)), tc, ls=":", color="black", lw=1, label="E-SPA target")
        ax.set_xlabel("layer ℓ")
        ax.set_title(f"causal, {title}", fontsize=10)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7, ncol=2, loc="lower right")
    axes[0].set_ylabel("mean off-diagonal correlation of Σ_ℓ")
    fig.suptitle("Token-kernel propagation: recursion (lines), Gaussian-value networks (markers, ±1 s.e.)")
    save(fig, args.output, "kernel_correlation_vs_depth", args.formats)

    fig, axes = plt.subplots(1, len(METHODS), figsize=(3.0 * len(METHODS), 3.0))
    for ax, (method, label) in zip(axes, METHODS):
        K = np.load(os.path.join(runs, f"kp_{method}", "kernels.npy"))[-1]
        C = K / np.sqrt(np.outer(np.diag(K), np.diag(K)))
        im = ax.imshow(C, vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_title(f"{label}: Σ_L", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes, shrink=0.8, label="correlation")
    save(fig, args.output, "kernel_heatmaps", args.formats)


def shaped_figures(args, runs, widths):
    d = os.path.join(runs, "shaped")
    rows = read_csv(os.path.join(d, "quantiles.csv"))
    sources = ["sde", "sde_no_attention"] + [f"net_{w}" for w in widths]
    style = {"sde": dict(color="black", lw=2, label="SDE"),
             "sde_no_attention": dict(color="#999999", lw=1.5, ls="--", label="SDE, no attention")}
    cmap = plt.get_cmap("viridis")
    for k, w in enumerate(widths):
        style[f"net_{w}"] = dict(color=cmap(0.15 + 0.7 * k / max(1, len(widths) - 1)), lw=1.2,
                                 label=f"shaped network, n = {w}")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, quantity, label in zip(axes, ["V_00", "rho_01"], ["V₀₀", "ρ₀₁"]):
        for s in sources:
            r = [x for x in rows if x["source"] == s and x["quantity"] == quantity]
            if not r:
                continue
            t = [number(x["t"]) for x in r]
            q25, q50, q75 = ([number(x[c]) for x in r] for c in ("q25", "q50", "q75"))
            ax.plot(t, q50, **style[s])
            ax.fill_between(t, q25, q75, color=style[s]["color"], alpha=0.12)
        ax.set_xlabel("t = ℓ / n")
        ax.set_ylabel(f"{label}: median and 25–75 %")
    axes[0].legend(fontsize=7)
    fig.suptitle("Shaped attention (γ = τ0 = 0.5): networks converge to the covariance SDE")
    save(fig, args.output, "shaped_quantile_bands", args.formats)

    s = json.load(open(os.path.join(d, "summary.json")))
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    for prefix, label, color in [("net", "shaped", "#1f4e9c"), ("std", "standard softmax", "#d1495b")]:
        med, se = [], []
        for w in widths:
            r = [x for x in rows if x["source"] == f"{prefix}_{w}" and x["quantity"] == "rho_01"][-1]
            med.append(number(r["q50"]))
            se.append(number(r["se50"]))
        ax.errorbar(widths, med, yerr=se, marker="o", color=color, capsize=2, label=label)
    r = [x for x in rows if x["source"] == "sde" and x["quantity"] == "rho_01"][-1]
    ax.axhspan(number(r["q50"]) - number(r["se50"]), number(r["q50"]) + number(r["se50"]),
               color="black", alpha=0.2, label="SDE (median ± s.e.)")
    ax.axhline(1, color="#999999", lw=0.8, ls=":")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("width n (depth d = n t_f)")
    ax.set_ylabel("median ρ₀₁ at t_f")
    ax.legend(fontsize=8)
    save(fig, args.output, "shaped_rank_collapse", args.formats)

    stab = read_csv(os.path.join(d, "stability.csv"))
    dts = sorted({number(x["dt"]) for x in stab})
    gammas = sorted({number(x["gamma"]) for x in stab})
    taus = sorted({number(x["tau0"]) for x in stab})
    fig, axes = plt.subplots(1, len(dts), figsize=(4.4 * len(dts), 3.6))
    for ax, dt in zip(np.atleast_1d(axes), dts):
        M = np.zeros((len(gammas), len(taus)))
        for x in stab:
            if number(x["dt"]) == dt:
                M[gammas.index(number(x["gamma"])), taus.index(number(x["tau0"]))] = number(
                    x["exploded_fraction"])
        im = ax.imshow(M, origin="lower", cmap="magma", vmin=0, vmax=max(1e-9, M.max()),
                       aspect="auto")
        ax.set_xticks(range(len(taus)), [f"{t:g}" for t in taus])
        ax.set_yticks(range(len(gammas)), [f"{g:g}" for g in gammas])
        ax.set_xlabel("τ0")
        ax.set_ylabel("γ")
        ax.set_title(f"exploded fraction at t_f, Δt = {dt:g}", fontsize=9)
        fig.colorbar(im, ax=ax)
    save(fig, args.output, "shaped_stability_map", args.formats)
    return s


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--attnpaths", default="build/attnpaths", help="the attnpaths binary")
    p.add_argument("--output", default="figures/propagation", help="folder for the figures")
    p.add_argument("--formats", nargs="+", default=["png", "pdf"])
    p.add_argument("--quick", action="store_true", help="fewer paths and networks (smoke run)")
    args = p.parse_args()
    if not os.path.exists(args.attnpaths):
        sys.exit(f"error: --attnpaths: found no file {args.attnpaths!r}, expected the attnpaths binary")
    args.attnpaths = os.path.abspath(args.attnpaths)
    runs = os.path.join(args.output, "runs")
    os.makedirs(runs, exist_ok=True)
    t0 = time.time()
    widths = kernel_prop_runs(args, runs)
    print(f"kernel-prop runs: {time.time() - t0:.1f} s")
    kernel_figures(args, runs, widths)
    t1 = time.time()
    shaped_widths = shaped_runs(args, runs)
    print(f"shaped-sde run: {time.time() - t1:.1f} s")
    shaped_figures(args, runs, shaped_widths)
    print(f"total {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()

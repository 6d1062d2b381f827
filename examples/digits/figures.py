#!/usr/bin/python3
"""Figures of the digits study (reads OUT/results.json and OUT/train/seed*/loss_curve.csv).

    /usr/bin/python3 examples/digits/figures.py --out OUT

Writes OUT/figures/loss_curves, accuracy_vs_N, head_scores and pruning, each
as PNG and PDF (--formats png pdf svg chooses), each to a temporary name, then
renamed.
"""
import argparse
import csv
import json
import math
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


FORMATS = ["png", "pdf"]  # --formats


def save(fig, path):
    """Writes path (given as "x.png") in every format of --formats."""
    base = os.path.splitext(path)[0]
    for fmt in FORMATS:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(base) + ".", suffix="." + fmt,
                                   dir=os.path.dirname(path))
        os.close(fd)
        try:
            fig.savefig(tmp, dpi=120, bbox_inches="tight")
            os.replace(tmp, f"{base}.{fmt}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    plt.close(fig)


def read_curve(path):
    rows = list(csv.DictReader(l for l in open(path) if not l.startswith("#")))  # provenance line
    num = lambda s: float(s) if s else math.nan
    return {k: np.array([num(r[k]) for r in rows]) for k in rows[0]}


def loss_curves(r, out, figs):
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(r["seeds"])))
    for c, s in zip(colors, r["seeds"]):
        d = read_curve(os.path.join(out, "train", f"seed{s}", "loss_curve.csv"))
        a1.plot(d["epoch"], d["train_loss"], color=c, lw=1, label=f"seed {s}")
        m = np.isfinite(d["test_loss"])
        a1.plot(d["epoch"][m], d["test_loss"][m], color=c, lw=1, ls="--")
        a2.plot(d["epoch"][m], d["test_accuracy"][m], color=c, lw=1)
    a1.set_yscale("log")
    a1.set_xlabel("epoch")
    a1.set_ylabel("mean squared error")
    a1.set_title("training loss (solid, mean over the epoch's mini-batches)\nand test loss (dashed)")
    a1.legend(fontsize=7, ncol=2)
    a2.set_xlabel("epoch")
    a2.set_ylabel("test accuracy")
    a2.set_title("trained network, test accuracy")
    a2.grid(alpha=0.3)
    save(fig, os.path.join(figs, "loss_curves.png"))


def accuracy_vs_N(r, figs):
    Ns = np.array(r["widths"], dtype=float)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    m = np.array([r["theory"][str(int(N))]["test_accuracy"][0] for N in Ns])
    e = np.array([r["theory"][str(int(N))]["test_accuracy"][1] for N in Ns])
    ax.errorbar(Ns, m, yerr=e, marker="o", lw=2, capsize=3, color="C0",
                label="theory, trained heads frozen (best T per N)")
    shades = plt.cm.cool(np.linspace(0, 1, len(r["T_theory"])))
    for T, c in zip(r["T_theory"], shades):
        mt = [r["theory"][str(int(N))][f"T={T}"][0] for N in Ns]
        ax.plot(Ns, mt, ls="--", lw=1, marker=".", color=c, alpha=0.8, label=f"theory, T = {T}")
    # The trained network and the GP limit can land on the same accuracy: the
    # trained line is drawn solid and wide underneath, the GP line dashed and
    # narrow on top, so both stay visible; their values are in the legend.
    gm, ge = r["gp"]["test_accuracy"]
    tm, te = r["trained"]["test_accuracy"]
    ax.axhspan(tm - te, tm + te, color="C2", alpha=0.12, lw=0, zorder=1)
    ax.axhline(tm, color="C2", ls="-", lw=4, alpha=0.6, zorder=2,
               label=f"trained network (gradient descent): {tm:.3f} ± {te:.3f}")
    ax.axhspan(gm - ge, gm + ge, facecolor="none", hatch="////", lw=0, zorder=3,
               edgecolor=matplotlib.colors.to_rgba("C1", 0.45))
    ax.axhline(gm, color="C1", ls=(0, (4, 3)), lw=1.8, zorder=4,
               label=f"GP limit (best T): {gm:.3f} ± {ge:.3f}")
    ax.plot([], [], ls="none", label="bands (shaded, hatched): ± 1 s.e. over seeds")
    ax.set_xscale("log")
    ax.set_xlabel("width N")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"digits 0-4 vs 5-9, P = 600; mean ± s.e. over {len(r['seeds'])} seeds")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax.set_axisbelow(True)
    save(fig, os.path.join(figs, "accuracy_vs_N.png"))


def head_scores(r, figs):
    seeds = r["seeds"]
    cols = min(5, len(seeds))
    rows = math.ceil(len(seeds) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False,
                             sharey=True)
    Ns = [str(min(r["widths"])), str(max(r["widths"]))]
    for ax, s in zip(axes.flat, seeds):
        heads = r["heads"][str(s)]
        names = [n for layer in heads[Ns[0]]["names"] for n in layer]
        x = np.arange(len(names))
        for k, (N, c) in enumerate(zip(Ns, ["C3", "C7"])):
            sc = [v for layer in heads[N]["scores"] for v in layer]
            ax.bar(x + (k - 0.5) * 0.38, sc, width=0.38, color=c, label=f"N = {N}")
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=90, fontsize=7)
        ax.set_title(f"seed {s}", fontsize=9)
        ax.set_ylim(0, 1.05)
    for ax in axes.flat[len(seeds):]:
        ax.axis("off")
    axes[0][0].set_ylabel("head score (theory.md §6)")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("theory head scores of the trained heads (1 = most relevant)", fontsize=10)
    fig.tight_layout()
    save(fig, os.path.join(figs, "head_scores.png"))


def pruning(r, figs):
    p = r["pruning"]
    k = np.array(p["removed"])
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(15, 4.2))
    for key, label, c in [("theory", "theory order (least relevant first)", "C0"),
                          ("random_mean", f"random orders ({r['random_orders']} per seed)", "C7"),
                          ("reverse", "reverse theory order", "C3")]:
        m = np.array([v[0] for v in p[key]])
        e = np.array([v[1] for v in p[key]])
        a1.errorbar(k, m, yerr=e, marker="o", capsize=3, color=c, label=label)
    sil = [x for x in p["silencing_theory_order"] if x]
    if sil:
        L = min(len(x["test_accuracy"]) for x in sil)
        sm = np.mean([x["test_accuracy"][:L] for x in sil], axis=0)
        a1.plot(np.arange(L), sm, ls="--", color="C0", alpha=0.6,
                label=f"theory's prediction (silencing U_1, N = {r['head_N']})")
    a1.set_xlabel("heads removed")
    a1.set_ylabel("test accuracy of the trained network")
    a1.set_title(f"pruning, mean ± s.e. over {len(r['seeds'])} seeds")
    a1.legend(fontsize=7)
    a1.grid(alpha=0.3)
    m = np.array([v[0] for v in p["theory_minus_random"]])
    e = np.array([v[1] for v in p["theory_minus_random"]])
    a2.errorbar(k, m, yerr=e, marker="o", capsize=3, color="C0")
    a2.axhline(0, color="k", lw=0.8)
    a2.set_xlabel("heads removed")
    a2.set_ylabel("accuracy: theory order − random orders")
    a2.set_title("paired difference per seed (mean ± s.e.)")
    a2.grid(alpha=0.3)
    n_seeds = len(p["per_seed"])
    for i, seed in enumerate(p["per_seed"]):
        a3.scatter([x["score"] for x in seed["single"]], [x["drop"] for x in seed["single"]],
                   s=14, color=plt.cm.viridis(i / max(1, n_seeds - 1)))
    if n_seeds > 1:  # the colour key: one colour per seed, in the order of r["seeds"]
        mappable = plt.cm.ScalarMappable(cmap="viridis",
                                         norm=matplotlib.colors.Normalize(0, n_seeds - 1))
        bar = fig.colorbar(mappable, ax=a3, ticks=range(n_seeds))
        bar.ax.set_yticklabels([str(s) for s in r["seeds"][:n_seeds]], fontsize=7)
        bar.set_label("seed")
    a3.set_xlabel(f"head score (N = {r['head_N']})")
    a3.set_ylabel("accuracy drop, that head alone removed")
    rho = p["spearman_score_drop"]
    a3.set_title(f"score vs drop: Spearman {rho[0]:.2f} ± {rho[1]:.2f} per seed")
    a3.grid(alpha=0.3)
    fig.tight_layout()
    save(fig, os.path.join(figs, "pruning.png"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--formats", nargs="+", default=["png", "pdf"], choices=["png", "pdf", "svg"],
                    help="file formats of every figure (default: png pdf)")
    args = ap.parse_args()
    FORMATS[:] = args.formats
    r = json.load(open(os.path.join(args.out, "results.json")))
    figs = os.path.join(args.out, "figures")
    os.makedirs(figs, exist_ok=True)
    loss_curves(r, args.out, figs)
    accuracy_vs_N(r, figs)
    head_scores(r, figs)
    pruning(r, figs)
    print(f"wrote {figs}/loss_curves, accuracy_vs_N, head_scores, pruning "
          f"({', '.join(FORMATS)})")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Figures (PNG and PDF by default; --formats png pdf svg) from the files attnpaths writes.

    /usr/bin/python3 examples/plot.py --output figs \\
        --sweep out/four_paths/sweep.json --gp out/four_paths/gp/summary.json \\
        --baseline "GP, good path only=out/good_path/gp/summary.json" \\
        --variant "good path only=out/good_path/sweep.json" \\
        --sampled sampled.json \\
        --heads out/heads_N10/heads.json out/heads_N1000/heads.json \\
        --prune out/prune_N10/pruning.json \\
        --align out/align_N10/alignment.json out/align_N1000/alignment.json

Every input is optional; each figure is made when its inputs are given, in
every format of --formats (default png pdf: PNG to look at, PDF for a paper):

  accuracy_vs_N.png   test accuracy and generalisation error vs N (log axis):
                      theory (--sweep), variants (--variant), GP limits as
                      horizontal lines (--gp, --baseline), sampled points with
                      error bars (--sampled)
  U_vs_N.png          U_1 at every N of --sweep as heat maps with path labels
  head_scores.png     head relevance scores (--heads; one group of bars per file)
  pruning.png         test accuracy and generalisation error vs heads removed
                      (--prune), silencing and re-solve side by side
  alignment.png       overlap per principal component (the smallest N of
                      --align vs the GP kernel) and cumulative alignment vs k
                      (every --align file and the GP kernel)

--sampled reads one or more files: the summary.json of `attnpaths sample`
(one point each), a JSON list of objects (or {"points": [...]}) with keys "N",
"test_accuracy" and optionally "test_accuracy_stderr" (also accepted:
"test_accuracy_se", "test_accuracy_err", "test_accuracy_std"), and likewise
"generalization_error[_stderr]"; or a CSV with those columns.

Uses Debian's python3-matplotlib with the Agg backend (no display needed).
"""
import argparse
import csv
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

THEORY_COLOR = "#1f4e9c"
GP_COLOR = "#444444"
SAMPLED_COLOR = "black"  # distinct from the tab10 colours of the variants
ORDER_STYLE = {
    "increasing": dict(color="#2a9d8f", marker="o", label="increasing relevance (least relevant first)"),
    "decreasing": dict(color="#d1495b", marker="s", label="decreasing relevance (most relevant first)"),
    "random": dict(color="#6c757d", marker="^", label="random order (mean ± std)"),  # label edited per plot
}


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def load_json(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        fail(f"{what}: cannot read {path} ({e.strerror})")
    except json.JSONDecodeError as e:
        fail(f"{what}: {path} is not valid JSON ({e})")


def labelled(spec, what):
    if "=" not in spec:
        fail(f"{what}: found \"{spec}\", expected LABEL=PATH")
    label, path = spec.rsplit("=", 1)
    return label, path


FORMATS = ["png", "pdf"]  # --formats


def save(fig, output, name):
    """Writes name (given as "x.png") in every format of --formats."""
    base = os.path.splitext(name)[0]
    for fmt in FORMATS:
        path = os.path.join(output, f"{base}.{fmt}")
        tmp = os.path.join(output, f".{base}.tmp-{os.getpid()}.{fmt}")
        fig.savefig(tmp, dpi=130, bbox_inches="tight")
        os.replace(tmp, path)  # atomic: a reader never sees half a figure
        print(f"wrote {path}")
    plt.close(fig)


def sweep_rows(path, what):
    rows = load_json(path, what)
    if isinstance(rows, dict):  # {"provenance": ..., "points": [...]}
        rows = rows.get("points")
    if not isinstance(rows, list) or not rows:
        fail(f"{what}: {path} holds no sweep rows (expected the sweep.json written by attnpaths sweep)")
    temps = sorted({r.get("temperature") for r in rows if r.get("temperature") is not None})
    if len(temps) > 1:
        t0 = temps[0]
        print(f"note: {path} has temperatures {temps}; plotting T = {t0}", file=sys.stderr)
        rows = [r for r in rows if r.get("temperature") == t0]
    rows = [r for r in rows if r.get("N") is not None]
    rows.sort(key=lambda r: r["N"])
    return rows


def sampled_points(paths):
    pts = []
    for path in paths:
        pts += sampled_points_of(path)
    pts.sort(key=lambda p: p["N"])
    return pts


def sampled_points_of(path):
    def pick(d, base):
        for suffix in ("_stderr", "_se", "_err", "_std"):
            if d.get(base + suffix) not in (None, ""):
                return float(d[base + suffix])
        return None

    if path.endswith(".csv"):
        with open(path) as f:
            rows = list(csv.DictReader(l for l in f if not l.startswith("#")))  # provenance line
    else:
        data = load_json(path, "--sampled")
        if isinstance(data, dict) and "N" in data and "test_accuracy" in data:
            rows = [data]  # the summary.json of `attnpaths sample`
        else:
            rows = data.get("points", data.get("rows")) if isinstance(data, dict) else data
        if not isinstance(rows, list):
            fail(f"--sampled: {path} holds no list of points (expected [{{\"N\": …, \"test_accuracy\": …}}])")
    pts = []
    for r in rows:
        if r.get("N") in (None, "") or r.get("test_accuracy") in (None, ""):
            continue
        pts.append(dict(N=float(r["N"]), acc=float(r["test_accuracy"]), acc_err=pick(r, "test_accuracy"),
                        gen=float(r["generalization_error"]) if r.get("generalization_error") not in (None, "") else None,
                        gen_err=pick(r, "generalization_error")))
    if not pts:
        fail(f"--sampled: {path} has no point with N and test_accuracy")
    pts.sort(key=lambda p: p["N"])
    return pts


def log_n_axis(ax, ns):
    ax.set_xscale("log")
    ax.set_xticks(ns)
    ax.set_xticklabels([f"{n:g}" for n in ns])
    ax.minorticks_off()
    ax.set_xlabel("width N (every layer; log scale)")
    ax.grid(True, which="major", alpha=0.3)


def plot_accuracy(args):
    rows = sweep_rows(args.sweep, "--sweep")
    ns = [r["N"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.8))
    dashes = ["--", ":", "-."]
    for ax, key, ylabel in ((axes[0], "test_accuracy", "test accuracy (fraction of test points correct)"),
                            (axes[1], "generalization_error", "generalisation error ε (bias² + variance)")):
        groups = [[] for _ in range(1 + max(len(args.variant or []), len(args.baseline or [])))]
        h, = ax.plot(ns, [r[key] for r in rows], "-o", color=THEORY_COLOR, lw=2.2, zorder=3,
                     label=f"theory, {args.name}")
        groups[0].append(h)
        if args.gp:
            g = load_json(args.gp, "--gp")
            groups[0].append(ax.axhline(g[key], color=THEORY_COLOR, ls="--", lw=1.4,
                                        label=f"GP limit (N → ∞), {args.name}"))
        for k, (label, path) in enumerate(args.variant or []):
            vr = sweep_rows(path, "--variant")
            h, = ax.plot([r["N"] for r in vr], [r[key] for r in vr], "-", marker=".", lw=1.2,
                         color=plt.cm.tab10(2 + k), label=f"theory, {label}")
            groups[1 + k].append(h)
        for k, (label, path) in enumerate(args.baseline or []):
            g = load_json(path, "--baseline")
            groups[1 + k].append(ax.axhline(g[key], color=plt.cm.tab10(2 + k), ls=dashes[(k + 1) % 3],
                                            lw=1.3, label=label))
        if args.sampled:
            pts = sampled_points(args.sampled)
            val = "acc" if key == "test_accuracy" else "gen"
            pts = [p for p in pts if p[val] is not None]
            if pts:
                errs = [p[val + "_err"] or 0.0 for p in pts]
                h = ax.errorbar([p["N"] for p in pts], [p[val] for p in pts], yerr=errs, fmt="D",
                                color=SAMPLED_COLOR, ms=5, capsize=3, zorder=4,
                                label=f"sampled finite network, {args.name} (±1 s.e.)")
                groups[0].append(h)
        log_n_axis(ax, ns)
        ax.set_ylabel(ylabel)
        if key == "test_accuracy":
            legend_groups = groups
    T = rows[0].get("temperature")
    axes[0].set_title("Test accuracy vs width" + (f" (T = {T:g})" if T is not None else ""))
    axes[1].set_title("Generalisation error vs width")
    # One legend column per network: its theory curve above its GP limit.
    height = max(len(g) for g in legend_groups)
    handles, labels = [], []
    for g in legend_groups:
        handles += g + [plt.Line2D([], [], alpha=0)] * (height - len(g))
        labels += [h.get_label() for h in g] + [""] * (height - len(g))
    fig.legend(handles, labels, loc="upper center", ncol=len(legend_groups), frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout()
    save(fig, args.output, "accuracy_vs_N.png")


def path_labels_from(path_hint, n):
    if path_hint and len(path_hint) == n:
        return path_hint
    return [f"path {i + 1}" for i in range(n)]


def plot_u(args):
    rows = sweep_rows(args.sweep, "--sweep")
    mats = [np.array(r["U"][0]) for r in rows]
    n = mats[0].shape[0]
    labels = path_labels_from(args.path_labels, n)
    k = len(mats)
    cols = min(k, 4)
    nrows = math.ceil(k / cols)
    size = 1.6 + 0.45 * n
    fig, axes = plt.subplots(nrows, cols, figsize=(size * cols + 2.2, size * nrows + 1.4), squeeze=False)
    fig.subplots_adjust(left=0.14, right=0.88, top=0.9, bottom=0.14, wspace=0.06, hspace=0.22)
    vmax = max(np.abs(m).max() for m in mats)
    gp_note = ""
    if args.gp:
        u_gp = np.array(load_json(args.gp, "--gp")["U"][0])
        gp_note = f"; GP limit: U_1 = {u_gp[0, 0]:g}·I"
    for i, ax in enumerate(axes.flat):
        if i >= k:
            ax.axis("off")
            continue
        m = mats[i]
        im = ax.imshow(m, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(f"N = {rows[i]['N']:g}")
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        show_x = i >= (nrows - 1) * cols  # bottom row (every panel has the same paths)
        ax.set_xticklabels(labels if show_x else [""] * n, rotation=50, ha="right", fontsize=8)
        ax.set_yticklabels(labels if i % cols == 0 else [""] * n, fontsize=8)
        if n <= 8:
            for a in range(n):
                for b in range(n):
                    v = m[a, b]
                    text = f"{v:.2f}"
                    if text in ("-0.00", "0.00"):
                        text = "0"
                    ax.text(b, a, text, ha="center", va="center", fontsize=7,
                            color="white" if abs(v) > 0.55 * vmax else "black")
    fig.suptitle("Order parameter U_1 vs width N (rows and columns: attention paths, "
                 f"head of layer 1 > head of layer 2{gp_note})", y=0.98)
    cax = fig.add_axes([0.9, 0.2, 0.015, 0.6])
    fig.colorbar(im, cax=cax, label="U_1 entry (weight of the path pair in K_U)")
    save(fig, args.output, "U_vs_N.png")


def plot_heads(args):
    files = [load_json(p, "--heads") for p in args.heads]
    files.sort(key=lambda f: f.get("N") if f.get("N") is not None else math.inf)
    names = []
    for layer_idx, layer in enumerate(files[0]["head_names"]):
        for h, name in enumerate(layer):
            names.append((layer_idx, h, f"layer {layer_idx + 1}\n{name}"))
    x = np.arange(len(names))
    width = 0.8 / len(files)
    fig, ax = plt.subplots(figsize=(2.6 + 1.3 * len(names) + 0.3 * len(files), 4.4))
    cmap = plt.cm.viridis
    for i, f in enumerate(files):
        vals = [f["scores"][l][h] for l, h, _ in names]
        lab = f"N = {f['N']:g}" if f.get("N") is not None else "GP limit"
        color = cmap(0.15 + 0.7 * i / max(1, len(files) - 1)) if len(files) > 1 else THEORY_COLOR
        bars = ax.bar(x + (i - (len(files) - 1) / 2) * width, vals, width * 0.95, label=lab, color=color)
        if len(files) <= 3:
            for b, v in zip(bars, vals):
                ax.text(b.get_x() + b.get_width() / 2, v + 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels([n for _, _, n in names])
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("head relevance score (1 = most relevant)")
    ax.set_title("Head relevance: Σ|U_1| over path pairs through the head, normalised by the largest")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(title="width", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    save(fig, args.output, "head_scores.png")


def plot_pruning(args):
    data = load_json(args.prune, "--prune")
    modes = [m for m in ("silence", "resolve") if m in data.get("modes", {})]
    if not modes:
        fail(f"--prune: {args.prune} has no pruning modes (expected pruning.json written by attnpaths prune)")
    titles = {"silence": "Silencing (paper): pruned paths zeroed in U_1, no re-solve",
              "resolve": "Re-solve (different quantity): theory of the reduced network"}
    fig, axes = plt.subplots(2, len(modes), figsize=(6.4 * len(modes), 7.4), squeeze=False)
    for j, mode in enumerate(modes):
        curves = data["modes"][mode]["curves"]
        for row, key, ylabel in ((0, "test_accuracy", "test accuracy"),
                                 (1, "generalization_error", "generalisation error ε")):
            ax = axes[row][j]
            all_vals = []
            for order in ("increasing", "random", "decreasing"):
                cs = [c for c in curves if c["order"] == order]
                if not cs:
                    continue
                st = ORDER_STYLE[order]
                steps = np.arange(len(cs[0]["steps"]))
                vals = np.array([[s[key] if s[key] is not None else np.nan for s in c["steps"]] for c in cs])
                if order == "random" and len(cs) > 1:
                    for v in vals:  # every random order, faint; their mean on top
                        ax.plot(steps, v, "-", color=st["color"], alpha=0.25, lw=0.8)
                    ax.plot(steps, np.nanmean(vals, axis=0), "-", marker=st["marker"], color=st["color"],
                            label=st["label"].replace("mean ± std", f"mean of {len(cs)}; faint: each"))
                else:
                    ax.plot(steps, vals[0], "-", marker=st["marker"], color=st["color"], label=st["label"])
                    if row == 0:
                        for s in cs[0]["steps"][1:]:
                            if s[key] is not None:
                                ax.annotate(f"−{s['name']}", (s["removed"], s[key]), textcoords="offset points",
                                            xytext=(4, 5 if order == "increasing" else -11), fontsize=7,
                                            color=st["color"])
                all_vals.extend(v for v in vals.ravel() if np.isfinite(v))
            if row == 1 and all_vals and min(all_vals) > 0 and max(all_vals) / min(all_vals) > 20:
                ax.set_yscale("log")
                ax.set_ylabel(ylabel + " (log scale)")
            else:
                ax.set_ylabel(ylabel)
            if row == 0:
                ax.margins(y=0.1)  # room for the head-name labels
            ax.set_xticks(steps)
            ax.set_xlabel("heads removed")
            ax.grid(True, alpha=0.3)
            if row == 0:
                ax.set_title(titles[mode], fontsize=10)
    n = data.get("N")
    fig.suptitle("Head pruning" + (f" at N = {n:g}" if n is not None else "") + f", T = {data.get('temperature'):g}"
                 " (the last head of a layer is never removed)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False, bbox_to_anchor=(0.5, -0.04))
    fig.tight_layout()
    save(fig, args.output, "pruning.png")


def plot_alignment(args):
    files = [load_json(p, "--align") for p in args.align]
    files.sort(key=lambda f: f.get("N") if f.get("N") is not None else math.inf)

    def label(f):
        return f"theory K_U, N = {f['N']:g}" if f.get("N") is not None else "theory K_U"

    first = files[0]
    gp = first["gp"]
    k = np.arange(1, len(first["theory"]["overlap"]) + 1)
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.6))
    w = 0.4
    axes[0].bar(k - w / 2, first["theory"]["overlap"], w, color=THEORY_COLOR, label=label(first))
    axes[0].bar(k + w / 2, gp["overlap"], w, color="#b0b0b0", label="GP kernel (N → ∞)")
    axes[0].set_xlabel("principal component k of the training kernel (eigenvalues descending)")
    axes[0].set_ylabel(r"overlap $|v_k \cdot y|\,/\sqrt{P}$")
    axes[0].set_title("Overlap of each kernel eigenvector with the training labels")
    axes[0].set_xlim(0.3, len(k) + 0.7)
    axes[0].legend()
    axes[0].grid(True, axis="y", alpha=0.3)
    cmap = plt.cm.Blues
    for i, f in enumerate(files):
        shade = cmap(0.9 - 0.45 * i / max(1, len(files) - 1)) if len(files) > 1 else THEORY_COLOR
        kk = np.arange(1, len(f["theory"]["cumulative"]) + 1)
        axes[1].plot(kk, f["theory"]["cumulative"], "-o", ms=3, color=shade, label=label(f))
    axes[1].plot(k, gp["cumulative"], "--s", ms=3, color=GP_COLOR, label="GP kernel (N → ∞)")
    axes[1].set_ylim(0, 1.02)
    axes[1].set_xlim(0.5, len(k) + 0.5)
    axes[1].set_xlabel("number of leading components k")
    axes[1].set_ylabel(r"cumulative alignment $\sum_{j \leq k} (v_j \cdot y)^2 / |y|^2$")
    axes[1].set_title(r"Share of $|y|^2$ captured by the k leading components")
    axes[1].legend(loc="lower right")
    axes[1].grid(True, alpha=0.3)
    T = first.get("temperature")
    fig.suptitle("Kernel–task alignment on the training set (kernels without T)"
                 + (f", T = {T:g}" if T is not None else ""))
    fig.tight_layout()
    save(fig, args.output, "alignment.png")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--output", "-o", default="figures", help="directory for the figures (created)")
    p.add_argument("--formats", nargs="+", default=["png", "pdf"], choices=["png", "pdf", "svg"],
                   help="file formats of every figure (default: png pdf)")
    p.add_argument("--name", default="4 paths", help="label of the --sweep network in legends")
    p.add_argument("--sweep", help="sweep.json of the main network (theory vs N, U vs N)")
    p.add_argument("--gp", help="summary.json of `attnpaths gp` for the main network")
    p.add_argument("--baseline", action="append", type=lambda s: labelled(s, "--baseline"),
                   help="LABEL=summary.json of another GP baseline (repeatable; the k-th shares the "
                        "colour of the k-th --variant)")
    p.add_argument("--variant", action="append", type=lambda s: labelled(s, "--variant"),
                   help="LABEL=sweep.json of a variant network (repeatable)")
    p.add_argument("--sampled", nargs="+",
                   help="sampled results: summary.json files of `attnpaths sample`, or JSON/CSV tables "
                        "(N, test_accuracy, test_accuracy_stderr)")
    p.add_argument("--path-labels", nargs="+", help="path labels for U heat maps (default: from --heads)")
    p.add_argument("--heads", nargs="+", help="heads.json files of `attnpaths heads` (one per width)")
    p.add_argument("--prune", help="pruning.json of `attnpaths prune`")
    p.add_argument("--align", nargs="+", help="alignment.json files of `attnpaths align` (one per width)")
    args = p.parse_args()
    FORMATS[:] = args.formats
    if not any([args.sweep, args.heads, args.prune, args.align]):
        fail("nothing to plot: give at least one of --sweep, --heads, --prune, --align")
    if (args.gp or args.baseline or args.variant or args.sampled) and not args.sweep:
        fail("--gp, --baseline, --variant and --sampled need --sweep")
    try:
        os.makedirs(args.output, exist_ok=True)
    except OSError as e:
        fail(f"--output: cannot create {args.output} ({e.strerror})")
    if args.path_labels is None and args.heads:
        args.path_labels = load_json(args.heads[0], "--heads").get("path_labels")
    if args.sweep:
        plot_accuracy(args)
        plot_u(args)
    if args.heads:
        plot_heads(args)
    if args.prune:
        plot_pruning(args)
    if args.align:
        plot_alignment(args)


if __name__ == "__main__":
    main()

"""The data-size figure of examples/hmm/p_sweep.sh: test accuracy and
generalisation error of the Bayesian 4-path network against P, at fixed
ratios N/P and in the GP limit (theory.md §4, §8).

usage: /usr/bin/python3 examples/hmm/p_sweep_plot.py OUTPUT_DIR P1 P2 ...
Reads OUTPUT_DIR/P<P>/sweep.csv; writes OUTPUT_DIR/p_sweep.csv, p_sweep.png, p_sweep.pdf.
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out, Ps = sys.argv[1], [int(p) for p in sys.argv[2:]]
GP_WIDTH = 1e12
rows = []
for P in Ps:
    path = os.path.join(out, f"P{P}", "sweep.csv")
    with open(path) as f:
        lines = [line for line in f if not line.startswith("#")]
    for r in csv.DictReader(lines):
        N = float(r["N"])
        rows.append({"P": P, "N": N, "ratio": "GP" if N >= GP_WIDTH else f"{N / P:.2g}",
                     "accuracy": float(r["test_accuracy"]),
                     "gen_error": float(r["generalization_error"]),
                     "converged": r["converged"]})
with open(os.path.join(out, "p_sweep.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["P", "N", "ratio", "accuracy", "gen_error", "converged"])
    w.writeheader()
    w.writerows(rows)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
ratios = sorted({r["ratio"] for r in rows if r["ratio"] != "GP"}, key=float) + ["GP"]
for ratio in ratios:
    pts = sorted((r for r in rows if r["ratio"] == ratio), key=lambda r: r["P"])
    style = dict(color="black", ls="--", marker="s") if ratio == "GP" else dict(marker="o")
    label = "GP limit (N → ∞)" if ratio == "GP" else f"N/P = {ratio}"
    axes[0].plot([r["P"] for r in pts], [r["accuracy"] for r in pts], label=label, **style)
    axes[1].plot([r["P"] for r in pts], [r["gen_error"] for r in pts], label=label, **style)
for ax, name in zip(axes, ["test accuracy", "generalisation error ε"]):
    ax.set_xscale("log")
    ax.set_xlabel("training sequences P")
    ax.set_ylabel(name)
    ax.grid(alpha=0.3)
axes[1].set_yscale("log")
axes[0].legend(fontsize=8)
fig.suptitle("Markov task, 4 attention paths, T = 0.01: theory at fixed N/P vs the GP limit",
             fontsize=10)
fig.tight_layout()
for ext in ("png", "pdf"):
    fig.savefig(os.path.join(out, f"p_sweep.{ext}"), dpi=130, bbox_inches="tight")
print(f"wrote {out}/p_sweep.csv, p_sweep.png, p_sweep.pdf")

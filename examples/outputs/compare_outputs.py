#!/usr/bin/env python3
"""Several outputs (theory.md §9): the saddle-point theory against NUTS samples
of the finite network, D = 3, on the one-path Markov task (theory.md §8).

Network: layer 1 'same token' (the good head), layer 2 uniform, last-token
readout, every width N, σ² = 1, T = 0.1; P = 16 training, 40 test sequences
(10 chain tokens, N_f = 20, N0 = 31). Outputs: the class, the class again and
a ±1 pattern unrelated to it (every third sequence), so U_1 (3 × 3, rows the
output d of the one path) has large off-diagonal entries the theory must
predict. The sampler is the default reduced one (sampler/reduced_potential.h):
for N >= N0 = 31 every layer reduces and NUTS moves 3 × 31·32/2 = 1488
coordinates at every width, so N = 1000 costs what N = 31 does.

    /usr/bin/python3 examples/outputs/compare_outputs.py [OUTPUT_DIR]
        (default examples/outputs/results; needs the Python module in build/python)

Writes OUTPUT_DIR/compare.json (every number), table.md, and the figures
u_vs_N.png/.pdf (the six entries of U_1: theory curves, sampled points with
2 s.e. error bars) — and prints the table.
"""
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "build", "python"))
import attnpaths as ap  # noqa: E402

T = 0.1
WIDTHS = [int(w) for w in os.environ.get("OUTPUT_WIDTHS", "10 30 100 300 1000").split()]
THEORY_WIDTHS = np.unique(np.round(np.geomspace(3, 3000, 40)).astype(int))
CHAINS, WARMUP, SAMPLES = 4, 400, 400


def outputs(y):
    """The class, the class again, and a ±1 pattern unrelated to it."""
    y = np.asarray(y)[:, 0]
    pattern = np.where(np.arange(len(y)) % 3 == 0, 1.0, -1.0)
    return np.stack([y, y, pattern], axis=1)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    task = ap.HmmTaskOptions(P=16, N_f=20, chain_tokens=10, seed=27)
    train = ap.generate_hmm_task(task)
    test = ap.generate_hmm_task(task, P=40, seed=59)
    Y, Yt = outputs(train.y), outputs(test.y)
    arch = ap.hmm_architecture("good_path", task)

    def theory(N):
        arch.set_uniform(float(N))
        xs = ap.compute_path_inputs(arch, train.x)
        xt = ap.compute_path_inputs(arch, test.x, "test")
        kernel = ap.PathKernel(xs)
        solution, summary = ap.solve(ap.Action(arch, kernel, Y, T))
        assert summary.converged, summary.brief_report()
        stats = ap.predict(kernel, Y, T, solution.U[0], xt, Yt, task="regression")
        return solution.U[0], stats, xs, xt

    curve = []
    for N in THEORY_WIDTHS:
        U, _, _, _ = theory(N)
        curve.append(U)
    curve = np.array(curve)

    rows = []
    for N in WIDTHS:
        U, stats, xs, xt = theory(N)
        options = ap.SampleOptions(num_chains=CHAINS, num_warmup=WARMUP, num_samples=SAMPLES,
                                   seed=17, threads=0)
        start = time.time()
        r, s = ap.sample(arch, xs, Y, T, xt, options, Yt, task="regression")
        wall = time.time() - start
        assert s.completed, s.brief_report()
        Us, se = r.order_parameter.U, r.order_parameter.U_se
        z_f = np.abs(r.predictor.mean - stats.mean) / r.predictor.mean_se
        iu = np.triu_indices(3)
        rows.append({
            "N": N, "sampled_weights": s.sampled_weights, "dimension": int(s.dimension),
            "U_theory": U.tolist(), "U_sampled": Us.tolist(), "U_se": se.tolist(),
            "U_mean_abs_z": float(np.mean(np.abs(Us - U)[iu] / se[iu])),
            "U_max_abs_z": float(np.max(np.abs(Us - U)[iu] / se[iu])),
            "f_mean_abs_z": float(np.mean(z_f)), "f_within_3se": float(np.mean(z_f <= 3)),
            "max_rhat": s.max_rhat, "min_ess_bulk": s.min_ess_bulk,
            "cpu_seconds": float(sum(s.warmup_cpu_seconds) + sum(s.sampling_cpu_seconds)),
            "wall_seconds": wall, "report": s.brief_report(),
        })
        print(s.brief_report(), flush=True)

    with open(os.path.join(out, "compare.json"), "w") as f:
        json.dump({"temperature": T, "P": 16, "P_test": 40, "N0": int(train.x.N0),
                   "outputs": 3, "chains": CHAINS, "warmup": WARMUP, "samples": SAMPLES,
                   "theory_widths": THEORY_WIDTHS.tolist(), "theory_U": curve.tolist(),
                   "widths": rows}, f, indent=1)

    names = {(0, 0): "U[0,0]", (0, 1): "U[0,1]", (0, 2): "U[0,2]", (1, 1): "U[1,1]",
             (1, 2): "U[1,2]", (2, 2): "U[2,2]"}
    lines = ["| N | sampler (dim) | " + " | ".join(
        f"{n} theory / sampled ± s.e." for n in names.values()) +
        " | mean \\|z\\| U | mean \\|z\\| f̄ | f̄ within 3 s.e. | max R-hat | min ESS | CPU s |",
        "|---:|:---|" + "---:|" * (len(names) + 6)]
    for row in rows:
        U, Us, se = (np.array(row[k]) for k in ("U_theory", "U_sampled", "U_se"))
        cells = [f"{U[i, j]:.3f} / {Us[i, j]:.3f} ± {se[i, j]:.3f}" for (i, j) in names]
        lines.append(f"| {row['N']} | {row['sampled_weights']} ({row['dimension']}) | " +
                     " | ".join(cells) +
                     f" | {row['U_mean_abs_z']:.2f} | {row['f_mean_abs_z']:.2f} | "
                     f"{100 * row['f_within_3se']:.0f}% | {row['max_rhat']:.3f} | "
                     f"{row['min_ess_bulk']:.0f} | {row['cpu_seconds']:.0f} |")
    table = "\n".join(lines) + "\n"
    open(os.path.join(out, "table.md"), "w").write(table)
    print(table)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, ((i, j), name) in enumerate(names.items()):
        ax = axes[0] if i == j else axes[1]
        ax.plot(THEORY_WIDTHS, curve[:, i, j], color=colors[k], label=f"{name} theory")
        Ns = [row["N"] for row in rows]
        ax.errorbar(Ns, [row["U_sampled"][i][j] for row in rows],
                    yerr=[2 * row["U_se"][i][j] for row in rows], fmt="o", color=colors[k],
                    capsize=3, label=f"{name} sampled (±2 s.e.)")
    for ax, title in zip(axes, ["diagonal entries", "output–output entries"]):
        ax.set_xscale("log")
        ax.set_xlabel("width N")
        ax.set_title(f"U_1, D = 3: {title}")
        ax.legend(fontsize=7)
    axes[0].axhline(1.0, color="gray", lw=0.8, ls=":")
    axes[1].axhline(0.0, color="gray", lw=0.8, ls=":")
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(os.path.join(out, f"u_vs_N.{ext}"), dpi=150)
    print(f"wrote {out}/compare.json, table.md, u_vs_N.png/.pdf", file=sys.stderr)


if __name__ == "__main__":
    main()

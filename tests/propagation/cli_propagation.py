#!/usr/bin/env python3
"""attnpaths kernel-prop and shaped-sde end to end (docs/cli.md), against
computations made here with NumPy from the formulas of
docs/signal-propagation.md — not from the program's own output:

* uniform causal attention: Sigma_l = U^l (U^l)^T with U_ij = 1/i (j <= i),
  so Sigma_1[i, j] = 1/max(i, j) (1-based);
* E-SPA without MLP: Sigma_L[i, j] = exp(-gamma_L |i - j|) and the schedule
  1 - exp(-2 gamma_l) = (1 - exp(-2 gamma_L))^(l/L); orthogonal-value
  networks reproduce the recursion exactly at any width;
* TAT: the reported alpha maps correlation 0 to eta through the C-map
  applied activations_per_block * depth times;
* shaped-sde with one token and no attention: V_t is geometric Brownian
  motion, log(V_t/V_0) ~ N(-c t, 2 c t) with c = gamma^2 (2 - gamma^2); the
  sample mean of log V_T must be within 3 standard errors of -c t_f;
* every output carries its provenance; a second run with the same seed gives
  the same arrays.

usage: cli_propagation.py ATTNPATHS_BINARY
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np


def run(binary, args, cwd):
    r = subprocess.run([binary] + args, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)
    print("ok:", what)


def read_csv(path):
    with open(path) as f:
        lines = f.read().splitlines()
    check(lines[0].startswith("# provenance: {"), os.path.basename(path) + " starts with provenance")
    json.loads(lines[0][len("# provenance: "):])
    header = lines[1].split(",")
    return header, [l.split(",") for l in lines[2:]]


def c_map(c, alpha):
    c = min(max(c, -1.0), 1.0)
    return c + (1 - alpha) ** 2 / (math.pi * (1 + alpha ** 2)) * (
        math.sqrt(1 - c * c) - c * math.acos(c))


def main():
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="propagation_cli_")

    # --- kernel-prop: uniform causal attention -------------------------------
    m, L = 6, 3
    with open(os.path.join(tmp, "uniform.toml"), "w") as f:
        f.write(f"""[kernel_prop]
tokens = {m}
depth = {L}
causal = true
method = "uniform"
mlp = "none"
[output]
directory = "uniform"
""")
    out = json.loads(run(binary, ["kernel-prop", "--config", "uniform.toml", "--json", "--quiet"], tmp))
    check("provenance" in out and out["provenance"]["settings"]["kernel_prop"]["method"] == "uniform",
          "kernel-prop --json prints summary.json with its provenance")
    K = np.load(os.path.join(tmp, "uniform", "kernels.npy"))
    A = np.load(os.path.join(tmp, "uniform", "attention.npy"))
    check(K.shape == (L + 1, m, m) and A.shape == (L, m, m), "kernels.npy (L+1, m, m), attention.npy (L, m, m)")
    i = np.arange(1, m + 1)
    U = np.tril(np.ones((m, m))) / i[:, None]
    check(np.abs(A[0] - U).max() < 1e-15, "uniform causal A_ij = 1/i on j <= i")
    check(np.abs(K[1] - 1.0 / np.maximum.outer(i, i)).max() < 1e-14, "Sigma_1[i, j] = 1/max(i, j)")
    P = np.eye(m)
    for l in range(1, L + 1):
        P = U @ P
        check(np.abs(K[l] - P @ P.T).max() < 1e-14, f"Sigma_{l} = U^{l} (U^{l})^T")
    header, rows = read_csv(os.path.join(tmp, "uniform", "metrics.csv"))
    mc = [float(r[header.index("mean_correlation")]) for r in rows]
    corr = lambda S: S / np.sqrt(np.outer(np.diag(S), np.diag(S)))
    want = [corr(K[l])[np.triu_indices(m, 1)].mean() for l in range(1, L + 1)]
    check(np.allclose(mc[1:], want, atol=1e-13, rtol=0) and all(np.diff(mc[1:]) > 0),
          "metrics.csv mean correlation = NumPy's, rising with depth (collapse)")

    # --- kernel-prop: E-SPA, finite width with orthogonal values --------------
    m, L, gL = 8, 4, 0.05
    with open(os.path.join(tmp, "espa.toml"), "w") as f:
        f.write(f"""[kernel_prop]
tokens = {m}
depth = {L}
method = "espa"
gamma_final = {gL}
[kernel_prop.finite_width]
widths = [8, 24]
values = "orthogonal"
draws = 3
seed = 4
[output]
directory = "espa"
""")
    run(binary, ["kernel-prop", "--config", "espa.toml", "--quiet"], tmp)
    K = np.load(os.path.join(tmp, "espa", "kernels.npy"))
    s = json.load(open(os.path.join(tmp, "espa", "summary.json")))
    idx = np.arange(m)
    check(np.abs(K[L] - np.exp(-gL * np.abs(np.subtract.outer(idx, idx)))).max() < 1e-12,
          "E-SPA Sigma_L = exp(-gamma_L |i - j|)")
    aL = math.sqrt(1 - math.exp(-2 * gL))
    for l in range(1, L + 1):
        g = -0.5 * math.log(1 - aL ** (2 * l / L))
        check(abs(s["gamma_schedule"][l] - g) < 1e-12 * g, f"gamma_{l} of the log-det-linear schedule")
    fw = np.load(os.path.join(tmp, "espa", "finite_width_kernels.npy"))
    check(fw.shape == (2, L + 1, m, m), "finite_width_kernels.npy (widths, L+1, m, m)")
    check(np.abs(fw - K[None]).max() < 1e-11, "orthogonal-value networks equal the recursion at d = 8, 24")
    header, rows = read_csv(os.path.join(tmp, "espa", "finite_width.csv"))
    check(len(rows) == 2 * (L + 1), "finite_width.csv: one row per width and layer")

    # --- kernel-prop: TAT alpha ------------------------------------------------
    with open(os.path.join(tmp, "tat.toml"), "w") as f:
        f.write("""[kernel_prop]
tokens = 5
depth = 3
method = "value_skipinit"
mlp = "tat"
tat_eta = 0.7
activations_per_block = 2
[output]
directory = "tat"
""")
    run(binary, ["kernel-prop", "--config", "tat.toml", "--quiet"], tmp)
    s = json.load(open(os.path.join(tmp, "tat", "summary.json")))
    c = 0.0
    for _ in range(6):
        c = c_map(c, s["tat_alpha"])
    check(abs(c - 0.7) < 1e-10, f"TAT alpha {s['tat_alpha']:.6f}: C^6(0) = eta (NumPy C-map)")
    K = np.load(os.path.join(tmp, "tat", "kernels.npy"))
    check(np.abs(corr(K[3])[np.triu_indices(5, 1)] - 0.7).max() < 1e-10,
          "Value-SkipInit + TAT: every correlation of Sigma_L is eta")

    # --- shaped-sde: m = 1 without attention, geometric Brownian motion --------
    gamma, tf, paths = 0.5, 0.5, 4000
    cfg = f"""[shaped_sde]
V0 = [[1.3]]
gamma = {gamma}
tau0 = "inf"
depth_to_width = {tf}
dt = 0.0078125
paths = {paths}
seed = 3
sde_no_attention = false
[shaped_sde.networks]
widths = [16]
samples = [200]
sampler = "chain"
"""
    for d in ("gbm_a", "gbm_b"):
        with open(os.path.join(tmp, d + ".toml"), "w") as f:
            f.write(cfg + f'[output]\ndirectory = "{d}"\n')
        run(binary, ["shaped-sde", "--config", d + ".toml", "--quiet"], tmp)
    V = np.load(os.path.join(tmp, "gbm_a", "V_T_sde.npy"))
    check(V.shape == (paths, 1, 1), "V_T_sde.npy (paths, m, m)")
    x = np.log(V[:, 0, 0] / 1.3)
    cc = gamma ** 2 * (2 - gamma ** 2)
    se = x.std(ddof=1) / math.sqrt(paths)
    check(abs(x.mean() + cc * tf) < 3 * se,
          f"m = 1: E log(V_T/V_0) = {x.mean():.4f} +- {se:.4f} vs -c t_f = {-cc * tf:.4f}")
    check(abs(x.var(ddof=1) / (2 * cc * tf) - 1) < 3 * math.sqrt(2 / (paths - 1)),
          f"m = 1: Var log(V_T/V_0) = {x.var(ddof=1):.4f} vs 2 c t_f = {2 * cc * tf:.4f}")
    check(np.array_equal(V, np.load(os.path.join(tmp, "gbm_b", "V_T_sde.npy"))) and
          np.array_equal(np.load(os.path.join(tmp, "gbm_a", "V_T_net_16.npy")),
                         np.load(os.path.join(tmp, "gbm_b", "V_T_net_16.npy"))),
          "the same seed gives the same paths and networks")
    s = json.load(open(os.path.join(tmp, "gbm_a", "summary.json")))
    check(s["provenance"]["settings"]["seed"] == 3 and "net_16" in s["sources"],
          "summary.json: sources and provenance (seed)")
    header, rows = read_csv(os.path.join(tmp, "gbm_a", "quantiles.csv"))
    check(header[:3] == ["source", "t", "quantity"] and len(rows) == 2 * 64,
          "quantiles.csv: 64 grid times per source")

    # --- shaped-sde --one-layer and --stability-map --------------------------
    V0 = [[1.0, 0.2, -0.1], [0.2, 0.9, 0.3], [-0.1, 0.3, 1.1]]
    with open(os.path.join(tmp, "extras.toml"), "w") as f:
        f.write(f"""[shaped_sde]
V0 = {V0}
gamma = 0.5
tau0 = 0.7
depth_to_width = 0.1
dt = 0.015625
paths = 50
[shaped_sde.networks]
widths = [8]
samples = [20]
[output]
directory = "extras"
""")
    run(binary, ["shaped-sde", "--config", "extras.toml", "--quiet", "--one-layer", "64",
                 "--one-layer-samples", "200", "--stability-map", "0.3", "0.5",
                 "--stability-tau0", "0.7", "inf"], tmp)
    mo = json.load(open(os.path.join(tmp, "extras", "moments.json")))
    V = np.array(V0)
    m = 3
    P = np.eye(m) - np.ones((m, m)) / m
    Vc = P @ V @ P
    u = np.diag(Vc) - np.trace(Vc) / m
    w = V @ u
    v = np.diag(V)
    b = 0.25 / 0.49 * (np.sum(Vc * V) / m ** 2 * V + (np.outer(v, w) + np.outer(w, v)) / (2 * m))
    check(np.abs(np.array(mo["drift_sde"]) - b).max() < 1e-13 and "provenance" in mo,
          "moments.json: drift_sde = b(V0) of (I.6) computed here; provenance")
    check(np.array(mo["diffusion_network"]).shape == (9, 9), "moments.json: n Cov(dV) is m^2 x m^2")
    header, rows = read_csv(os.path.join(tmp, "extras", "stability.csv"))
    check(len(rows) == 2 * 2 * 2, "stability.csv: gamma x tau0 x (dt, 2 dt) rows")
    no_att = [r for r in rows if r[header.index("tau0")] == "inf"]
    check(len(no_att) == 4 and all(float(r[header.index("exploded_fraction")]) == 0 for r in no_att),
          "stability map: tau0 = inf (written inf) never explodes")

    # --- kernel-prop --study ----------------------------------------------------
    study = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli", "configs",
                         "heads_small.toml")
    out = json.loads(run(binary, ["kernel-prop", "--study", study, "--examples", "3", "--output",
                                  os.path.join(tmp, "study"), "--json", "--quiet"], tmp))
    header, rows = read_csv(os.path.join(tmp, "study", "study_diagnostics.csv"))
    check(len(rows) == 3 * 4 * 2 and len(out["paths"]) == 4 * 2,
          "kernel-prop --study: 3 examples x 4 paths x 2 layers, means per path and layer")
    first = [r for r in out["paths"] if r["layer"] == 0]
    check(len({round(r["effective_rank"], 12) for r in first}) == 1,
          "layer 0 (before any head) is the same kernel for every path")
    print("all passed")


if __name__ == "__main__":
    main()

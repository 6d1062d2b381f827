#!/usr/bin/python3
"""The digits study: trained attention heads, the theory with them frozen,
and pruning of the trained network by the theory's head ranking.

    /usr/bin/python3 examples/digits/study.py --out OUT [--bin build/attnpaths]
        [--seeds 1 2 3 4 5] [--jobs 2]

examples/digits/run.sh runs this (and the figures) with timing; see
examples/digits/README.md for what is measured. Stages, each writing into OUT:

 1. data/      export_digits.py: 16 tokens of 2x2 pixels + one-hot position,
               digits 0-4 vs 5-9, P = 600 training and 1000 test images.
 2. train/     `attnpaths train` once per seed (train.toml; --jobs in parallel).
 3. theory/    per seed, the trained QK heads frozen (theory.md section 1,
               QK-form, beta = 1): path inputs once, then the saddle point at
               every (N, T) of a grid (warm-started from large to small N),
               the GP limit at every T, head scores (theory.md section 6) at
               every N. Uses the Python module (build/python).
 4. prune/     per seed, the TRAINED network's test accuracy after removing
               heads one at a time (`attnpaths train-eval`) in the theory's
               order (least relevant first), in the reverse order, and in
               random orders; the last head of a layer is never removed.
 5. results.json, results.md: everything aggregated over seeds (mean and
               standard error of the mean).
"""
import argparse
import concurrent.futures as cf
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

WIDTHS = [10, 30, 100, 300, 1000]          # N (every n_l), theory.md section 8
T_THEORY = [0.01, 0.05, 0.1, 0.5, 1.0]      # scanned per N; the best test accuracy is kept
T_GP = [0.025, 0.05, 0.075, 0.1, 0.25]      # the GP limit's grid (theory.md section 8)
HEAD_N = 10                                 # head scores that order the pruning
RANDOM_ORDERS = 10                          # random removal orders per seed
GRADIENT_TOLERANCE = 1e-7                   # max |d(S/n_max)/dU| (the reference used 1e-5)


def atomic_write(path, text):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode not in (0,):
        sys.stderr.write(r.stderr)
        raise SystemExit(f"error: {' '.join(cmd[:2])} … exited with {r.returncode}")
    return r.stdout


def mean_se(values):
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return float("nan"), float("nan")
    se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0
    return float(v.mean()), se


# --- stage 3: the theory with one seed's trained heads ---------------------------------------

def theory_for_seed(out, seed):
    """Runs in its own process (python3 study.py --theory-seed S)."""
    sys.path.insert(0, os.environ.get("ATTNPATHS_PYTHONPATH", os.path.join(ROOT, "build", "python")))
    import attnpaths as ap

    net_dir = os.path.join(out, "train", f"seed{seed}")
    shape = json.load(open(os.path.join(net_dir, "network.json")))
    layers = []
    for l, H in enumerate(shape["heads"], start=1):
        layers.append([ap.qk_head(np.load(os.path.join(net_dir, f"Q_{l}_{h}.npy")),
                                  np.load(os.path.join(net_dir, f"K_{l}_{h}.npy")),
                                  name=f"L{l}H{h}") for h in range(1, H + 1)])
    arch = ap.Architecture(layers, readout=shape["readout"], N=max(WIDTHS))
    data = os.path.join(out, "data")
    X, y = np.load(f"{data}/X_train.npy"), np.load(f"{data}/y_train.npy")
    Xt, yt = np.load(f"{data}/X_test.npy"), np.load(f"{data}/y_test.npy")
    t0 = time.time()
    train = ap.compute_path_inputs(arch, X, threads=1)
    test = ap.compute_path_inputs(arch, Xt, "test", threads=1)
    kernel = ap.PathKernel(train, ap.KernelOptions(strategy="factored"))

    points = []
    solutions = {}
    for T in T_THEORY:
        start = None
        for N in sorted(WIDTHS, reverse=True):  # warm start from the next larger width
            arch.set_uniform(N)
            options = ap.SolveOptions(gradient_tolerance=GRADIENT_TOLERANCE, max_newton_steps=0,
                                      compute_hessian=False)
            if start is not None:
                options.initial_U = start
            ts = time.time()
            action = ap.Action(arch, kernel, y, T)
            sol, summary = ap.solve(action, options)
            polished = False
            if not summary.converged:
                # L-BFGS stalled just above the tolerance: polish with Newton
                # steps on the finite-difference Hessian (slower, rarely needed).
                options = ap.SolveOptions(gradient_tolerance=GRADIENT_TOLERANCE,
                                          compute_hessian=False)
                options.initial_U = [np.array(u) for u in sol.U]
                sol, summary = ap.solve(action, options)
                polished = True
            stats = ap.predict(kernel, y, T, sol, test, yt)
            start = [np.array(u) for u in sol.U]
            solutions[(N, T)] = sol
            points.append({"N": N, "T": T, "test_accuracy": stats.accuracy,
                           "generalization_error": stats.generalization_error,
                           "converged": summary.converged, "iterations": summary.iterations,
                           "newton_polished": polished,
                           "gradient_norm": summary.gradient_norm, "action": sol.action,
                           "seconds": time.time() - ts,
                           "U1_diagonal": np.diag(sol.U[0]).tolist()})
    gp = []
    for T in sorted(set(T_GP) | set(T_THEORY)):
        stats = ap.predict(kernel, y, T, ap.gp_limit(arch), test, yt)
        gp.append({"T": T, "test_accuracy": stats.accuracy,
                   "generalization_error": stats.generalization_error, "in_gp_grid": T in T_GP})

    def best(rows):
        rows = [r for r in rows if r.get("converged", True)]
        return max(rows, key=lambda r: (r["test_accuracy"], -r["T"])) if rows else None

    best_theory = {N: best([p for p in points if p["N"] == N]) for N in WIDTHS}
    best_gp = best([g for g in gp if g["in_gp_grid"]])

    heads = {}
    for N in WIDTHS:
        b = best_theory[N]
        if b is None:
            continue
        arch.set_uniform(N)
        rel = ap.score_heads(arch, solutions[(N, b["T"])])
        heads[N] = {"T": b["T"], "names": [list(n) for n in rel.names],
                    "scores": [list(map(float, s)) for s in rel.score],
                    "ranking": [h.name for h in rel.ranking()]}
    # The theory's own prediction for pruning (theory.md section 6: silencing
    # U_1, no re-solve) at HEAD_N, least relevant first.
    silencing = None
    b = best_theory[HEAD_N]
    if b is not None:
        arch.set_uniform(HEAD_N)
        result, _ = ap.prune_by_silencing(arch, kernel, y, b["T"], solutions[(HEAD_N, b["T"])],
                                          test, yt, ap.PruningOptions(random_repeats=1, seed=seed))
        for c in result.curves:
            if c.order == "increasing":
                silencing = {"order": [s.name for s in c.steps[1:]],
                             "test_accuracy": [float(a) for a in c.accuracies]}
    res = {"seed": seed, "points": points, "gp": gp,
           "best": {str(N): best_theory[N] for N in WIDTHS}, "best_gp": best_gp,
           "heads": {str(N): h for N, h in heads.items()}, "silencing": silencing,
           "seconds": time.time() - t0}
    os.makedirs(os.path.join(out, "theory"), exist_ok=True)
    atomic_write(os.path.join(out, "theory", f"seed{seed}.json"), json.dumps(res, indent=1) + "\n")


# --- stage 4: removal orders ---------------------------------------------------------------------

def removal_sequence(order, heads_per_layer):
    """Heads in `order`, skipping any head that is the last one left in its layer."""
    left = list(heads_per_layer)
    seq = []
    for name in order:
        l = int(name[1:name.index("H")])
        if left[l - 1] > 1:
            left[l - 1] -= 1
            seq.append(name)
    return seq


def prune_for_seed(out, binary, seed, theory):
    net_dir = os.path.join(out, "train", f"seed{seed}")
    shape = json.load(open(os.path.join(net_dir, "network.json")))
    H = shape["heads"]
    all_heads = [n for layer in shape["head_names"] for n in layer]
    ranking = theory["heads"][str(HEAD_N)]["ranking"]  # most relevant first
    orders = {"theory": removal_sequence(list(reversed(ranking)), H),
              "reverse": removal_sequence(ranking, H)}
    rng = np.random.default_rng(10_000 + seed)
    randoms = [removal_sequence(list(rng.permutation(all_heads)), H) for _ in range(RANDOM_ORDERS)]
    singles = [[h] for h in all_heads]  # each head alone: the score-vs-drop view
    seqs = [orders["theory"], orders["reverse"]] + randoms + singles
    path = os.path.join(out, "prune", f"seed{seed}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = os.path.join(out, "data")
    run([binary, "train-eval", "--network", net_dir, "--test-x", f"{data}/X_test.npy",
         "--test-y", f"{data}/y_test.npy", "--threads", "1", "--quiet", "--output", path,
         "--orders"] + [",".join(s) for s in seqs])
    res = json.load(open(path))
    curves = [[st["test_accuracy"] for st in o["steps"]] for o in res["orders"]]
    full = res["full"]["test_accuracy"]
    scores = theory["heads"][str(HEAD_N)]["scores"]
    single = [{"head": h, "score": scores[int(h[1:h.index("H")]) - 1][int(h[h.index("H") + 1:]) - 1],
               "accuracy": c[1], "drop": full - c[1]}
              for h, c in zip(all_heads, curves[2 + len(randoms):])]
    return {"seed": seed, "full_accuracy": full,
            "theory_order": seqs[0], "reverse_order": seqs[1], "random_orders": randoms,
            "theory": curves[0], "reverse": curves[1], "random": curves[2:2 + len(randoms)],
            "random_mean": np.mean(curves[2:2 + len(randoms)], axis=0).tolist(),
            "single": single,
            "spearman": spearman([x["score"] for x in single], [x["drop"] for x in single])}


def spearman(a, b):
    """Spearman rank correlation (average ranks for ties)."""
    def ranks(v):
        v = np.asarray(v, dtype=float)
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=float)
        for x in np.unique(v):  # ties share their mean rank
            r[v == x] = r[v == x].mean()
        return r
    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


# --- aggregation ---------------------------------------------------------------------------------

def aggregate(out, seeds, trains, theories, prunes, timing):
    res = {"seeds": seeds, "widths": WIDTHS, "T_theory": T_THEORY, "T_gp": T_GP,
           "head_N": HEAD_N, "random_orders": RANDOM_ORDERS, "timing": timing}
    res["trained"] = {
        "per_seed": [{"seed": s, "test_accuracy": t["test_accuracy"], "test_loss": t["test_loss"],
                      "train_loss": t["train_loss"], "train_accuracy": t["train_accuracy"],
                      "initial_train_loss": t["initial_train_loss"],
                      "examples_per_second": t["examples_per_second"],
                      "training_seconds": t["training_seconds"], "total_seconds": t["total_seconds"],
                      "completed": t["completed"]} for s, t in zip(seeds, trains)]}
    for key in ("test_accuracy", "test_loss", "train_loss", "train_accuracy", "examples_per_second"):
        res["trained"][key] = mean_se([t[key] for t in trains])
    theory = {}
    for N in WIDTHS:
        b = [th["best"][str(N)] for th in theories]
        theory[str(N)] = {"test_accuracy": mean_se([x["test_accuracy"] if x else np.nan for x in b]),
                          "generalization_error": mean_se([x["generalization_error"] if x else np.nan
                                                           for x in b]),
                          "best_T": [x["T"] if x else None for x in b],
                          "per_seed": [x["test_accuracy"] if x else None for x in b],
                          "all_converged": all(p["converged"] for th in theories
                                               for p in th["points"] if p["N"] == N)}
        for T in T_THEORY:  # every T, for the record
            acc = [p["test_accuracy"] for th in theories for p in th["points"]
                   if p["N"] == N and p["T"] == T]
            theory[str(N)][f"T={T}"] = mean_se(acc)
    res["theory"] = theory
    res["gp"] = {"test_accuracy": mean_se([th["best_gp"]["test_accuracy"] for th in theories]),
                 "generalization_error": mean_se([th["best_gp"]["generalization_error"]
                                                  for th in theories]),
                 "best_T": [th["best_gp"]["T"] for th in theories],
                 "per_seed": [th["best_gp"]["test_accuracy"] for th in theories]}
    for N in WIDTHS:  # paired per seed: theory at N (best T) minus the GP limit (best T)
        d = [th["best"][str(N)]["test_accuracy"] - th["best_gp"]["test_accuracy"]
             for th in theories if th["best"][str(N)]]
        theory[str(N)]["minus_gp"] = mean_se(d)
    points = [p for th in theories for p in th["points"]]
    res["theory_points"] = {"total": len(points),
                            "converged": sum(p["converged"] for p in points),
                            "newton_polished": sum(p["newton_polished"] for p in points),
                            "max_gradient_norm": max(p["gradient_norm"] for p in points)}
    res["gp"]["per_T"] = {str(T): mean_se([g["test_accuracy"] for th in theories for g in th["gp"]
                                           if g["T"] == T])
                          for T in sorted(set(T_GP) | set(T_THEORY))}
    res["heads"] = {str(s): th["heads"] for s, th in zip(seeds, theories)}
    res["theory_solve_seconds"] = mean_se([th["seconds"] for th in theories])
    steps = len(prunes[0]["theory"])
    pr = {"removed": list(range(steps))}
    for key in ("theory", "reverse", "random_mean"):
        curves = np.array([p[key] for p in prunes])
        pr[key] = [mean_se(curves[:, k]) for k in range(steps)]
    diff = np.array([np.array(p["theory"]) - np.array(p["random_mean"]) for p in prunes])
    pr["theory_minus_random"] = [mean_se(diff[:, k]) for k in range(steps)]
    pr["area"] = {key: mean_se([np.mean(p[key][1:]) for p in prunes])
                  for key in ("theory", "reverse", "random_mean")}
    pr["silencing_theory_order"] = [th["silencing"] for th in theories]
    pr["spearman_score_drop"] = mean_se([p["spearman"] for p in prunes])
    pooled = [x for p in prunes for x in p["single"]]
    pr["spearman_score_drop_pooled"] = spearman([x["score"] for x in pooled],
                                                [x["drop"] for x in pooled])
    pr["per_seed"] = prunes
    res["pruning"] = pr
    atomic_write(os.path.join(out, "results.json"), json.dumps(res, indent=1) + "\n")
    atomic_write(os.path.join(out, "results.md"), markdown(res))
    return res


def fmt(ms, digits=3):
    m, s = ms
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def markdown(r):
    S = len(r["seeds"])
    lines = [f"Digits study: {S} seeds (mean ± standard error over seeds).", ""]
    t = r["trained"]
    lines += ["| trained network | value |", "|---|---|",
              f"| test accuracy | {fmt(t['test_accuracy'])} |",
              f"| test loss (MSE) | {fmt(t['test_loss'])} |",
              f"| train loss (MSE) | {fmt(t['train_loss'], 4)} |",
              f"| train accuracy | {fmt(t['train_accuracy'])} |",
              f"| throughput (examples/s, 1 thread) | {t['examples_per_second'][0]:.0f} |", ""]
    lines += ["| N | theory test accuracy (best T) | theory − GP (paired) | best T per seed | theory ε |",
              "|---|---|---|---|---|"]
    for N in r["widths"]:
        th = r["theory"][str(N)]
        lines.append(f"| {N} | {fmt(th['test_accuracy'])} | {fmt(th['minus_gp'])} | {th['best_T']} | "
                     f"{fmt(th['generalization_error'])} |")
    g = r["gp"]
    lines.append(f"| GP | {fmt(g['test_accuracy'])} | | {g['best_T']} | {fmt(g['generalization_error'])} |")
    lines += ["", "Test accuracy at every T (theory at each N; GP limit):", "",
              "| T | " + " | ".join(f"N = {N}" for N in r["widths"]) + " | GP |",
              "|---|" + "---|" * (len(r["widths"]) + 1)]
    for T in r["T_theory"]:
        lines.append(f"| {T} | " + " | ".join(fmt(r["theory"][str(N)][f"T={T}"])
                                                for N in r["widths"])
                     + f" | {fmt(g['per_T'][str(T)])} |")
    tp = r["theory_points"]
    lines += ["", f"Theory points: {tp['converged']} of {tp['total']} converged "
              f"(max |d(S/n_max)/dU| ≤ {GRADIENT_TOLERANCE:g}; {tp['newton_polished']} needed "
              f"Newton polish; largest final gradient {tp['max_gradient_norm']:.2g})."]
    lines += ["", "Pruning the trained network (test accuracy after k removals):", "",
              "| removed | theory order (least relevant first) | random orders | reverse order | theory − random |",
              "|---|---|---|---|---|"]
    p = r["pruning"]
    for k in p["removed"]:
        lines.append(f"| {k} | {fmt(p['theory'][k])} | {fmt(p['random_mean'][k])} | "
                     f"{fmt(p['reverse'][k])} | {fmt(p['theory_minus_random'][k])} |")
    a = p["area"]
    lines += ["", f"Mean accuracy over removals 1..{p['removed'][-1]}: theory order "
              f"{fmt(a['theory'])}, random {fmt(a['random_mean'])}, reverse {fmt(a['reverse'])}.",
              "", f"Spearman correlation of head score (N = {r['head_N']}) with the accuracy drop "
              f"when that head alone is removed: {fmt(p['spearman_score_drop'], 2)} per seed, "
              f"{p['spearman_score_drop_pooled']:.2f} pooled over seeds.", ""]
    tm = r["timing"]
    lines += ["| stage | seconds |", "|---|---|"] + [f"| {k} | {v:.1f} |" for k, v in tm.items()]
    return "\n".join(lines) + "\n"


def main():
    ap_ = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap_.add_argument("--out", default=os.path.join(HERE, "out"))
    ap_.add_argument("--bin", default=os.path.join(ROOT, "build", "attnpaths"))
    ap_.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap_.add_argument("--jobs", type=int, default=2, help="seeds processed in parallel")
    ap_.add_argument("--train-config", default=os.path.join(HERE, "train.toml"),
                     help="TOML of `attnpaths train` (network and training settings)")
    ap_.add_argument("--theory-seed", type=int, help=argparse.SUPPRESS)
    args = ap_.parse_args()
    out = os.path.abspath(args.out)
    if args.theory_seed is not None:
        theory_for_seed(out, args.theory_seed)
        return
    os.makedirs(out, exist_ok=True)
    timing = {}
    t = time.time()
    log("export: sklearn digits -> 16 tokens of 2x2 pixels + position, 0-4 vs 5-9")
    run([sys.executable, os.path.join(HERE, "export_digits.py"), "--output",
         os.path.join(out, "data"), "--patch", "2", "--seed", "0"])
    timing["export data"] = time.time() - t

    data = os.path.join(out, "data")

    def train(seed):
        d = os.path.join(out, "train", f"seed{seed}")
        os.makedirs(d, exist_ok=True)
        js = run([args.bin, "train", "--config", args.train_config,
                  "--train-x", f"{data}/X_train.npy", "--train-y", f"{data}/y_train.npy",
                  "--test-x", f"{data}/X_test.npy", "--test-y", f"{data}/y_test.npy",
                  "--seed", str(seed), "--output", d, "--threads", "1", "--quiet", "--json"])
        s = json.loads(js)
        log(f"train seed {seed}: test accuracy {s['test_accuracy']:.4f}, train loss "
            f"{s['train_loss']:.4g}, {s['examples_per_second']:.0f} examples/s")
        return s

    t = time.time()
    log(f"train: {len(args.seeds)} seeds, {args.jobs} at a time")
    with cf.ThreadPoolExecutor(args.jobs) as pool:
        trains = list(pool.map(train, args.seeds))
    timing["train networks"] = time.time() - t

    def theory(seed):
        run([sys.executable, os.path.abspath(__file__), "--out", out, "--theory-seed", str(seed)])
        th = json.load(open(os.path.join(out, "theory", f"seed{seed}.json")))
        accs = " ".join(f"N={N}:{th['best'][str(N)]['test_accuracy']:.3f}" for N in WIDTHS)
        log(f"theory seed {seed}: {accs} GP:{th['best_gp']['test_accuracy']:.3f} "
            f"({th['seconds']:.0f} s)")
        return th

    t = time.time()
    log(f"theory: {len(WIDTHS)} widths x {len(T_THEORY)} temperatures per seed, GP limit, head scores")
    with cf.ThreadPoolExecutor(args.jobs) as pool:
        theories = list(pool.map(theory, args.seeds))
    timing["theory (solve, GP, heads)"] = time.time() - t

    t = time.time()
    log("prune the trained networks: theory order, reverse, random orders")
    with cf.ThreadPoolExecutor(args.jobs) as pool:
        prunes = list(pool.map(lambda st: prune_for_seed(out, args.bin, *st),
                               zip(args.seeds, theories)))
    timing["prune trained networks"] = time.time() - t
    res = aggregate(out, args.seeds, trains, theories, prunes, timing)
    sys.stdout.write(markdown(res))


if __name__ == "__main__":
    main()

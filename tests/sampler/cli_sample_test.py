#!/usr/bin/env python3
"""attnpaths sample / compare on a small hidden-Markov study.

Checks: exit status 0; the files each command documents; shapes; U^sampled
symmetric; the run is reproducible from its seed whatever the thread count;
compare's table agrees with the arrays it wrote and with the theory's U;
bad sampler flags exit 2 with one "error:" line naming the flag.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

binary, config = sys.argv[1], sys.argv[2]
common = ["--chains", "2", "--warmup", "150", "--samples", "150", "--seed", "5", "--quiet"]


def run(args, expect=0):
    p = subprocess.run([binary] + args, capture_output=True, text=True)
    if p.returncode != expect:
        sys.exit(f"FAIL: {' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


with tempfile.TemporaryDirectory() as tmp:
    a, b, c = (os.path.join(tmp, d) for d in "abc")
    run(["sample", "--config", config, "--output", a, "--threads", "1"] + common)
    run(["sample", "--config", config, "--output", b, "--threads", "2"] + common)
    for f in ["draws.h5", "sample_summary.json", "sampled_test_mean.npy",
              "sampled_test_mean_se.npy", "sampled_test_variance.npy",
              "sampled_test_variance_se.npy", "sampled_test_covariance.npy", "U_sampled.npy",
              "U_sampled_se.npy"]:
        assert os.path.getsize(os.path.join(a, f)) > 0, f
    mean = np.load(os.path.join(a, "sampled_test_mean.npy"))
    U = np.load(os.path.join(a, "U_sampled.npy"))
    assert mean.shape == (30, 1), mean.shape
    assert U.shape == (4, 4) and np.allclose(U, U.T), U
    cov = np.load(os.path.join(a, "sampled_test_covariance.npy"))
    assert cov.shape == (30, 1, 1), cov.shape
    assert np.array_equal(cov[:, 0, 0], np.load(os.path.join(a, "sampled_test_variance.npy"))[:, 0])
    for f in ["sampled_test_mean.npy", "U_sampled.npy", "sampled_test_variance_se.npy"]:
        assert np.array_equal(np.load(os.path.join(a, f)), np.load(os.path.join(b, f))), f
    s = json.load(open(os.path.join(a, "sample_summary.json")))
    assert s["termination"] == "completed" and s["chains"] == 2 and s["samples"] == 150, s
    assert s["paths"] == ["good>uniform", "good>blank2", "blank1>uniform", "blank1>blank2"]
    assert s["U_labels"] == s["paths"] and s["outputs"] == 1, s["U_labels"]
    # lp, the conditional means f[μ] and variances f_var[μ] of the reduced
    # sampler (the default; at width 20 = P the top layer reduces to the span
    # of the 20 training examples), the 10 packed entries of U.
    assert s["sampled_weights"] == "reduced", s["sampled_weights"]
    assert len(s["quantities"]) == 1 + 30 + 30 + 10
    assert np.allclose(np.array(s["U_sampled"]), U)
    assert s["seed"] == 5 and s["metric"] == "diag" and s["integrator"] == "leapfrog", s["metric"]
    assert len(s["mean_leapfrog_steps"]) == 2 and len(s["cpu_seconds"]["sampling"]) == 2
    # draws.h5: dimension labels read by h5py (HDF5's dimension-scale API),
    # the quantity names, and the xarray recipe of docs/formats.md.
    import h5py
    with h5py.File(os.path.join(a, "draws.h5")) as f:
        assert [d.label for d in f["draws"].dims] == ["chain", "draw", "quantity"]
        assert [d.label for d in f["tree_depth"].dims] == ["chain", "draw"]
        assert [d.label for d in f["step_size"].dims] == ["chain"]
        assert list(f["quantity"].asstr()[()]) == [q["name"] for q in s["quantities"]]
        assert f.attrs["seed"] == 5 and f.attrs["metric"] == "diag", dict(f.attrs)
        assert json.loads(f.attrs["sampler"])["integrator"] == "leapfrog"
        flat = f["draws"][()]
    examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples")
    sys.path.insert(0, examples)
    from load_draws import load_draws, split_quantities
    ds = load_draws(os.path.join(a, "draws.h5"))
    assert ds.draws.dims == ("chain", "draw", "quantity") and ds.draws.shape == flat.shape
    assert list(ds.chain.values) == [0, 1] and len(ds.draw) == 150
    assert ds.attrs["seed"] == 5 and ds.attrs["integrator"] == "leapfrog"
    assert float(ds.draws.sel(quantity="lp", chain=1, draw=7)) == flat[1, 7, 0]
    post = split_quantities(ds)
    assert post.f.dims == ("chain", "draw", "test_point", "output") and post.f.shape == (2, 150, 30, 1)
    assert post.f_var.shape == (2, 150, 30) and post.U.shape == (2, 150, 4, 4)
    # The posterior means of the split variables are the written estimates.
    assert np.allclose(post.f.mean(("chain", "draw")).values, mean, rtol=1e-12, atol=1e-14)
    assert np.allclose(post.U.mean(("chain", "draw")).values, U, rtol=1e-12, atol=1e-14)
    k = [q["name"] for q in s["quantities"]].index("U[1,3]")
    assert np.array_equal(post.U.values[:, :, 3, 1], flat[:, :, k])

    # Monte Carlo standard errors of accuracy and generalisation error: the
    # accuracy's from the flip probabilities Φ(−|f̄|/s.e.) of the test means.
    from math import erfc, sqrt
    mean_se = np.load(os.path.join(a, "sampled_test_mean_se.npy"))
    p_flip = np.array([0.5 * erfc(abs(m) / (e * sqrt(2))) for m, e in zip(mean[:, 0], mean_se[:, 0])])
    expected = np.sqrt(np.sum(p_flip * (1 - p_flip))) / len(p_flip)
    assert abs(s["test_accuracy_stderr"] - expected) < 1e-12, (s["test_accuracy_stderr"], expected)
    assert s["generalization_error_stderr"] > 0, s

    # The accuracy figure overlays sample summaries directly (examples/plot.py).
    sw = os.path.join(tmp, "sweep")
    run(["sweep", "--config", config, "--output", sw, "--widths", "7", "20", "--quiet"])
    plot = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "plot.py")
    figs = os.path.join(tmp, "figs")
    p = subprocess.run(["/usr/bin/python3", plot, "--output", figs, "--sweep",
                        os.path.join(sw, "sweep.json"), "--sampled",
                        os.path.join(a, "sample_summary.json")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(figs, "accuracy_vs_N.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    # --width overrides every n_l of the study.
    d = os.path.join(tmp, "d")
    run(["sample", "--config", config, "--output", d, "--width", "7"] + common)
    s7 = json.load(open(os.path.join(d, "sample_summary.json")))
    assert s7["N"] == 7 and s7["widths"] == [7, 7, 7], s7["widths"]

    p = run(["compare", "--config", config, "--output", c] + common)
    assert "diff/s.e." in p.stdout and "U[0,0] good>uniform" in p.stdout, p.stdout
    j = json.load(open(os.path.join(c, "compare.json")))
    # Same seed and settings: compare's sampled U is the sample command's.
    U_rows = [r for r in j["rows"] if r["quantity"].startswith("U[")]
    assert len(U_rows) == 10
    theory_U = np.load(os.path.join(c, "U_1.npy"))
    for r in U_rows:
        i, k = map(int, r["quantity"][2:r["quantity"].index("]")].split(","))
        assert abs(r["sampled"] - U[i, k]) < 1e-12 and abs(r["theory"] - theory_U[i, k]) < 1e-12
        assert abs(r["z"] - (r["sampled"] - r["theory"]) / r["se"]) < 1e-9
    assert len(j["test_points"]) == 2 * 30
    assert j["test_mean_abs_z"] is not None and 0 < j["test_mean_abs_z"] < 3, j["test_mean_abs_z"]
    theory_mean = np.load(os.path.join(c, "test_mean.npy"))
    first = j["test_points"][0]
    assert first["quantity"] == "f_mean[0]" and abs(first["theory"] - theory_mean[0, 0]) < 1e-12
    with open(os.path.join(c, "compare.csv")) as f:
        assert f.readline().startswith("# provenance: {")
        assert f.readline().strip() == "quantity,theory,sampled,se,z"
    # examples/hmm/compare_points.py reads the sampled accuracy and generalisation
    # error back from the printed report (what examples/hmm/results keeps) for
    # the figure: the same numbers as compare.json's rows, to the printed digits.
    reports = os.path.join(tmp, "reports")
    os.makedirs(os.path.join(reports, "N7"))
    with open(os.path.join(reports, "N7", "report.txt"), "w") as f:
        f.write(p.stdout)
    points = os.path.join(os.path.dirname(plot), "hmm", "compare_points.py")
    q = subprocess.run(["/usr/bin/python3", points, reports, "7", "9"], capture_output=True, text=True)
    assert q.returncode == 0, q.stderr
    lines = [l for l in q.stdout.splitlines() if not l.startswith("#")]
    assert len(lines) == 2, q.stdout  # header and N = 7 (N = 9 was not run)
    point = dict(zip(lines[0].split(","), map(float, lines[1].split(","))))
    rows = {r["quantity"]: r for r in j["rows"]}
    assert point["N"] == 7
    for key in ("test_accuracy", "generalization_error"):
        # study/comparison.cc prints the sampled value to 6 and the s.e. to 3 significant digits.
        for value, expected, digits in ((point[key], rows[key]["sampled"], 6),
                                        (point[key + "_se"], rows[key]["se"], 3)):
            assert abs(value - expected) <= 0.5 * 10 ** (1 - digits) * abs(expected), (key, value, expected)

    # --weights gibbs: blocked Gibbs over every weight (sampler/gibbs.h); no
    # NUTS, so no metric, integrator or step size; the full sampler's quantities.
    g = os.path.join(tmp, "gibbs")
    p = run(["sample", "--config", config, "--output", g, "--threads", "2", "--weights", "gibbs",
             "--gibbs-sweeps", "2"] + [a for a in common if a != "--quiet"])
    # Its progress lines count draws; step size, tree depth and divergences are NUTS's.
    progress = [l for l in p.stderr.splitlines() if " chain " in l]
    assert progress and progress[-1].endswith("sampling 150/150"), p.stderr
    assert not any("depth" in l or "step" in l for l in progress), p.stderr
    s = json.load(open(os.path.join(g, "sample_summary.json")))
    assert s["termination"] == "completed" and s["sampled_weights"] == "gibbs", s["message"]
    assert s["metric"] == "none" and s["integrator"] == "none" and s["step_size"] == [0, 0]
    assert s["mean_leapfrog_steps"] == [2, 2] and s["ebfmi"] == [None, None]
    assert len(s["quantities"]) == 1 + 30 + 10
    assert np.load(os.path.join(g, "U_sampled.npy")).shape == (4, 4)

    for flag, value, message in [("--chains", "0", "--chains: found 0"),
                                 ("--gibbs-sweeps", "0", "--gibbs-sweeps: found 0"),
                                 ("--target-accept", "1.5", "--target-accept: found 1.5"),
                                 ("--weights", "some", "--weights: found \"some\""),
                                 ("--width", "2.5", "--width: found 2.5"),
                                 ("--metric", "full", "--metric: found \"full\""),
                                 ("--integrator", "euler", "--integrator: found \"euler\"")]:
        p = run(["sample", "--config", config, "--output", os.path.join(tmp, "bad"), flag, value],
                expect=2)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], p.stderr
        assert p.stdout == ""
print("ok")

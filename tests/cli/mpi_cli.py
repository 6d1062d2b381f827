"""`mpirun -n 2 attnpaths solve|predict|sweep` against one process (docs/cli.md
"Running over MPI"; issue: data-parallel runs over MPI).

- solve, storage = "features", P = 300 > M = 60: each rank sums the Gram of
  theory.md §10 over its half of the examples and predicts half of the test
  points; the same files as one process, every array and number to 1e-12.
- predict from that solution: the same arrays to 1e-12.
- sweep, storage = "pairs" (P <= M): the ranks split the temperature columns;
  the same point files and sweep.json points, bit for bit.
- a rank that fails (an example whose path inputs overflow lies in rank 1's
  half only) stops both: exit 2, one `error:` line naming data.train_x and
  the examples of rank 1, and no output folder; the same when rank 0 alone
  fails (its output path is a file).

usage: mpi_cli.py ATTNPATHS_BINARY MPIEXEC
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

binary, mpiexec = sys.argv[1], sys.argv[2]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")

STUDY = """
temperature = 0.05
[data]
generator = "hmm"
[data.hmm]
P = 300
P_test = 50
chain_tokens = 4
N_f = 10
[architecture]
width = 20
[[architecture.layers]]
heads = [ {{ kind = "hmm_same_token", name = "good" }}, {{ kind = "hmm_blank", name = "blank1", perturbation = 1, seed = 147 }} ]
[[architecture.layers]]
heads = [ {{ kind = "hmm_uniform", name = "uniform" }}, {{ kind = "hmm_blank", name = "blank2", perturbation = 1, seed = 247 }} ]
[solver]
gradient_tolerance = 1e-12
{solver}
"""


def run(args, ranks=1, expect=0):
    cmd = [binary, *args] if ranks == 1 else [mpiexec, "-n", str(ranks), binary, *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=600)
    assert r.returncode == expect, (cmd, r.returncode, r.stdout, r.stderr)
    return r


def rel(a, b):
    scale = max(float(np.max(np.abs(b))), 1e-300) if np.size(b) else 1.0
    return float(np.max(np.abs(a - b)) / scale) if np.size(b) else 0.0


def numbers_close(a, b, where):
    """Every number of two JSON values within 1e-12 relative (strings equal)."""
    if isinstance(a, dict):
        assert set(a) == set(b), (where, set(a) ^ set(b))
        for k in a:
            # Where and when a run was made, and hashes of arrays that agree to
            # rounding only, differ; the numbers must not.
            if k in ("provenance", "seconds", "total_seconds", "fingerprint", "sha256", "path",
                     "gradient_norm", "message"):  # the residual at convergence is rounding
                continue
            numbers_close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            numbers_close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1e-300), (where, a, b)
    else:
        assert a == b, (where, a, b)


def same_folder(a, b):
    files_a = sorted(f for f in os.listdir(a) if not f.startswith("."))
    files_b = sorted(f for f in os.listdir(b) if not f.startswith("."))
    assert files_a == files_b, (files_a, files_b)
    worst = 0.0
    for f in files_a:
        if f.endswith(".npy"):
            x, y = np.load(os.path.join(a, f)), np.load(os.path.join(b, f))
            assert x.shape == y.shape, (f, x.shape, y.shape)
            e = rel(x, y)
            assert e <= 1e-12, (f, e)
            worst = max(worst, e)
        elif f.endswith(".json"):
            numbers_close(json.load(open(os.path.join(a, f))),
                          json.load(open(os.path.join(b, f))), f)
    return files_a, worst


with tempfile.TemporaryDirectory() as d:
    config = os.path.join(d, "run.toml")
    with open(config, "w") as f:
        f.write(STUDY.format(solver='storage = "features"\nblock_examples = 16'))
    one, two = os.path.join(d, "one"), os.path.join(d, "two")
    run(["solve", "--config", config, "--output", one, "--quiet"])
    r = run(["solve", "--config", config, "--output", two, "--quiet"], ranks=2)
    assert r.stdout.count("wrote ") == 1, r.stdout  # rank 0 reports, once
    files, worst = same_folder(one, two)
    s = json.load(open(os.path.join(two, "summary.json")))
    assert s["storage"] == "features" and s["streamed"], s
    print(f"solve: 2 ranks = 1 rank on {len(files)} files, worst relative difference {worst:.1e}")

    run(["predict", "--config", config, "--solution", one, "--output",
         os.path.join(d, "p1"), "--quiet"])
    run(["predict", "--config", config, "--solution", one, "--output",
         os.path.join(d, "p2"), "--quiet"], ranks=2)
    files, worst = same_folder(os.path.join(d, "p1"), os.path.join(d, "p2"))
    print(f"predict: 2 ranks = 1 rank on {len(files)} files, worst {worst:.1e}")

    sweep_config = os.path.join(d, "sweep.toml")
    with open(sweep_config, "w") as f:
        f.write(STUDY.format(solver='storage = "pairs"').replace("P = 300", "P = 50")
                .replace("temperature = 0.05", "temperatures = [0.05, 0.1, 0.2]"))
    grid = ["--widths", "40", "20", "10"]
    run(["sweep", "--config", sweep_config, "--output", os.path.join(d, "s1"), *grid, "--quiet"])
    run(["sweep", "--config", sweep_config, "--output", os.path.join(d, "s2"), *grid, "--quiet"],
        ranks=2)
    points = sorted(os.listdir(os.path.join(d, "s1", "points")))
    assert points == sorted(os.listdir(os.path.join(d, "s2", "points"))) and len(points) == 9
    for p in points:
        a = json.load(open(os.path.join(d, "s1", "points", p)))
        b = json.load(open(os.path.join(d, "s2", "points", p)))
        for k in ("U", "U_a", "action", "test_accuracy", "generalization_error", "iterations"):
            assert a[k] == b[k], (p, k)  # bit for bit: each point is solved alike
    a = json.load(open(os.path.join(d, "s1", "sweep.json")))["points"]
    b = json.load(open(os.path.join(d, "s2", "sweep.json")))["points"]
    assert a == b
    print(f"sweep: 2 ranks = 1 rank on {len(points)} points, bit for bit")

    # Rank 1's half of the examples holds one whose inputs overflow.
    rng = np.random.default_rng(5)
    P, n_tok, N0 = 40, 4, 3
    X = rng.normal(size=(P, n_tok, N0))
    X[P - 3, :, :] = 1e200
    y = np.where(np.arange(P) % 2 == 0, 1.0, -1.0)
    np.save(os.path.join(d, "X.npy"), X)
    np.save(os.path.join(d, "y.npy"), y)
    bad = os.path.join(d, "bad.toml")
    with open(bad, "w") as f:
        f.write("""temperature = 0.1
[data]
train_x = "X.npy"
train_y = "y.npy"
[architecture]
width = 10
[[architecture.layers]]
heads = [ { kind = "uniform" } ]
[solver]
storage = "features"
""")
    out = os.path.join(d, "bad_out")
    r = run(["solve", "--config", bad, "--output", out, "--quiet"], ranks=2, expect=2)
    errors = [l for l in r.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1, r.stderr
    assert "data.train_x examples [20, 40)" in errors[0] and "not finite" in errors[0], errors
    assert not os.path.exists(out), os.listdir(d)
    print("a failing rank 1:", errors[0])

    # Rank 0 alone fails: its output path is a file.
    blocker = os.path.join(d, "a_file")
    open(blocker, "w").write("x")
    r = run(["solve", "--config", config, "--output", blocker, "--quiet"], ranks=2, expect=2)
    errors = [l for l in r.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "a_file" in errors[0], r.stderr
    assert open(blocker).read() == "x"
    print("a failing rank 0:", errors[0])

    # Commands that do not split their work refuse several processes.
    r = run(["gp", "--config", config, "--output", os.path.join(d, "gp2"), "--quiet"], ranks=2,
            expect=2)
    errors = [l for l in r.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "only solve, predict and sweep run over MPI" in errors[0], r.stderr
    assert not os.path.exists(os.path.join(d, "gp2"))
    print("gp under mpirun:", errors[0])

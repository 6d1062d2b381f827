"""The storage of G through the command line (docs/config.md "Storage of G"):
`attnpaths solve` on a Markov-chain study with P = 150 > M = Htot N0 = 60 with
--storage pairs, factored and features (the last streams the training set
through the Gram A = Xi^T Xi in blocks of 16 examples, no P x M matrix) gives
the same U_l and test predictions to 1e-10; summary.json and the solver
summary record the storage used; `predict` from a [solver] storage =
"features" study gives the same arrays as with pairs; features at T = 0
stops with one error line naming the temperature and no output folder.

usage: storage_cli.py ATTNPATHS_BINARY
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

binary = sys.argv[1]
STUDY = """
temperature = {T}
[data]
generator = "hmm"
[data.hmm]
P = 150
P_test = 40
chain_tokens = 4
N_f = 10
[architecture]
width = 20
[[architecture.layers]]
heads = [ {{ kind = "hmm_same_token", name = "good" }}, {{ kind = "hmm_blank", name = "blank1", perturbation = 1, seed = 147 }} ]
[[architecture.layers]]
heads = [ {{ kind = "hmm_uniform", name = "uniform" }}, {{ kind = "hmm_blank", name = "blank2", perturbation = 1, seed = 247 }} ]
[solver]
{solver}
"""


def run(*args, expect=0):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    assert r.returncode == expect, (args, r.returncode, r.stdout, r.stderr)
    return r


def rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


with tempfile.TemporaryDirectory() as d:
    config = os.path.join(d, "run.toml")
    with open(config, "w") as f:
        f.write(STUDY.format(T=0.05, solver="gradient_tolerance = 1e-12"))
    out = {}
    for storage in ["pairs", "factored", "features"]:
        o = os.path.join(d, storage)
        r = run("solve", "--config", config, "--output", o, "--storage", storage,
                "--block-examples", "16", "--quiet")
        assert f"storage of G           {storage}" in r.stdout, r.stdout
        s = json.load(open(os.path.join(o, "summary.json")))
        assert s["storage"] == storage, s["storage"]
        assert s["streamed"] == (storage == "features"), s["streamed"]
        assert s["provenance"]["settings"]["solver"]["storage"] == storage, s["provenance"]["settings"]
        out[storage] = o
    for storage in ["factored", "features"]:
        for name in ["U_1.npy", "U_2.npy", "test_mean.npy", "test_variance.npy"]:
            a = np.load(os.path.join(out[storage], name))
            b = np.load(os.path.join(out["pairs"], name))
            e = rel(a, b)
            assert e <= 1e-10, (storage, name, e)
        print(f"solve: {storage} vs pairs within 1e-10 (U_1, U_2, test mean and variance)")

    # predict from the features study: the same arrays as the pairs solution's.
    with open(config, "w") as f:
        f.write(STUDY.format(T=0.05, solver='storage = "features"\nblock_examples = 7'))
    run("predict", "--config", config, "--solution", out["pairs"], "--output",
        os.path.join(d, "pred"), "--quiet")
    for name in ["mean", "variance"]:
        a = np.load(os.path.join(d, "pred", f"predict_{name}.npy"))
        b = np.load(os.path.join(out["pairs"], f"test_{name}.npy"))
        assert rel(a, b) <= 1e-10, (name, rel(a, b))
    print("predict: streamed features storage equals the pairs solution's test arrays")

    # T = 0 with the features storage: one error line, no output folder.
    with open(config, "w") as f:
        f.write(STUDY.format(T=0, solver='storage = "features"'))
    o = os.path.join(d, "zero")
    r = run("solve", "--config", config, "--output", o, "--quiet", expect=2)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "temperature" in lines[0], r.stderr
    assert not os.path.exists(o), "a partial output folder was left"
    print("features at T = 0:", lines[0])
print("ok")

"""`attnpaths train` and `attnpaths train-eval` end to end on a tiny task
(seconds): the written files against an independent NumPy forward pass of
theory.md §1 (file layout and semantics), reproducibility across processes,
flags overriding the TOML, head removal, and the loss curve CSV.

usage: cli_train_test.py ATTNPATHS_BINARY
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

binary = sys.argv[1]
rng = np.random.default_rng(3)
P, Pt, n_tok, F = 60, 50, 4, 2
N0 = F + n_tok


def task(n):
    x = np.zeros((n, n_tok, N0))
    x[:, :, :F] = rng.normal(size=(n, n_tok, F))
    x[:, :, F:] = np.eye(n_tok)
    return x, np.where(x[:, 1, 0] > 0, 1.0, -1.0)  # the sign of feature 0 of token 2


X, y = task(P)
Xt, yt = task(Pt)


def softmax_keys(a):                     # columns sum to one (key index first)
    e = np.exp(a - a.max(axis=0))
    return e / e.sum(axis=0)


def forward(d, x, removed=()):
    """theory.md §1 with the weights in folder d, for one example x (n_tok × N0)."""
    net = json.load(open(os.path.join(d, "network.json")))
    H, n, dk = net["heads"], net["widths"], net["key_dim"]
    xs = x.T                                                  # N0 × n_tok
    z = np.load(os.path.join(d, "V_0.npy")) @ xs / np.sqrt(N0)
    for l in range(1, len(H) + 1):
        acc = 0
        for h in range(1, H[l - 1] + 1):
            if f"L{l}H{h}" in removed:
                continue
            Q, K = np.load(f"{d}/Q_{l}_{h}.npy"), np.load(f"{d}/K_{l}_{h}.npy")
            om = softmax_keys((K @ xs).T @ (Q @ xs) / np.sqrt(dk))
            if l == len(H):
                om = om.mean(axis=1)                           # mean readout
            acc = acc + np.load(f"{d}/V_{l}_{h}.npy") @ z @ om
        z = acc / np.sqrt(H[l - 1] * n[l - 1])
    return np.load(f"{d}/a.npy") @ z / np.sqrt(n[-1])


def run(*args):
    r = subprocess.run([binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, (args, r.returncode, r.stderr)
    return r.stdout


with tempfile.TemporaryDirectory() as tmp:
    for name, a in [("X.npy", X), ("y.npy", y), ("Xt.npy", Xt), ("yt.npy", yt)]:
        np.save(os.path.join(tmp, name), a)
    cfg = os.path.join(tmp, "train.toml")
    open(cfg, "w").write('[data]\ntrain_x = "X.npy"\ntrain_y = "y.npy"\ntest_x = "Xt.npy"\n'
                         'test_y = "yt.npy"\n[network]\nheads = [2, 3]\nwidth = 6\nkey_dim = 3\n'
                         '[training]\nepochs = 7\nbatch_size = 16\nlearning_rate = 0.01\nseed = 4\n'
                         '[output]\ndirectory = "net_a"\n')
    s = json.loads(run("train", "--config", cfg, "--threads", "1", "--quiet", "--json"))
    d = os.path.join(tmp, "net_a")   # [output] directory is relative to the config's folder
    for f in ["network.json", "summary.json", "loss_curve.csv", "V_0.npy", "a.npy", "V_2_3.npy",
              "Q_1_2.npy", "K_2_3.npy"]:
        assert os.path.exists(os.path.join(d, f)), f
    assert np.load(os.path.join(d, "Q_2_3.npy")).shape == (3, N0)
    assert np.load(os.path.join(d, "V_1_2.npy")).shape == (6, 6)
    assert s["epochs"] == 7 and s["steps"] == 7 * 4 and s["completed"], s
    assert s == json.load(open(os.path.join(d, "summary.json")))
    assert open(os.path.join(d, "loss_curve.csv")).readline().startswith("# provenance: {")
    rows = list(csv.DictReader(l for l in open(os.path.join(d, "loss_curve.csv"))
                               if not l.startswith("#")))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 8))
    assert float(rows[-1]["test_accuracy"]) == s["test_accuracy"]

    # The files hold the network the CLI evaluated: NumPy's forward pass gives
    # the same test accuracy and loss.
    f = np.array([forward(d, x) for x in Xt])
    assert abs(np.mean((f - yt) ** 2) - s["test_loss"]) < 1e-10 * max(1, s["test_loss"]), s
    assert np.mean(np.sign(f) == yt) == s["test_accuracy"]

    # Same seed, another process, one thread: the same loss curve, bitwise;
    # flags override the file (seed, epochs, output).
    run("train", "--config", cfg, "--threads", "1", "--quiet", "--output", os.path.join(tmp, "net_b"))
    assert open(os.path.join(d, "loss_curve.csv")).read().split("\n")[2].split(",")[:6] == \
        open(os.path.join(tmp, "net_b", "loss_curve.csv")).read().split("\n")[2].split(",")[:6]
    for w in ["V_0.npy", "Q_1_1.npy", "a.npy"]:
        assert np.array_equal(np.load(os.path.join(d, w)), np.load(os.path.join(tmp, "net_b", w)))
    c = json.loads(run("train", "--config", cfg, "--threads", "1", "--quiet", "--json", "--seed", "5",
                       "--epochs", "2", "--output", os.path.join(tmp, "net_c")))
    assert c["epochs"] == 2 and c["options"]["seed"] == 5
    assert not np.array_equal(np.load(os.path.join(d, "V_0.npy")),
                              np.load(os.path.join(tmp, "net_c", "V_0.npy")))

    # train-eval: removing heads drops their terms (NumPy agrees), orders
    # evaluate after every removal.
    out = os.path.join(tmp, "eval.json")
    e = json.loads(run("train-eval", "--network", d, "--test-x", os.path.join(tmp, "Xt.npy"),
                       "--test-y", os.path.join(tmp, "yt.npy"), "--remove", "L1H2,L2H1",
                       "--orders", "L2H3,L1H1", "L1H2", "--json", "--quiet", "--output", out))
    assert e == json.load(open(out))
    assert e["full"]["test_accuracy"] == s["test_accuracy"]
    f_rm = np.array([forward(d, x, removed=("L1H2", "L2H1")) for x in Xt])
    assert abs(np.mean((f_rm - yt) ** 2) - e["removed"]["test_loss"]) < 1e-10
    assert np.mean(np.sign(f_rm) == yt) == e["removed"]["test_accuracy"]
    assert [len(o["steps"]) for o in e["orders"]] == [3, 2]
    assert [st["head"] for st in e["orders"][0]["steps"]] == [None, "L2H3", "L1H1"]
    f_o = np.array([forward(d, x, removed=("L2H3", "L1H1")) for x in Xt])
    assert abs(np.mean((f_o - yt) ** 2) - e["orders"][0]["steps"][2]["test_loss"]) < 1e-10
print("ok")

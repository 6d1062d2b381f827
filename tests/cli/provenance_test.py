"""Provenance in every output (issue 12 §2; docs/formats.md "Provenance").

Runs every command that writes files (solve, gp, predict, sweep, heads, prune,
align, sample, compare, train, train-eval) on small studies and checks that
each JSON output holds a "provenance" object, each CSV starts with a
"# provenance: {...}" line and draws.h5 carries root attributes, with:
the version of CMakeLists.txt and the commit `attnpaths --version` prints, the
command line exactly as run, the config path and the SHA-256 of its bytes
(hashlib), and the seeds and settings. Then reproduces three results from what
their files record alone — a sample (draws bit for bit), a pruning run and a
training run — by building new command lines from the recorded settings, so a
setting that changes the result and is not recorded makes the test fail.

usage: provenance_test.py ATTNPATHS_BINARY SOURCE_DIR PROJECT_VERSION
"""
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

binary, source, version = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def run(*args, cwd):
    r = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"{' '.join(args)} exited {r.returncode}:\n{r.stderr}")
    return list(args)


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# --version: version (CMakeLists.txt), commit, compiler, libraries, BLAS.
v = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
lines = v.splitlines()
check(lines[0] == f"attnpaths {version}", f"--version first line {lines[0]!r}")
m = re.match(r"commit\s+([0-9a-f]{40}|unknown)( \(with uncommitted changes\))?$", lines[1])
check(m is not None, f"--version commit line {lines[1]!r}")
commit = m.group(1) if m else None
check(any(l.startswith("compiler ") for l in lines), "--version has a compiler line")
check(any(l.startswith("BLAS ") and "OpenBLAS" in l for l in lines), "--version names the BLAS")
if os.path.isdir(os.path.join(source, ".git")) or os.path.isfile(os.path.join(source, ".git")):
    # The build's commit is in the checkout's history (HEAD itself after a rebuild; an
    # earlier commit when ctest runs before rebuilding a new commit).
    r = subprocess.run(["git", "-C", source, "merge-base", "--is-ancestor", commit, "HEAD"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"--version commit {commit} is in the checkout's history")


def check_provenance(p, what, argv, config=None, settings=()):
    check(p is not None, f"{what}: has provenance")
    if p is None:
        return
    check(p["attnpaths_version"] == version, f"{what}: version {p['attnpaths_version']}")
    check(p["git_commit"] == commit, f"{what}: commit {p['git_commit']} vs {commit}")
    check(isinstance(p["git_dirty"], bool), f"{what}: git_dirty")
    check(p["command_line"] == [binary] + argv, f"{what}: command line {p['command_line']}")
    check(os.path.isabs(p["working_directory"]), f"{what}: working directory")
    check("OpenBLAS" in p["blas"], f"{what}: BLAS {p['blas']}")
    check(p["build"]["compiler"] != "", f"{what}: compiler")
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["created"]) is not None,
          f"{what}: created {p['created']}")
    if config is None:
        check(p["config"] is None, f"{what}: no config")
    else:
        check(p["config"] == {"path": config, "sha256": sha256(os.path.join(work, config))},
              f"{what}: config {p['config']}")
    for key in settings:
        check(key in p["settings"], f"{what}: settings has {key} ({sorted(p['settings'])})")


def json_provenance(path):
    return json.load(open(path)).get("provenance")


def csv_provenance(path):
    first = open(path).readline()
    check(first.startswith("# provenance: "), f"{path}: first line is the provenance comment")
    rows = list(csv.DictReader(l for l in open(path) if not l.startswith("#")))
    check(len(rows) > 0, f"{path}: rows after the comment")
    return json.loads(first[len("# provenance: "):]) if first.startswith("# provenance: ") else None


work = tempfile.mkdtemp(prefix="attnpaths-provenance-")
try:
    for name in ("heads_small.toml", "sweep_small.toml"):
        shutil.copy(os.path.join(source, "tests", "cli", "configs", name), work)
    study = "heads_small.toml"
    common = ("study_seed", "widths", "temperatures", "kernel", "threads")

    a = run("solve", "--config", study, "--output", "s", "--quiet", cwd=work)
    check_provenance(json_provenance(f"{work}/s/summary.json"), "solve summary.json", a, study,
                     common + ("solver",))
    a = run("gp", "--config", study, "--output", "g", "--quiet", cwd=work)
    check_provenance(json_provenance(f"{work}/g/summary.json"), "gp summary.json", a, study, common)
    a = run("predict", "--config", study, "--solution", "s", "--output", "p", "--quiet", cwd=work)
    p = json_provenance(f"{work}/p/predict.json")
    check_provenance(p, "predict.json", a, study, common + ("solution",))
    check(p["settings"]["solution"]["sha256_U_1"] == sha256(f"{work}/s/U_1.npy"),
          "predict.json: the solution's U_1.npy hash")

    a = run("sweep", "--config", "sweep_small.toml", "--output", "w", "--widths", "10", "100",
            "--temperatures", "0.01", "--quiet", cwd=work)
    for f in ("sweep.json", "points/N10_T0.01.json"):
        check_provenance(json_provenance(f"{work}/w/{f}"), f, a, "sweep_small.toml",
                         common + ("solver", "sweep_widths", "sweep_temperatures"))
    sweep = json.load(open(f"{work}/w/sweep.json"))
    check([r["N"] for r in sweep["points"]] == [10, 100], "sweep.json points")
    check(all("provenance" not in r for r in sweep["points"]), "sweep.json rows without provenance")
    check_provenance(csv_provenance(f"{work}/w/sweep.csv"), "sweep.csv", a, "sweep_small.toml",
                     ("sweep_widths",))

    a = run("heads", "--config", study, "--solution", "s", "--output", "h", "--quiet", cwd=work)
    for f in ("heads.json",):
        check_provenance(json_provenance(f"{work}/h/{f}"), f, a, study, common + ("solution",))
    check_provenance(csv_provenance(f"{work}/h/heads.csv"), "heads.csv", a, study, ("solution",))
    prune_args = ("--mode", "silence", "--orders", "random", "increasing", "--random-repeats", "3",
                  "--seed", "5")
    a = run("prune", "--config", study, "--solution", "s", "--output", "h", *prune_args, "--quiet",
            cwd=work)
    pp = json_provenance(f"{work}/h/pruning.json")
    check_provenance(pp, "pruning.json", a, study, common + ("seed", "orders", "random_repeats",
                                                            "mode", "solution"))
    check_provenance(csv_provenance(f"{work}/h/pruning.csv"), "pruning.csv", a, study, ("seed",))
    a = run("align", "--config", study, "--output", "h", "--components", "7", "--quiet", cwd=work)
    check_provenance(json_provenance(f"{work}/h/alignment.json"), "alignment.json", a, study,
                     common + ("components", "solver"))
    check_provenance(csv_provenance(f"{work}/h/alignment.csv"), "alignment.csv", a, study, ())

    # Sampling with every setting away from its default.
    sample_args = ("--chains", "2", "--warmup", "40", "--samples", "30", "--seed", "11",
                   "--max-tree-depth", "6", "--target-accept", "0.9", "--temperature-floor",
                   "0.002", "--width", "12")
    a = run("sample", "--config", study, "--output", "m", *sample_args, "--quiet", cwd=work)
    sp = json_provenance(f"{work}/m/sample_summary.json")
    check_provenance(sp, "sample_summary.json", a, study, common + ("sampler", "seed"))
    with h5py.File(f"{work}/m/draws.h5") as f:
        attrs = dict(f.attrs)
        check(attrs.get("attnpaths_version") == version, f"draws.h5 version {attrs.get('attnpaths_version')}")
        check(attrs.get("git_commit") == commit, "draws.h5 commit")
        check(attrs.get("config_path") == study, "draws.h5 config_path")
        check(attrs.get("config_sha256") == sha256(f"{work}/{study}"), "draws.h5 config_sha256")
        check(attrs.get("seed") == 11, f"draws.h5 seed {attrs.get('seed')}")
        check(attrs.get("command_line", "").split()[1:] == a, "draws.h5 command_line")
        check_provenance(json.loads(attrs["provenance"]), "draws.h5 provenance", a, study,
                         ("sampler",))
        draws = f["draws"][()]
    a = run("compare", "--config", study, "--output", "c", "--chains", "2", "--warmup", "30",
            "--samples", "20", "--seed", "3", "--quiet", cwd=work)
    for f in ("compare.json", "summary.json", "sample_summary.json"):
        check_provenance(json_provenance(f"{work}/c/{f}"), f"compare {f}", a, study,
                         common + ("sampler", "solver", "seed"))
    check_provenance(csv_provenance(f"{work}/c/compare.csv"), "compare.csv", a, study, ("seed",))
    with h5py.File(f"{work}/c/draws.h5") as f:
        check(f.attrs.get("seed") == 3, "compare draws.h5 seed")

    # Reproduce the sample from its recorded settings (not from its command line).
    s = sp["settings"]
    flags = {"chains": "--chains", "warmup": "--warmup", "samples": "--samples", "seed": "--seed",
             "max_tree_depth": "--max-tree-depth", "target_accept": "--target-accept",
             "temperature_floor": "--temperature-floor", "weights": "--weights"}
    again = ["sample", "--config", sp["config"]["path"], "--output", "m2", "--quiet",
             "--width", repr(s["widths"][0])]
    for key, flag in flags.items():
        again += [flag, repr(s["sampler"][key]) if not isinstance(s["sampler"][key], str)
                  else s["sampler"][key]]
    check(sha256(f"{work}/{sp['config']['path']}") == sp["config"]["sha256"], "config unchanged")
    run(*again, cwd=work)
    with h5py.File(f"{work}/m2/draws.h5") as f:
        check(np.array_equal(f["draws"][()], draws), "sample reproduced bit for bit from its settings")

    # Reproduce the pruning curves from their recorded settings.
    s = pp["settings"]
    again = ["prune", "--config", pp["config"]["path"], "--solution", s["solution"]["path"],
             "--output", "h2", "--mode", s["mode"], "--random-repeats", str(s["random_repeats"]),
             "--seed", str(s["seed"]), "--orders", *s["orders"], "--quiet"]
    run(*again, cwd=work)
    first = json.load(open(f"{work}/h/pruning.json"))["modes"]["silence"]["curves"]
    second = json.load(open(f"{work}/h2/pruning.json"))["modes"]["silence"]["curves"]
    check(first == second, "pruning curves reproduced from their settings")

    # Training: a tiny task, every option recorded, reproduced from the record.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3, 4))
    y = np.where(x[:, 0, 0] > 0, 1.0, -1.0)
    np.save(f"{work}/tx.npy", x)
    np.save(f"{work}/ty.npy", y)
    a = run("train", "--train-x", "tx.npy", "--train-y", "ty.npy", "--test-x", "tx.npy",
            "--test-y", "ty.npy", "--heads", "2", "--width", "6", "--key-dim", "2", "--epochs", "3",
            "--batch-size", "8", "--learning-rate", "0.01", "--seed", "9", "--schedule", "constant",
            "--output", "t", "--quiet", cwd=work)
    tp = json_provenance(f"{work}/t/summary.json")
    check_provenance(tp, "train summary.json", a, None, ("seed", "training", "network", "train_x"))
    check(tp["settings"]["train_x"]["sha256"] == sha256(f"{work}/tx.npy"), "train_x hash")
    check_provenance(csv_provenance(f"{work}/t/loss_curve.csv"), "loss_curve.csv", a, None,
                     ("training",))
    t, n = tp["settings"]["training"], tp["settings"]["network"]
    again = ["train", "--train-x", tp["settings"]["train_x"]["path"], "--train-y",
             tp["settings"]["train_y"]["path"], "--test-x", tp["settings"]["test_x"]["path"],
             "--test-y", tp["settings"]["test_y"]["path"], "--heads", *map(str, n["heads"]),
             "--width", str(n["widths"][0]), "--key-dim", str(n["key_dim"]),
             "--readout", n["readout"], "--output", "t2", "--quiet"]
    for key, flag in (("epochs", "--epochs"), ("batch_size", "--batch-size"),
                      ("learning_rate", "--learning-rate"), ("schedule", "--schedule"),
                      ("final_learning_rate_ratio", "--final-lr-ratio"),
                      ("weight_decay", "--weight-decay"), ("value_init_std", "--value-init-std"),
                      ("attention_init_std", "--attention-init-std"), ("seed", "--seed"),
                      ("eval_every", "--eval-every")):
        again += [flag, t[key] if isinstance(t[key], str) else repr(t[key])]
    run(*again, cwd=work)
    for f in ("a.npy", "V_0.npy", "Q_1_1.npy"):
        check(np.array_equal(np.load(f"{work}/t/{f}"), np.load(f"{work}/t2/{f}")),
              f"training reproduced from its settings ({f})")

    a = run("train-eval", "--network", "t", "--test-x", "tx.npy", "--test-y", "ty.npy",
            "--remove", "L1H1", "--output", "te.json", "--quiet", cwd=work)
    ep = json_provenance(f"{work}/te.json")
    check_provenance(ep, "train-eval JSON", a, None, ("network", "test_x", "test_y"))
finally:
    shutil.rmtree(work, ignore_errors=True)

if failures:
    sys.exit(f"{len(failures)} provenance check(s) failed")
print("provenance: every output records version, commit, command line, config and settings; "
      "sample, pruning and training reproduced from their records")

#!/usr/bin/env python3
"""Settings from the study file and the flags: a [solver] table changes the
solve (a looser tolerance stops earlier), a flag overrides the table, the
summary's provenance records the values used, `check` takes --config and
reports the resolved settings, bad flags name the flag."""
import json
import os
import subprocess
import sys
import tempfile

binary = sys.argv[1]
failures = []


def run(args, cwd):
    return subprocess.run([binary] + args, cwd=cwd, capture_output=True, text=True)


STUDY = """
temperature = 0.01
[data]
generator = "hmm"
[data.hmm]
P = 30
P_test = 20
chain_tokens = 8
N_f = 20
[architecture]
width = 10
[[architecture.layers]]
heads = [ { kind = "hmm_same_token", name = "good" }, { kind = "hmm_blank", name = "blank" } ]
[solver]
gradient_tolerance = 1e-3
max_iterations = 400
"""

with tempfile.TemporaryDirectory() as work:
    open(os.path.join(work, "run.toml"), "w").write(STUDY)
    loose = run(["solve", "--config", "run.toml", "--output", "loose", "--quiet"], work)
    tight = run(["solve", "--config", "run.toml", "--output", "tight", "--quiet",
                 "--gradient-tolerance", "1e-10"], work)
    if loose.returncode != 0 or tight.returncode != 0:
        failures.append(f"solve failed: {loose.stderr} {tight.stderr}")
    else:
        a = json.load(open(os.path.join(work, "loose", "summary.json")))
        b = json.load(open(os.path.join(work, "tight", "summary.json")))
        sa, sb = a["provenance"]["settings"]["solver"], b["provenance"]["settings"]["solver"]
        if sa["gradient_tolerance"] != 1e-3 or sb["gradient_tolerance"] != 1e-10:
            failures.append(f"provenance tolerances {sa['gradient_tolerance']}, {sb['gradient_tolerance']}")
        if sa["max_iterations"] != 400 or sb["max_iterations"] != 400:
            failures.append("max_iterations from [solver] not used")
        # The file's tolerance stops the line search earlier than the flag's.
        if not a["gradient_norm"] <= 1e-3 or not b["gradient_norm"] <= 1e-10:
            failures.append(f"gradient norms {a['gradient_norm']} {b['gradient_norm']}")
        if not a["iterations"] < b["iterations"]:
            failures.append(f"iterations {a['iterations']} (1e-3) vs {b['iterations']} (1e-10)")

    check = run(["check", "--config", "run.toml", "--json"], work)
    if check.returncode != 0:
        failures.append("check --config: " + check.stderr)
    else:
        settings = json.loads(check.stdout)["settings"]
        if settings["solver"]["gradient_tolerance"] != 1e-3 or settings["sampler"]["chains"] != 4:
            failures.append(f"check settings {settings}")
    if run(["check", "run.toml"], work).returncode != 0:
        failures.append("check with a positional file no longer works")

    for args, expected in [
        (["solve", "--config", "run.toml", "--gradient-tolerance", "-1"],
         "--gradient-tolerance: found -1, expected a finite value > 0"),
        (["solve", "--config", "run.toml", "--method", "newton"],
         "--method: found \"newton\", expected lbfgs or bfgs"),
        (["sample", "--config", "run.toml", "--chains", "0"], "--chains: found 0, expected at least 1"),
        (["check", "run.toml", "--config", "run.toml"], "one study file"),
    ]:
        r = run(args + ["--quiet"] if args[0] != "check" else args, work)
        lines = r.stderr.strip().splitlines()
        if r.returncode != 2 or len(lines) != 1 or expected not in lines[0]:
            failures.append(f"{args}: exit {r.returncode}, stderr {r.stderr!r}")
    if os.path.exists(os.path.join(work, "attnpaths-out")):
        failures.append("a refused run left an output folder")

for f in failures:
    print("FAIL:", f)
print("settings_cli:", "ok" if not failures else f"{len(failures)} failures")
sys.exit(1 if failures else 0)

"""`attnpaths solve` end to end at large P (issue 13 §2): the paper's HMM task
(4 paths, N0 = 231, M = 924; theory.md §8) with P generated training
sequences streamed in the feature form (theory.md §10; nothing of size P × M
or P × P is ever held) and 10⁴ test sequences predicted block by block,
T = 0.01, N = 100. Wall time, CPU time (user + system of the child: what the run costs on a
shared machine, and wall × threads on an idle one), the solver's own split,
peak RSS (the child's ru_maxrss) and the test accuracy, one row per P,
appended to a Markdown table.

usage: /usr/bin/python3 bench/cli_large_p.py build/attnpaths P [threads] [results.md]
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from hmm_study import hmm_study

binary, P = sys.argv[1], int(sys.argv[2])
threads = sys.argv[3] if len(sys.argv) > 3 else "0"
results = sys.argv[4] if len(sys.argv) > 4 else None

STUDY = hmm_study(P, P_test=10000)

with tempfile.TemporaryDirectory() as d:
    config = os.path.join(d, "run.toml")
    with open(config, "w") as f:
        f.write(STUDY)
    load = os.getloadavg()
    t0 = time.perf_counter()
    r = subprocess.run([binary, "solve", "--config", config, "--output", os.path.join(d, "out"),
                        "--threads", threads, "--json", "--quiet"], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"solve failed ({r.returncode}): {r.stderr}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss_gib = usage.ru_maxrss / 2**20
    cpu = usage.ru_utime + usage.ru_stime
    s = json.loads(r.stdout)
    row = (f"| {P:,} | {threads} | {wall:.0f} s | {cpu:.0f} s | "
           f"{s.get('seconds', float('nan')):.0f} s | "
           f"{s['iterations']} | {rss_gib:.2f} GiB | {s['test_accuracy']:.4f} | "
           f"{s['generalization_error']:.4f} | {s['storage']}, streamed = "
           f"{str(s['streamed']).lower()} | {time.strftime('%H:%M UTC', time.gmtime())}, load "
           f"{load[0]:.1f} |")
    print(row)
    if results:
        new = not os.path.exists(results)
        with open(results, "a") as f:
            if new:
                f.write("| P | threads | wall time | CPU time | summary seconds | iterations | "
                        "peak RSS | test accuracy | gen. error | storage | when, load |\n"
                        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n")
            f.write(row + "\n")

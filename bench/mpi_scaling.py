"""The speed-up of `mpirun -n 2 attnpaths solve` over one process (issue 13 §3).

The HMM task of the paper (4 paths, N0 = 231, M = 924; theory.md §8) at P
training examples streamed from the generator in the feature form
(theory.md §10), T = 0.01, N = 100, 1000 test examples. Each configuration
runs `repeats` times, alternating, and the table keeps the fastest wall
time (and the smallest CPU time of its processes, user + system); every run's
U_1 is compared with the first one's.

  1 process, --threads 1    the baseline
  2 processes, --threads 1  each sums the Gram of half the examples
  1 process, --threads 2    the same two cores as threads, for comparison

usage: /usr/bin/python3 bench/mpi_scaling.py build/attnpaths [P] [repeats] [results.md]
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

from hmm_study import hmm_study

import numpy as np

binary = sys.argv[1]
P = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 2
results = sys.argv[4] if len(sys.argv) > 4 else None
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", OPENBLAS_NUM_THREADS="1")

STUDY = hmm_study(P, P_test=1000, extra='[solver]\nstorage = "features"\n')

CONFIGS = [("1 process, --threads 1", 1, 1), ("2 processes, --threads 1", 2, 1),
           ("1 process, --threads 2", 1, 2)]

with tempfile.TemporaryDirectory() as d:
    config = os.path.join(d, "run.toml")
    with open(config, "w") as f:
        f.write(STUDY)
    best = {name: float("inf") for name, _, _ in CONFIGS}
    cpu = {name: float("inf") for name, _, _ in CONFIGS}
    reference, worst = None, 0.0
    for rep in range(repeats):
        for name, ranks, threads in CONFIGS:
            out = os.path.join(d, f"out{rep}{ranks}{threads}")
            cmd = [binary, "solve", "--config", config, "--output", out, "--threads",
                   str(threads), "--quiet"]
            if ranks > 1:
                cmd = ["mpirun", "-n", str(ranks)] + cmd
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, env=ENV)
            seconds = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            best[name] = min(best[name], seconds)
            cpu[name] = min(cpu[name], after.ru_utime + after.ru_stime - before.ru_utime -
                            before.ru_stime)
            U = np.load(os.path.join(out, "U_1.npy"))
            if reference is None:
                reference = U
            worst = max(worst, float(np.max(np.abs(U - reference)) / np.max(np.abs(reference))))
            print(f"{name}: {seconds:.1f} s wall", flush=True)
    base = best[CONFIGS[0][0]]
    lines = [
        "# mpi_scaling — `mpirun -n 2 attnpaths solve` against one process",
        "",
        f"`/usr/bin/python3 bench/mpi_scaling.py build/attnpaths {P} {repeats}` "
        "(bench/mpi_scaling.py): the HMM task (4 paths, N0 = 231, M = 924), "
        f"P = {P} training examples streamed from the generator in the feature form, "
        "T = 0.01, N = 100, 1000 test examples; end-to-end wall time of `attnpaths solve` "
        f"(fastest of {repeats}, configurations alternating), OPENBLAS_NUM_THREADS=1.",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores, shared)",
        "",
        "| configuration | wall time | speed-up over 1 process, 1 thread | CPU time (all processes) |",
        "|---|---:|---:|---:|",
    ]
    for name, _, _ in CONFIGS:
        lines.append(f"| {name} | {best[name]:.1f} s | {base / best[name]:.2f}× | {cpu[name]:.1f} s |")
    lines += ["", f"U_1 of every run within {worst:.1e} relative of the first run's.", ""]
    text = "\n".join(lines)
    print(text)
    if results:
        with open(results, "w") as f:
            f.write(text)

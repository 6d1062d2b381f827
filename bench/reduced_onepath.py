#!/usr/bin/env python3
"""ESS per CPU second of the full, collapsed and reduced samplers side by side
on the one-path Markov task where the reduction applies at moderate widths
(theory.md §8: layer 1 same-token, layer 2 uniform, last-token readout,
P = 16 training and 40 test sequences of 10 chain tokens, N_f = 20, N0 = 31,
σ² = 1, T = 0.1, D = 1), one process, same seed:

    nice -n 10 /usr/bin/python3 bench/reduced_onepath.py [--widths 100 1000] [--samplers all collapsed reduced]

ESS/s = median bulk ESS over the quantities (U^sampled, test means) divided by
the CPU seconds the chains' threads spent in the sampling phase (summed over
chains). Prints a markdown table (bench/results/sampler_bench.md).
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "build", "python"))
import attnpaths as ap  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--widths", type=int, nargs="+", default=[100, 1000])
parser.add_argument("--samplers", nargs="+", default=["all", "collapsed", "reduced"])
parser.add_argument("--chains", type=int, default=2)
parser.add_argument("--warmup", type=int, default=300)
parser.add_argument("--samples", type=int, default=300)
args = parser.parse_args()

task = ap.HmmTaskOptions(P=16, N_f=20, chain_tokens=10, seed=27)
train = ap.generate_hmm_task(task)
test = ap.generate_hmm_task(task, P=40, seed=59)
arch = ap.hmm_architecture("good_path", task)
print("| N | sampler | dim | step | depth | steps/draw | div | warm-up CPU s | sampling CPU s "
      "| ESS U | ESS f | ESS/s U | ESS/s f | R-hat |")
print("|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for N in args.widths:
    arch.set_uniform(float(N))
    xs = ap.compute_path_inputs(arch, train.x)
    xt = ap.compute_path_inputs(arch, test.x, "test")
    for weights in args.samplers:
        options = ap.SampleOptions(num_chains=args.chains, num_warmup=args.warmup,
                                   num_samples=args.samples, seed=2024, threads=args.chains,
                                   sampled_weights=weights)
        r, s = ap.sample(arch, xs, train.y, 0.1, xt, options, test.y)
        names = r.quantity_names
        ess = np.array([d.ess_bulk for d in r.diagnostics])
        is_U = np.array([n.startswith("U[") for n in names])
        is_f = np.array([n.startswith("f[") for n in names])
        warm, samp = sum(s.warmup_cpu_seconds), sum(s.sampling_cpu_seconds)
        eU, ef = np.median(ess[is_U]), np.median(ess[is_f])
        print(f"| {N} | {s.sampled_weights}:{s.integrator}:{s.metric} | {s.dimension} | "
              f"{np.median(s.step_size):.3g} | {np.mean(s.mean_tree_depth):.2f} | "
              f"{np.mean(s.mean_leapfrog_steps):.1f} | {s.total_divergences} | {warm:.1f} | "
              f"{samp:.1f} | {eU:.0f} | {ef:.0f} | {eU / samp:.2f} | {ef / samp:.2f} | "
              f"{s.max_rhat:.3f} |", flush=True)

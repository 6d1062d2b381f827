#!/usr/bin/env python3
"""The markdown table of examples/hmm/compare.sh: per width N, theory vs
sampled test accuracy, every U_1 entry and the test means (|z| averaged over
points), with the sampler's quality figures (worst R-hat, smallest bulk ESS of
U and the test means, divergences, wall time).

    compare_table.py OUT/compare 10 100 1000 > table.md
"""
import json
import os
import sys

import numpy as np


def load(directory, N):
    path = os.path.join(directory, f"N{N}", "compare.json")
    if not os.path.exists(path):
        return None
    c = json.load(open(path))
    s = json.load(open(os.path.join(directory, f"N{N}", "sample_summary.json")))
    wall = None
    report = os.path.join(directory, f"N{N}", "report.txt")
    if os.path.exists(report):
        for line in open(report):
            if line.startswith("wall seconds:"):
                wall = float(line.split(":")[1])
    return c, s, wall


def fmt(x, digits=4):
    return "—" if x is None else f"{x:.{digits}g}"


def main():
    directory, widths = sys.argv[1], sys.argv[2:]
    print("| N | sampler | chains × draws | wall min | max R-hat | min bulk ESS (U, f) | divergences "
          "| accuracy theory | accuracy sampled ± s.e. | test means: mean abs z | within 3 s.e. |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    details = []
    for N in widths:
        loaded = load(directory, N)
        if loaded is None:
            print(f"| {N} | not run | | | | | | | | | |")
            continue
        c, s, wall = loaded
        rows = {r["quantity"]: r for r in c["rows"]}
        acc = rows.get("test_accuracy", {})
        ess_U = [q["ess_bulk"] for q in s["quantities"] if q["name"].startswith("U[")]
        ess_f = [q["ess_bulk"] for q in s["quantities"] if q["name"].startswith("f[")]
        rhat = [q["rhat"] for q in s["quantities"]
                if q["name"].startswith(("U[", "f[")) and q["rhat"] is not None]
        print(f"| {N} | {s['sampled_weights']}, {s.get('metric', '?')} | {s['chains']} × {s['samples']} "
              f"| {fmt(wall / 60 if wall else None, 3)} | {fmt(max(rhat) if rhat else None, 4)} "
              f"| {fmt(min(ess_U) if ess_U else None, 4)}, {fmt(min(ess_f) if ess_f else None, 4)} "
              f"| {sum(s['divergences'])} | {fmt(acc.get('theory'))} "
              f"| {fmt(acc.get('sampled'))} ± {fmt(acc.get('se'), 2)} "
              f"| {fmt(c.get('test_mean_abs_z'), 3)} | {fmt(c.get('test_mean_within_3se'), 3)} |")
        details.append((N, [r for r in c["rows"] if r["quantity"].startswith("U[")]))
    for N, rows in details:
        print(f"\nN = {N}: U_1 (theory) vs U^sampled")
        print("\n| entry | theory | sampled | s.e. | z |\n|---|---|---|---|---|")
        for r in rows:
            name = r["quantity"].replace("|", "\\|")  # "π | π'" inside a markdown cell
            print(f"| {name} | {fmt(r['theory'])} | {fmt(r['sampled'])} | {fmt(r['se'], 2)} "
                  f"| {fmt(r['z'], 2)} |")
        z = np.array([r["z"] for r in rows if r["z"] is not None])
        if len(z):
            print(f"\nmean |z| over the U_1 entries: {np.mean(np.abs(z)):.2f}")


if __name__ == "__main__":
    main()

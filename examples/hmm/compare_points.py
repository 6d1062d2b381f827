#!/usr/bin/env python3
"""The sampled points of examples/hmm/compare.sh as a CSV for examples/plot.py
--sampled: per width N, the sampled test accuracy and generalisation error
with their Monte Carlo standard errors, read from each N<width>/report.txt
(the table `attnpaths compare` prints). The report is what
examples/hmm/results/compare keeps of every run, so the figure can be redrawn
from the committed results alone.

    compare_points.py OUT/compare 10 30 100 > OUT/compare/sampled_points.csv
"""
import os
import sys


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def read_point(path):
    point = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            # "quantity  theory  sampled  s.e.  diff/s.e."
            if len(fields) == 5 and fields[0] in ("test_accuracy", "generalization_error"):
                try:
                    point[fields[0]] = (float(fields[2]), float(fields[3]))
                except ValueError:
                    fail(f"{path}: {fields[0]} row {line.strip()!r} is not 'name theory sampled s.e. z'")
    if "test_accuracy" not in point:
        fail(f"{path}: no test_accuracy row (expected the table `attnpaths compare` prints)")
    return point


def main():
    if len(sys.argv) < 3:
        fail("usage: compare_points.py OUT/compare N [N ...]")
    directory, widths = sys.argv[1], sys.argv[2:]
    print("# sampled points of examples/hmm/compare.sh, from N<width>/report.txt")
    print("N,test_accuracy,test_accuracy_se,generalization_error,generalization_error_se")
    for N in widths:
        path = os.path.join(directory, f"N{N}", "report.txt")
        if not os.path.exists(path):
            continue  # a width not run (compare.sh warned)
        p = read_point(path)
        acc, acc_se = p["test_accuracy"]
        gen, gen_se = p.get("generalization_error", ("", ""))
        print(f"{N},{acc},{acc_se},{gen},{gen_se}")


if __name__ == "__main__":
    main()

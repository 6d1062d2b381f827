"""Data flows one way (docs/design.md): every module includes only modules
of a lower tier, so the include graph has no arrow that goes up or sideways:

    0 parallel
    1 kernels
    2 data, network
    3 solver, sampler, trainer, propagation
    4 curvature, study
    5 cli, python

(the sampler never includes the solver, the library never includes cli/ or
python/). Also checks that each module's CMake target links no module of its
own tier or above.
A line `#include "<module>/..."` counts; tests, bench and examples are users,
not modules.

usage: include_graph.py SOURCE_DIR
"""
import os
import re
import sys

TIERS = [["parallel"], ["kernels"], ["data", "network"],
         ["solver", "sampler", "trainer", "propagation"], ["curvature", "study"], ["cli", "python"]]
RANK = {m: i for i, tier in enumerate(TIERS) for m in tier}
ORDER = [m for tier in TIERS for m in tier]
root = sys.argv[1]
problems = []
for module in ORDER:
    folder = os.path.join(root, module)
    for dirpath, _, files in os.walk(folder):
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                for number, line in enumerate(f, 1):
                    m = re.match(r'\s*#\s*include\s+"(\w+)/', line)
                    if not m or m.group(1) not in RANK or m.group(1) == module:
                        continue
                    if RANK[m.group(1)] >= RANK[module]:
                        problems.append(f"{os.path.relpath(path, root)}:{number}: {module} includes "
                                        f"{m.group(1)}, a module of its tier or above")
    cmake = os.path.join(folder, "CMakeLists.txt")
    if os.path.exists(cmake):
        text = open(cmake, encoding="utf-8").read()
        for target in re.findall(r"attnpaths_(\w+)", text):
            if target in RANK and target != module and RANK[target] >= RANK[module]:
                problems.append(f"{module}/CMakeLists.txt: links attnpaths_{target}, a module of "
                                "its tier or above")

if problems:
    print("upward dependencies:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"include graph: {len(ORDER)} modules, every include points down")

"""Every file of this repository that the documentation names exists.

Scans README.md, docs/*.md, examples/*/README.md, bench/results/*.md and the
--help-style comments of scripts for repository-relative paths (docs/cli.md,
examples/hmm/four_paths.toml, data/provenance.h, …) and checks each against
the tree. Paths under output folders (out/, build/, …) and placeholders are
not files of the repository and are skipped.

usage: doc_paths.py SOURCE_DIR
"""
import glob
import os
import re
import sys

root = sys.argv[1]
top = {d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith(".")
       and not d.startswith("build")}
documents = (["README.md"] + sorted(glob.glob("docs/*.md", root_dir=root))
             + sorted(glob.glob("examples/*/README.md", root_dir=root))
             + sorted(glob.glob("bench/results/*.md", root_dir=root))
             + sorted(glob.glob("examples/**/*.sh", root_dir=root, recursive=True))
             + ["scripts/bootstrap.sh"])
pattern = re.compile(r"(?<![\w./<$-])((?:%s)/[\w./*{},-]*[\w*}])" % "|".join(sorted(top)))
missing = []
checked = 0
for doc in documents:
    text = open(os.path.join(root, doc), encoding="utf-8").read()
    for m in pattern.finditer(text):
        path = m.group(1).rstrip(".,")
        if "<" in path or "*" in path or "{" in path:
            # A pattern (docs: U_<l>.npy, lib/libattnpaths_{…}.a): its folder must exist.
            path = path.split("<")[0].split("*")[0].split("{")[0].rsplit("/", 1)[0]
        if re.search(r"(^|/)(out|figs|figures)(/|$)", path) or path.startswith("build"):
            continue  # outputs of a run, not files of the repository
        if len(path.rsplit("/", 1)[-1]) < 2:
            continue  # a unit such as "examples/s", not a path
        checked += 1
        if not os.path.exists(os.path.join(root, path)):
            line = text.count("\n", 0, m.start()) + 1
            missing.append(f"{doc}:{line}: {path}")
for m in missing:
    print("missing:", m)
if missing:
    sys.exit(f"{len(missing)} of {checked} paths named in the docs do not exist")
print(f"doc paths: all {checked} repository paths named in {len(documents)} documents exist")

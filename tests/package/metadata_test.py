"""LICENSE, CITATION.cff and the README's citation paragraph agree with the
project: one version (CMakeLists.txt's project() line) everywhere, the paper
the theory comes from named with its authors and arXiv identifier.

usage: metadata_test.py SOURCE_DIR
"""
import os
import re
import sys

import yaml

root = sys.argv[1]
version = re.search(r"project\(attnpaths\s+VERSION\s+([0-9.]+)",
                    open(os.path.join(root, "CMakeLists.txt")).read()).group(1)
license_text = open(os.path.join(root, "LICENSE")).read()
assert license_text.startswith("BSD 3-Clause License"), license_text[:40]

cff = yaml.safe_load(open(os.path.join(root, "CITATION.cff")))
assert cff["cff-version"] == "1.2.0", cff["cff-version"]
assert str(cff["version"]) == version, (cff["version"], version)
assert cff["license"] == "BSD-3-Clause", cff["license"]
assert cff["type"] == "software" and cff["title"].startswith("attnpaths")
paper = cff["references"][0]
assert [a["family-names"] for a in paper["authors"]] == ["Tiberi", "Mignacco", "Irie", "Sompolinsky"]
assert "attention paths" in paper["title"] and paper["year"] == 2024
assert any("2405.15926" in i["value"] for i in paper["identifiers"]), paper["identifiers"]

readme = open(os.path.join(root, "README.md")).read()
assert "## How to cite" in readme
cite = readme[readme.index("## How to cite"):]
for needed in ("CITATION.cff", "2405.15926", "Tiberi", "git_commit", f"version = {{{version}}}"):
    assert needed in cite, needed
pyproject = open(os.path.join(root, "pyproject.toml")).read()
assert 'dynamic = ["version"]' in pyproject and "BSD-3-Clause" in pyproject
print(f"metadata: version {version} in CMakeLists.txt, CITATION.cff and the Python package; "
      "LICENSE BSD-3-Clause; README cites the tool and the paper")

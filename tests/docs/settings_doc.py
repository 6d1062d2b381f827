#!/usr/bin/env python3
"""docs/config.md lists every [solver], [sampler] and [pruning] key with the
default and flag the library's Options give it (`attnpaths check
--list-settings --json`), and no key the library does not have."""
import json
import re
import subprocess
import sys

binary, root = sys.argv[1], sys.argv[2]
settings = json.loads(subprocess.run([binary, "check", "--list-settings", "--json"],
                                     check=True, capture_output=True, text=True).stdout)
text = open(f"{root}/docs/config.md", encoding="utf-8").read()
problems = []
for table, fields in settings.items():
    m = re.search(r"^## `\[%s\]`\n(.*?)(?=^## |\Z)" % table, text, re.S | re.M)
    if not m:
        problems.append(f"docs/config.md has no ## `[{table}]` section")
        continue
    rows = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    for key, f in fields.items():
        if key not in rows:
            problems.append(f"[{table}] {key}: not in docs/config.md")
            continue
        if rows[key][1].strip("`") != f["default"]:
            problems.append(f"[{table}] {key}: docs say default {rows[key][1]}, "
                            f"the library has {f['default']}")
        flag = rows[key][2].strip("`")
        if flag != f["flag"]:
            problems.append(f"[{table}] {key}: docs say flag '{flag}', the library has '{f['flag']}'")
    for key in rows:
        if key not in fields:
            problems.append(f"[{table}] {key}: documented but not a setting")
for p in problems:
    print(p)
print(f"{sum(len(f) for f in settings.values())} settings checked, {len(problems)} problems")
sys.exit(1 if problems else 0)

"""Generates cases.jsonl: PyPA advisory `affected` entries with candidate versions and whether
each is affected, computed independently of runbom by `osv_reference.py` (the OSV schema's
IsVulnerable pseudocode over `packaging.version.Version`). Run once with packaging 26.3:

    /tmp/venv/bin/pip install packaging==26.3 pyyaml
    /tmp/venv/bin/python generate-cases.py ../../../../../shared/data/pypa-advisory-database > cases.jsonl

Candidates per entry: its `versions` list and every event version, plus each event version with
`.dev0`, `rc1`, `.post1`, `+local`, `.0.1`, `a1` appended (the pre/post/local corners); strings
`packaging` rejects are dropped. A fixed sample (seed 440): the one entry with `last_affected`,
150 entries with more than two events in a range, 60 others; at most 30 cases each.
"""
import glob
import json
import os
import random
import sys

import yaml
from packaging.version import InvalidVersion, Version

from osv_reference import affected

root = sys.argv[1]
random.seed(440)
entries = []
for path in sorted(glob.glob(os.path.join(root, "vulns", "**", "*.yaml"), recursive=True)):
    record = yaml.safe_load(open(path))
    for a in record.get("affected") or []:
        if a["package"]["ecosystem"] != "PyPI":
            continue
        entries.append((os.path.relpath(path, root), {"ranges": a.get("ranges", []), "versions": a.get("versions", [])}))


def events(a):
    return [e for r in a["ranges"] if r["type"] == "ECOSYSTEM" for e in r["events"]]


def n_events(a):
    return max([len(r["events"]) for r in a["ranges"] if r["type"] == "ECOSYSTEM"] or [0])


last = [e for e in entries if any("last_affected" in ev for ev in events(e[1]))]
many = [e for e in entries if e not in last and n_events(e[1]) > 2]
rest = [e for e in entries if e not in last and e not in many]
for path, a in last + random.sample(many, 150) + random.sample(rest, 60):
    candidates = set(a["versions"])
    for event in events(a):
        (_, version), = event.items()
        candidates.add(version)
        for suffix in [".dev0", "rc1", ".post1", "+local", ".0.1", "a1"]:
            candidates.add(version + suffix)
    valid = []
    for candidate in sorted(candidates):
        try:
            Version(candidate)
        except InvalidVersion:
            continue
        valid.append(candidate)
    random.shuffle(valid)
    cases = [[v, affected(a, v)] for v in valid[:30]]
    print(json.dumps({"advisory": path, "affected": a, "cases": cases}, separators=(",", ":")))

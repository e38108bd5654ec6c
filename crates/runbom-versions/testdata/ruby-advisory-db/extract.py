"""Extracts requirements.json from rubysec/ruby-advisory-db @ 8cfcc07c: for every advisory
under gems/, its path, `patched_versions` and `unaffected_versions`, unchanged.

    python3 extract.py ../../../../../shared/data/ruby-advisory-db > requirements.json
"""
import glob
import json
import os
import sys

import yaml

root = sys.argv[1]
rows = []
for path in sorted(glob.glob(os.path.join(root, "gems", "*", "*.yml"))):
    record = yaml.safe_load(open(path))
    rows.append({
        "advisory": os.path.relpath(path, root),
        "patched": record.get("patched_versions") or [],
        "unaffected": record.get("unaffected_versions") or [],
    })
json.dump(rows, sys.stdout, indent=0)

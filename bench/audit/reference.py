"""bench/audit's peer: a straightforward audit of one site-packages directory against the PyPA
advisory database (OSV YAML) with Python `packaging`, the OSV IsVulnerable pseudocode for
ECOSYSTEM ranges plus the explicit `versions` list. Prints the number of (distribution, advisory)
matches.

    python3 reference.py ADVISORY_DIR SITE_PACKAGES [CACHE.pickle]

With CACHE, the parsed advisories are pickled on the first run and loaded after (the "warm" run,
comparable to runbom's store); without it every run parses the YAML.
"""
import glob
import importlib.metadata
import os
import pickle
import re
import sys

import yaml

try:
    from packaging.version import InvalidVersion, Version
except ImportError:  # pip's vendored copy: no download needed
    from pip._vendor.packaging.version import InvalidVersion, Version

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text):
    try:
        return Version(text)
    except InvalidVersion:
        return None


def load(directory):
    index = {}
    for path in glob.glob(os.path.join(directory, "**", "*.yaml"), recursive=True):
        with open(path, encoding="utf-8") as f:
            record = yaml.load(f, Loader=LOADER)
        if record.get("withdrawn"):
            continue
        for affected in record.get("affected", []):
            package = affected.get("package", {})
            if package.get("ecosystem") == "PyPI":
                index.setdefault(canonical(package["name"]), []).append((record["id"], affected))
    return index


def in_range(version, rng):
    if rng.get("type") != "ECOSYSTEM":
        return False
    events = []
    for event in rng.get("events", []):
        ((kind, text),) = event.items()
        point = Version("0") if (kind == "introduced" and str(text) == "0") else parse(str(text))
        if point is None:
            return False
        events.append((point, kind))
    events.sort(key=lambda e: e[0])
    affected = False
    for point, kind in events:
        if kind == "introduced" and version >= point:
            affected = True
        elif kind == "fixed" and version >= point:
            affected = False
        elif kind == "last_affected" and version > point:
            affected = False
    return affected


def main():
    directory, site = sys.argv[1], sys.argv[2]
    cache = sys.argv[3] if len(sys.argv) > 3 else None
    if cache and os.path.exists(cache):
        with open(cache, "rb") as f:
            index = pickle.load(f)
    else:
        index = load(directory)
        if cache:
            with open(cache, "wb") as f:
                pickle.dump(index, f)
    matches = 0
    for dist in importlib.metadata.distributions(path=[site]):
        name, text = canonical(dist.metadata["Name"]), dist.version
        version = parse(text)
        if version is None:
            continue
        for _id, affected in index.get(name, []):
            listed = text in [str(v) for v in affected.get("versions", [])]
            if listed or any(in_range(version, r) for r in affected.get("ranges", [])):
                matches += 1
    print(matches)


if __name__ == "__main__":
    main()

"""Expected findings for envs/*: which advisories in advisories/ affect each installed
distribution, computed without runbom, by the OSV schema's IsVulnerable pseudocode over Python
`packaging`'s PEP 440 order. Records whose ids overlap are one finding; `fixed` is, per record,
the lowest `fixed` event above the version that the record does not affect, and the highest of
those over the merged records.

    python -m pip install packaging pyyaml
    python expected_findings.py > expected-findings.json
"""
import email.parser
import glob
import json
import os
import re
import sys

import yaml

try:
    import packaging
    from packaging.version import InvalidVersion, Version
except ImportError:  # pip's vendored copy: the same PEP 440 order, no download needed
    from pip._vendor import packaging
    from pip._vendor.packaging.version import InvalidVersion, Version

HERE = os.path.dirname(os.path.abspath(__file__))


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def version(text):
    try:
        return Version(text)
    except InvalidVersion:
        return None


def in_range(v, rng):
    """IsVulnerable for one range; None when the range cannot be evaluated."""
    if rng["type"] != "ECOSYSTEM":
        return None
    events = []
    for event in rng.get("events", []):
        ((kind, text),) = event.items()
        if kind == "introduced" and text == "0":
            point = (0, Version("0"))
        elif kind == "limit" and text == "*":
            point = (2, Version("0"))
        else:
            parsed = version(text)
            if parsed is None:
                return None
            point = (1, parsed)
        order = {"introduced": 0, "fixed": 1, "last_affected": 1, "limit": 2}[kind]
        events.append((point, order, kind))
    events.sort(key=lambda e: (e[0], e[1]))

    def below_or_at(point, strictly=False):
        tier, at = point
        if tier == 0:
            return True
        if tier == 2:
            return False
        return at < v if strictly else at <= v

    limits = [e for e in events if e[2] == "limit"]
    if limits and all(below_or_at(e[0]) for e in limits):
        return False
    affected = False
    for point, _, kind in events:
        if kind == "introduced" and below_or_at(point):
            affected = True
        elif kind == "fixed" and below_or_at(point):
            affected = False
        elif kind == "last_affected" and below_or_at(point, strictly=True):
            affected = False
    return affected


def is_affected(entry, text):
    v = version(text)
    for listed in entry.get("versions") or []:
        parsed = version(str(listed))
        if (parsed == v) if parsed is not None else str(listed) == text:
            return True
    return any(in_range(v, r) for r in entry.get("ranges") or [])


def lowest_fix(entry, text):
    v = version(text)
    fixes = sorted(
        (version(str(e["fixed"])), str(e["fixed"]))
        for r in entry.get("ranges") or []
        if r["type"] == "ECOSYSTEM"
        for e in r.get("events", [])
        if "fixed" in e and version(str(e["fixed"])) is not None and version(str(e["fixed"])) > v
    )
    for _, fix in fixes:
        if not is_affected(entry, fix):
            return fix
    return None


def advisories():
    for path in sorted(glob.glob(os.path.join(HERE, "advisories", "*", "*.yaml"))):
        with open(path) as f:
            yield yaml.safe_load(f)


def installed(env):
    parser = email.parser.HeaderParser()
    for metadata in sorted(glob.glob(os.path.join(HERE, "envs", env, "site-packages", "*.dist-info", "METADATA"))):
        with open(metadata) as f:
            headers = parser.parse(f)
        yield normalize(headers["Name"]), headers["Version"]


def findings(env, records):
    out = []
    for name, ver in installed(env):
        hits = []
        for record in records:
            if record.get("withdrawn"):
                continue
            for entry in record.get("affected") or []:
                package = entry.get("package") or {}
                if package.get("ecosystem") != "PyPI" or normalize(package["name"]) != name:
                    continue
                if is_affected(entry, ver):
                    ids = {record["id"], *record.get("aliases", [])}
                    hits.append((ids, lowest_fix(entry, ver)))
        groups = []
        for ids, fix in hits:
            merged_ids, fixes = set(ids), [fix]
            for group in [g for g in groups if g[0] & ids]:
                groups.remove(group)
                merged_ids |= group[0]
                fixes += group[1]
            groups.append((merged_ids, fixes))
        for ids, fixes in groups:
            fixes = [f for f in fixes if f is not None]
            fixed = max(fixes, key=Version) if fixes else None
            out.append({"package": name, "version": ver, "ids": sorted(ids), "fixed": fixed})
    return sorted(out, key=lambda f: (f["package"], f["ids"]))


records = list(advisories())
json.dump(
    {
        "generator": f"expected_findings.py, packaging {packaging.__version__}",
        "envs": {env: findings(env, records) for env in ("main", "edge")},
    },
    sys.stdout,
    indent=1,
)
sys.stdout.write("\n")

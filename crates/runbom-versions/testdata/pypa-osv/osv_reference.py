"""Reference OSV IsVulnerable for PyPI using packaging's Version order (spec pseudocode)."""
import json, sys
from packaging.version import Version, InvalidVersion

def parse(s):
    try: return Version(s)
    except InvalidVersion: return None

def in_range(v, r):
    if r["type"] not in ("ECOSYSTEM", "SEMVER"): return None
    evs = []
    for e in r.get("events", []):
        (k, s), = e.items()
        if k == "introduced" and s == "0": key = (0, None)
        elif k == "limit" and "*" in s: key = (2, None)
        else:
            p = parse(s)
            if p is None: return None  # skipped range
            key = (1, p)
        evs.append((key, {"introduced":0,"fixed":1,"last_affected":1,"limit":2}[k], k, key))
    def sk(x):
        key = x[0]
        return (key[0], key[1] if key[1] is not None else Version("0")), x[1]
    evs.sort(key=sk)
    def cmpv(key):  # compare event point with v: returns -1 if point < v, 0, 1
        if key[0] == 0: return -1
        if key[0] == 2: return 1
        p = key[1]
        return -1 if p < v else (0 if p == v else 1)
    limits = [e for e in evs if e[2] == "limit"]
    if limits and not any(cmpv(e[3]) > 0 for e in limits): return False
    vuln = False
    for e in evs:
        c = cmpv(e[3])
        if e[2] == "introduced" and c <= 0: vuln = True
        elif e[2] == "fixed" and c <= 0: vuln = False
        elif e[2] == "last_affected" and c < 0: vuln = False
    return vuln

def affected(a, s):
    v = parse(s)
    if any((parse(x) == v) if parse(x) is not None else x == s for x in a.get("versions", [])): return True
    return any(in_range(v, r) for r in a.get("ranges", []))

if __name__ == "__main__":  # pragma: no cover
    for line in sys.stdin:
        row = json.loads(line)
        print(json.dumps({"affected": affected(row["affected"], row["version"])}))

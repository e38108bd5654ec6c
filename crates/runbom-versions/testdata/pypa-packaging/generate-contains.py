"""Generates packaging-contains.tsv: `SpecifierSet(spec).contains(version)` (default
prereleases=None) as computed by Python's `packaging`, over the specifier and version lists
that packaging's own tests use (test_specifiers.tables.json, test_version.tables.json) plus a
few extra corners. Run once with packaging 26.3:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install packaging==26.3
    /tmp/venv/bin/python generate-contains.py > packaging-contains.tsv
"""
import json

import packaging
from packaging.specifiers import SpecifierSet

specs_tables = json.load(open("test_specifiers.tables.json"))
version_tables = json.load(open("test_version.tables.json"))
lists = specs_tables["module_level_lists"]

extra_specs = [
    "<2", "<2.0", "<2.0rc1", "<=2.0", ">2.0", ">2.0.dev1", ">2.0a1", ">=2.0.dev0", "~=2.0",
    "~=2.0.post1", "~=1!2.0", "==2.*", "!=2.*", "==2.0.*", "==1!2.*", "==2.0+local",
    "!=2.0+local", ">=1.0,<2.0", ">=1.0,!=1.5.*,<2.0", ">1.0.post1", "<1.0.post1",
    ">=0", "<0.dev0", "==0", "=== 1.0",
]
extra_versions = [
    "2", "2.0", "2.0.0", "2.0.dev0", "2.0a1", "2.0rc1", "2.0+local", "2.0.post1",
    "2.0.post1.dev0", "2.1.dev0", "1!2.0", "1.5", "1.5.1", "1.9.9", "3.0.dev0", "0",
    "0.dev0", "1.0.post1+local", "v2.0", "2.0-1", "2.0.0.0.0", "1.0.1a1",
]

specs = list(dict.fromkeys(lists["SPECIFIERS"] + lists["_EQUIV_SPECS"] + extra_specs))
versions = list(dict.fromkeys(version_tables["module_level_lists"]["VERSIONS"]
                              + lists["_EQUIV_ITEMS"] + extra_versions))

print(f"# packaging {packaging.__version__}: spec<TAB>version<TAB>SpecifierSet(spec).contains(version)")
for spec in specs:
    s = SpecifierSet(spec)
    for version in versions:
        print(f"{spec}\t{version}\t{str(s.contains(version)).lower()}")

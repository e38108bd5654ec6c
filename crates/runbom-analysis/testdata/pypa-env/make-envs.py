"""Writes envs/*/site-packages: dist-info directories of real PyPI releases, laid out as pip
installs them (METADATA 2.1 headers, RECORD with sha256/size rows, INSTALLER, WHEEL,
top_level.txt). Module files are not written; RECORD lists them as the real wheels do.

    python3 make-envs.py
"""
import base64
import hashlib
import os

ENVS = {
    # Known-vulnerable old releases.
    "main": [
        ("PyYAML", "5.3", "yaml", ["yaml/__init__.py", "yaml/constructor.py", "yaml/loader.py", "_yaml.cpython-311-x86_64-linux-gnu.so"], "MIT"),
        ("Jinja2", "2.10", "jinja2", ["jinja2/__init__.py", "jinja2/sandbox.py", "jinja2/environment.py"], "BSD"),
        ("urllib3", "1.24.1", "urllib3", ["urllib3/__init__.py", "urllib3/poolmanager.py", "urllib3/util/retry.py"], "MIT"),
        ("requests", "2.19.0", "requests", ["requests/__init__.py", "requests/sessions.py", "requests/auth.py"], "Apache 2.0"),
        # A pre-release: Django fixes landed in 3.0 final and in 2.2.x/3.0.x.
        ("Django", "3.0rc1", "django", ["django/__init__.py", "django/db/models/__init__.py", "django/utils/text.py"], "BSD"),
        ("Beaker", "1.6.5", "beaker", ["beaker/__init__.py", "beaker/session.py"], "BSD"),
        # `last_affected: 1.11.0`.
        ("py", "1.11.0", "py", ["py/__init__.py", "py/_path/svnurl.py"], "MIT license"),
        # Clean: newer than every fix.
        ("certifi", "2024.8.30", "certifi", ["certifi/__init__.py", "certifi/cacert.pem"], "MPL-2.0"),
        ("idna", "3.10", "idna", ["idna/__init__.py", "idna/core.py"], None),
    ],
    # The corners of PEP 440.
    "edge": [
        # A post-release of an affected version is still below the next fix.
        ("Django", "2.2.post1", "django", ["django/__init__.py"], "BSD"),
        # The fix is itself a post-release (`fixed: 1.6.5.post1`).
        ("Beaker", "1.6.5.post1", "beaker", ["beaker/__init__.py"], "BSD"),
        # A local version sorts above its public version: above `last_affected: 1.11.0`.
        ("py", "1.11.0+deb1", "py", ["py/__init__.py"], "MIT license"),
        # ... and inside `introduced: 0, fixed: 1.24.2`.
        ("urllib3", "1.24.1+local.7", "urllib3", ["urllib3/__init__.py"], "MIT"),
        # An epoch sorts above every epoch-0 version: no range reaches it.
        ("Jinja2", "1!2.10", "jinja2", ["jinja2/__init__.py"], "BSD"),
        # A pre-release listed in an advisory's `versions` and below the fix `5.4`.
        ("PyYAML", "5.4b2", "yaml", ["yaml/__init__.py"], "MIT"),
        # A development release of the fix is still affected (`fixed: 2.20.0`).
        ("requests", "2.20.0.dev1", "requests", ["requests/__init__.py"], "Apache 2.0"),
    ],
}


def record_row(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def dist_info(site, name, version, top, files, license):
    folder = f"{name.replace('-', '_')}-{version}.dist-info"
    os.makedirs(os.path.join(site, folder), exist_ok=True)
    headers = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: {name} {version}",
        f"Home-page: https://pypi.org/project/{name}/",
    ]
    if license:
        headers.append(f"License: {license}")
    headers += ["Classifier: Programming Language :: Python :: 3", "Requires-Python: >=3.6", ""]
    meta = {
        "METADATA": ("\n".join(headers) + "\n").encode(),
        "INSTALLER": b"pip\n",
        "WHEEL": b"Wheel-Version: 1.0\nGenerator: bdist_wheel (0.34.2)\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n",
        "top_level.txt": f"{top}\n".encode(),
    }
    for file, data in meta.items():
        with open(os.path.join(site, folder, file), "wb") as out:
            out.write(data)
    rows = [record_row(f, f"# {f} of {name} {version}\n".encode()) for f in files]
    rows += [record_row(f"{folder}/{file}", data) for file, data in meta.items()]
    rows.append(f"{folder}/RECORD,,")
    with open(os.path.join(site, folder, "RECORD"), "w") as out:
        out.write("\n".join(rows) + "\n")


for env, dists in ENVS.items():
    site = os.path.join(os.path.dirname(os.path.abspath(__file__)), "envs", env, "site-packages")
    for dist in dists:
        dist_info(site, *dist)

"""The storefront `runbom demo` runs: a small service that prices a basket, prepares the
receipt's upload to a payment provider, and then stays up until its standard input closes.

It uses real third-party packages as services do (requests to build the upload, urllib3 and
idna for the provider's address, certifi for the CA bundle, chardet to sniff an imported
price list) and leaves `six` installed but never imported, so the demo shows a vulnerable
package in use, one installed and unused, and first-party code apart. Nothing leaves the
machine: the request is prepared, never sent.

When the demo's environment could not be built from PyPI, a missing package is skipped with
a note, so the service still runs on whatever the interpreter has.
"""

import importlib
import sys
import threading
import time

PROVIDER = "https://payments.bücher.example/v1/receipts"
PRICE_LIST = "sku;name;price\ntea-01;Assam tea 250 g;6.40\nmug-02;Stoneware mug;12.00\n"


def optional(name):
    """The module, or None with a note when this environment lacks it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        print("storefront: %s is not installed here, skipping it" % name, file=sys.stderr)
        return None


def price_basket():
    rows = [line.split(";") for line in PRICE_LIST.splitlines()[1:]]
    return sum(float(price) for _, _, price in rows), len(rows)


def prepare_upload(total, items):
    requests = optional("requests")
    urllib3 = optional("urllib3")
    idna = optional("idna")
    certifi = optional("certifi")
    chardet = optional("chardet")
    host = "payments.bücher.example"
    if idna is not None:
        host = idna.encode(host).decode("ascii")
    if urllib3 is not None:
        host = urllib3.util.parse_url(PROVIDER.replace("payments.bücher.example", host)).host
    if chardet is not None:
        chardet.detect(PRICE_LIST.encode("utf-8"))
    bundle = certifi.where() if certifi is not None else "(system CA bundle)"
    if requests is None:
        return "receipt for %d items, %.2f EUR, to %s" % (items, total, host)
    request = requests.Request(
        "POST", "https://%s/v1/receipts" % host, json={"total": round(total, 2), "items": items}
    ).prepare()
    return "receipt for %d items, %.2f EUR, prepared as %s %s (%d bytes, CA bundle %s)" % (
        items, total, request.method, request.url, len(request.body or b""), bundle
    )


def wait_for_stdin_to_close():
    """Runs until the demo that started this service goes away (its pipe closes)."""
    done = threading.Event()

    def watch():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            done.set()

    threading.Thread(target=watch, daemon=True).start()
    while not done.wait(1.0):
        time.sleep(0)


def main():
    total, items = price_basket()
    print(prepare_upload(total, items), flush=True)
    wait_for_stdin_to_close()


if __name__ == "__main__":
    main()

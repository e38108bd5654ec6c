"""A small shop back-end: loads a catalogue into SQLite, prices a basket, prints a receipt.

Standard library only, plus its own helper module (`shop_pricing.py`), so that on a fresh
machine `runbom run -- python3 examples/shop.py` shows the standard library and first-party
(unowned) code apart from any installed distribution.
"""

import argparse
import csv
import io
import json
import logging
import sqlite3
import sys
from datetime import date

from shop_pricing import Basket

CATALOGUE = """sku,name,price,vat
tea-01,Assam tea 250 g,6.40,0.055
mug-02,Stoneware mug,12.00,0.20
jam-03,Apricot jam 370 g,4.15,0.055
"""


def load_catalogue(db):
    db.execute("create table product (sku text primary key, name text, price text, vat text)")
    rows = csv.DictReader(io.StringIO(CATALOGUE))
    db.executemany("insert into product values (:sku, :name, :price, :vat)", rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the receipt as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

    db = sqlite3.connect(":memory:")
    load_catalogue(db)
    basket = Basket(db)
    basket.add("tea-01", 2)
    basket.add("mug-02", 1)
    basket.add("jam-03", 3)
    receipt = basket.receipt(date(2026, 11, 25))
    if args.json:
        json.dump(receipt, sys.stdout, indent=2)
        print()
    else:
        for line in receipt["lines"]:
            print(f"{line['quantity']} x {line['name']:<20} {line['total']:>8}")
        print(f"{'total (VAT included)':<24} {receipt['total']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

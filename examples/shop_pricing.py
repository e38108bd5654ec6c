"""Pricing for `shop.py`: exact decimal arithmetic, VAT included, rounded half-up to the cent."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


class Basket:
    def __init__(self, db):
        self.db = db
        self.items = []

    def add(self, sku, quantity):
        name, price, vat = self.db.execute(
            "select name, price, vat from product where sku = ?", (sku,)
        ).fetchone()
        self.items.append((name, Decimal(price), Decimal(vat), quantity))

    def receipt(self, day):
        lines = []
        total = Decimal(0)
        for name, price, vat, quantity in self.items:
            line_total = (price * (1 + vat) * quantity).quantize(CENT, ROUND_HALF_UP)
            total += line_total
            lines.append({"name": name, "quantity": quantity, "total": str(line_total)})
        return {"date": day.isoformat(), "lines": lines, "total": str(total)}

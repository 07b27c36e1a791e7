"""Hand-made order histories for the recommend tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd

D0 = dt.date(2024, 1, 1)


def lines_from(rows: list[tuple], *, prices: dict[str, int] | None = None,
               categories: dict[str, str] | None = None) -> pd.DataFrame:
    """Canonical-ish order lines from (customer, sku, day offset[, quantity]) tuples."""
    out = []
    for r in rows:
        cust, sku, day = r[0], r[1], r[2]
        qty = r[3] if len(r) > 3 else 1
        out.append({
            "customer_key": cust, "sku": sku, "order_date": pd.Timestamp(D0 + dt.timedelta(days=day)),
            "quantity": qty, "unit_price": (prices or {}).get(sku, 1000),
            "category": (categories or {}).get(sku, "drink"), "status": "ordered",
        })
    return pd.DataFrame(out)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)

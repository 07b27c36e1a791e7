"""Small hand-made order fixtures for the analytics tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ltvkit import Workspace


def lines(rows: list[dict]) -> pd.DataFrame:
    """Canonical order lines from short dicts (customer, when, amount …); one line per order unless line_no."""
    out = []
    for i, r in enumerate(rows):
        when = r["at"] if isinstance(r["at"], dt.datetime) else dt.datetime.fromisoformat(r["at"])
        amount = r.get("amount", 1000)
        qty = r.get("quantity", 1)
        out.append({
            "source": r.get("source", "shopify"),
            "order_id": r.get("order_id", f"o{i}"),
            "line_no": r.get("line_no", 1),
            "customer_key": r["c"],
            "ordered_at": when,
            "order_date": when.date(),
            "sku": r.get("sku", "A"),
            "category": r.get("category", "food"),
            "quantity": qty,
            "unit_price": amount // qty,
            "line_amount": amount,
            "shop_coupon": r.get("shop_coupon", 0),
            "mall_coupon": r.get("mall_coupon", 0),
            "points_used": r.get("points", 0),
            "point_rate": r.get("point_rate"),
            "shipping_fee": r.get("shipping_fee", 0),
            "cost": r.get("cost"),
            "channel": r.get("channel"),
            "status": r.get("status", "ordered"),
        })
    df = pd.DataFrame(out)
    df["cost"] = df["cost"].astype("Int64")
    df["point_rate"] = df["point_rate"].astype("Float64")
    df["channel"] = df["channel"].astype("string")
    return df


@pytest.fixture
def make_ws():
    opened = []

    def _make(rows: list[dict]) -> Workspace:
        ws = Workspace()
        ws.append_order_lines(lines(rows))
        opened.append(ws)
        return ws

    yield _make
    for ws in opened:
        ws.close()


SMALL_SHOP = [
    {"c": "a", "at": "2024-01-05 10:00", "amount": 1000, "channel": "ads"},
    {"c": "a", "at": "2024-01-20 10:00", "amount": 2000},
    {"c": "a", "at": "2024-03-01 10:00", "amount": 3000},
    {"c": "b", "at": "2024-01-10 10:00", "amount": 1000, "source": "rakuten", "points": 100, "channel": "search"},
    {"c": "c", "at": "2024-02-10 10:00", "amount": 5000, "channel": "ads"},
    {"c": "c", "at": "2025-02-10 10:00", "amount": 5000},
    {"c": "d", "at": "2025-02-10 10:00", "amount": 5000, "status": "cancelled"},
]


@pytest.fixture
def shop_file(tmp_path):
    """A workspace file with a small shop (for the CLI tests)."""
    path = tmp_path / "shop.duckdb"
    with Workspace(path) as ws:
        ws.append_order_lines(lines(SMALL_SHOP))
    return path

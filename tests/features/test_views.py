"""LTV-Lab views (features.views through the pipeline, ``ltv views``, the report's section)."""

import datetime as dt
import json

import pandas as pd
import pytest

from ltvkit import pipeline
from ltvkit.cli import main
from ltvkit.exceptions import InputError

AS_OF = dt.date(2025, 3, 1)

ROWS = [
    {"c": "a", "at": "2024-01-05 10:00", "amount": 1000, "sku": "SK-LOT-TR", "category": "skin"},
    {"c": "a", "at": "2024-02-05 10:00", "amount": 3000, "sku": "SK-LOT-150", "category": "skin"},
    {"c": "a", "at": "2025-02-05 10:00", "amount": 3000, "sku": "SK-LOT-150", "category": "skin"},
    {"c": "b", "at": "2024-01-10 10:00", "amount": 1000, "sku": "SK-LOT-TR", "category": "skin"},
    {"c": "c", "at": "2024-02-10 10:00", "amount": 5000, "sku": "FD-1", "category": "food"},
    {"c": "c", "at": "2025-02-10 10:00", "amount": 5000, "sku": "FD-1", "category": "food"},
]


def test_monthly_splits_new_and_repeat(make_ws):
    ws = make_ws(ROWS)
    m = pipeline.view(ws, AS_OF, "monthly").data.set_index("month")
    jan24, feb24, feb25 = (m.loc[pd.Timestamp(d)] for d in ("2024-01-01", "2024-02-01", "2025-02-01"))
    assert (jan24.f1_revenue, jan24.f2_revenue, jan24.f3plus_revenue) == (2000, 0, 0)
    assert (feb24.f1_revenue, feb24.f2_revenue) == (5000, 3000)
    assert (feb25.f2_revenue, feb25.f3plus_revenue) == (5000, 3000) and feb25.repeat_share == 1.0


def test_purchase_counts_and_ltv_by_first_product(make_ws):
    ws = make_ws(ROWS)
    p = pipeline.view(ws, AS_OF, "purchases").data.set_index("purchases")
    assert p.loc["1", "customers"] == 1 and p.loc["2", "customers"] == 1 and p.loc["3", "customers"] == 1
    f = pipeline.view(ws, AS_OF, "first_product").data.set_index("first_sku")
    # a: 1,000 + 3,000 within 365 days (the 2025 order is later); b: 1,000 -> mean 2,500; F2 within 365 days: a only
    assert f.loc["SK-LOT-TR", "new_customers"] == 2 and f.loc["SK-LOT-TR", "ltv_365d"] == pytest.approx(2500)
    assert f.loc["SK-LOT-TR", "f2_rate_365d"] == pytest.approx(0.5)
    c = pipeline.view(ws, AS_OF, "first_category").data.set_index("first_category")
    assert c.loc["food", "ltv_365d"] == pytest.approx(5000)


def test_upgrade_rate_from_trial(make_ws):
    ws = make_ws(ROWS)
    u = pipeline.view(ws, AS_OF, "upgrade").data.set_index("trial_sku")
    assert u.loc["SK-LOT-TR", "trial_customers"] == 2 and u.loc["SK-LOT-TR", "upgraded"] == 1
    assert u.loc["SK-LOT-TR", "upgrade_rate"] == pytest.approx(0.5)


def test_year_over_year(make_ws):
    ws = make_ws(ROWS)
    y = pipeline.view(ws, AS_OF, "yoy").data.set_index("month")
    feb = y.loc[pd.Timestamp("2025-02-01")]
    assert feb.revenue == 8000 and feb.revenue_prev_year == 8000 and feb.revenue_yoy == pytest.approx(0.0)
    with pytest.raises(InputError):
        pipeline.view(ws, AS_OF, "colour")


def test_subscription_continuation(make_ws):
    from ltvkit import Workspace

    lines = make_ws.__globals__["lines"]  # the fixtures' line builder (tests/features/conftest.py)

    df = lines([{"c": c, "at": f"2024-0{k}-01 10:00"} for c, n in (("x", 3), ("y", 1)) for k in range(1, n + 1)])
    df["subscription_id"] = df["customer_key"].map({"x": "S1", "y": "S2"})
    df["delivery_count"] = df.groupby("customer_key").cumcount() + 1
    with Workspace() as ws:
        ws.append_order_lines(df)
        s = pipeline.view(ws, AS_OF, "subscription").data.set_index("delivery")
    assert list(s["subscriptions"]) == [2, 1, 1] and s.loc[2, "continuation_rate"] == pytest.approx(0.5)


def test_views_command(shop_file, capsys):
    assert main(["views", "monthly", "-w", str(shop_file), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {"f1_revenue", "f2_revenue", "f3plus_revenue"} <= set(rows[0])
    assert main(["views", "purchases", "-w", str(shop_file)]) == 0
    assert "購入回数" in capsys.readouterr().out

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from ltvkit import Workspace
from ltvkit.calendar import CampaignCalendar
from ltvkit.features import acquisition_comparison, point_dependence, point_segment_summary
from ltvkit.synth import generate_shop

# Rakuten campaign only on the 5th: in January 2025 the base rate is 24 of 744 hours = 1/31.
CAL = CampaignCalendar.from_dict({"rules": [{"mall": "rakuten", "name": "5th", "days": [5]}]})
ROWS = [
    {"c": "P", "at": "2025-01-05 10:00", "amount": 10_000, "source": "rakuten", "points": 2000},
    {"c": "P", "at": "2025-01-05 21:00", "amount": 5000, "source": "rakuten", "points": 1000},
    {"c": "L", "at": "2025-01-01 09:00", "amount": 3000, "source": "rakuten"},
    {"c": "L", "at": "2025-01-31 09:00", "amount": 3000, "source": "rakuten"},
    {"c": "S", "at": "2025-01-05 09:00", "amount": 3000, "source": "shopify"},
    {"c": "M", "at": "2025-01-05 09:00", "amount": 3000, "source": "rakuten"},
]


def test_point_dependence_by_hand(make_ws):
    ws = make_ws(ROWS)
    s = point_dependence(ws.orders(), dt.date(2025, 1, 31), calendar=CAL).to_pandas().set_index("customer_key")
    assert s.loc["P", "base_rate"] == pytest.approx(1 / 31)
    assert s.loc["P", "campaign_share"] == 1.0
    assert s.loc["P", "campaign_excess"] == pytest.approx(0.5)  # full excess × 2 / (2 + 2)
    assert s.loc["P", "points_share"] == pytest.approx(0.2)
    # 0.45 × 0.5 + 0.25 × 1 + 0.15 × 1 + 0.15 × (0.2 / 0.3)
    assert s.loc["P", "point_dependence_score"] == pytest.approx(0.725)
    assert s.loc["M", "point_dependence_score"] == pytest.approx(0.45 / 3 + 0.15)
    assert s.loc["L", "point_dependence_score"] == 0.0
    assert s.loc["S", "base_rate"] == 0.0 and not s.loc["S", "first_in_campaign"]  # own site: no campaigns
    assert s.point_segment.to_dict() == {"P": "point_driven", "M": "mixed", "L": "loyal", "S": "loyal"}
    summary = point_segment_summary(point_dependence(ws.orders(), dt.date(2025, 1, 31), calendar=CAL))
    assert summary.point_segment.tolist() == ["point_driven", "mixed", "loyal"]
    assert summary.customers.tolist() == [1, 1, 2]


def test_point_acquired_vs_organic_confidence_intervals(make_ws):
    rows = [
        {"c": "p1", "at": "2024-01-05 10:00", "amount": 1000, "source": "rakuten"},  # campaign day
        {"c": "p2", "at": "2024-01-06 10:00", "amount": 2000, "mall_coupon": 100, "source": "rakuten"},
        {"c": "p2", "at": "2024-03-06 10:00", "amount": 2000, "source": "rakuten"},
        {"c": "o1", "at": "2024-01-07 10:00", "amount": 3000},
        {"c": "o2", "at": "2024-01-08 10:00", "amount": 4000},
        {"c": "o2", "at": "2024-02-08 10:00", "amount": 1000},
        {"c": "o3", "at": "2024-01-09 10:00", "amount": 1000},
    ]
    ws = make_ws(rows)
    out = acquisition_comparison(ws.orders(), dt.date(2025, 1, 31), calendar=CAL)
    r = out[(out.metric == "retention") & (out.horizon == "12m")].set_index("group")
    assert r.loc["point_acquired", "value"] == 0.5 and r.loc["organic", "value"] == pytest.approx(1 / 3)
    sd = np.std([1.0, 0.0, 0.0], ddof=1)
    assert r.loc["organic", "ci_high"] == pytest.approx(1 / 3 + 1.96 * sd / math.sqrt(3))
    m = out[(out.metric == "margin_ltv") & (out.horizon == "12m")].set_index("group")
    # own-site margin 57 %; Rakuten: 40 % cost, 1 % granted points, 3 % of what was paid, 7 % mall fee
    p1 = 1000 - 400 - 10 - 30 - 70
    p2 = (2000 - 800 - 20 - 57 - 140) + (2000 - 800 - 20 - 60 - 140)
    assert m.loc["point_acquired", "value"] == pytest.approx((p1 + p2) / 2)
    assert m.loc["organic", "value"] == pytest.approx(0.57 * (3000 + 5000 + 1000) / 3)
    assert set(out.horizon) == {"12m"}  # nobody has been observed for 24 months


def test_score_separates_point_driven_from_loyal_customers():
    """Cross-check on the synthetic shop, whose truth says which customers are point-driven."""
    shop = generate_shop(customers=1200, seed=7)
    ws = Workspace()
    ws.append_order_lines(shop.order_lines)
    s = point_dependence(ws.orders(), shop.observation_end, calendar=shop.calendar).to_pandas()
    ws.close()
    m = s.merge(shop.truth[["customer_key", "type"]], on="customer_key")
    y = (m["type"] == "point_driven").to_numpy()
    x = m["point_dependence_score"].to_numpy()
    ranks = rankdata(x)  # average ranks: ties count one half
    auc = (ranks[y].sum() - y.sum() * (y.sum() + 1) / 2) / (y.sum() * (~y).sum())
    assert auc > 0.8
    assert m[m["type"] == "point_driven"]["point_segment"].eq("point_driven").mean() > \
        m[m["type"] == "loyal"]["point_segment"].eq("point_driven").mean()


def test_point_ltv_curves_equal_a_plain_per_customer_computation():
    """The engine's per-group means and deviations against numpy over one row per customer (from the order
    table), on a synthetic shop with point-acquired and organic customers observed for different spans."""
    from ltvkit.features._orders import order_table
    from ltvkit.features.points import point_ltv_curves

    shop = generate_shop(customers=600, seed=5)
    with Workspace() as ws:
        ws.append_order_lines(shop.order_lines)
        as_of = shop.observation_end
        got = point_ltv_curves(ws.orders(), as_of, step=30, steps=12)
        o = order_table(ws.orders(), as_of=as_of).to_pandas()
    o = o.sort_values(["customer_key", "ordered_at", "source", "order_id"])
    first = o.groupby("customer_key").head(1).set_index("customer_key")
    acquired = first["in_campaign"] | (first[["points_used", "mall_coupon", "shop_coupon"]].sum(axis=1) > 0)
    o["days"] = (pd.to_datetime(o["order_date"]) - pd.to_datetime(o["customer_key"].map(first["order_date"]))).dt.days
    o["idx"] = o["days"] // 30
    per = o[o["idx"] < 12].pivot_table(index="customer_key", columns="idx", values="margin", aggfunc="sum")
    per = per.reindex(columns=range(12)).fillna(0).cumsum(axis=1)
    observed = (pd.Timestamp(as_of) - pd.to_datetime(first["order_date"])).dt.days.reindex(per.index)
    group = acquired.reindex(per.index).map({True: "point_acquired", False: "organic"})
    assert set(group) == {"point_acquired", "organic"}
    rows = []
    for g in ("point_acquired", "organic"):
        for k in range(12):
            vals = per.loc[(group == g) & (observed >= (k + 1) * 30 - 1), k].to_numpy(float)
            if len(vals) >= 2:
                half = 1.96 * vals.std(ddof=1) / math.sqrt(len(vals))
                rows.append((g, (k + 1) * 30, len(vals), vals.mean(), vals.mean() - half, vals.mean() + half))
    want = pd.DataFrame(rows, columns=["group", "days", "customers", "margin_ltv", "ci_low", "ci_high"])
    assert len(want) > 12  # both groups, several periods
    assert got[["group", "days", "customers"]].equals(want[["group", "days", "customers"]])
    np.testing.assert_allclose(got[["margin_ltv", "ci_low", "ci_high"]].to_numpy(float),
                               want[["margin_ltv", "ci_low", "ci_high"]].to_numpy(float), rtol=1e-9)

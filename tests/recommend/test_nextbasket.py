from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rechelp import day, lines_from

from ltvkit import Workspace
from ltvkit.exceptions import InputError, MissingDataError, NotFittedError
from ltvkit.pipeline import recommend_workspace
from ltvkit.recommend import NextBasketRecommender


def _shop() -> pd.DataFrame:
    rows = []
    # "tea" is a 30-day staple of r1; r2 bought tea long ago and stopped
    rows += [("r1", "tea", d) for d in (0, 30, 60, 90)]
    rows += [("r2", "tea", 0), ("r2", "tea", 30), ("r2", "cake", 100)]
    # cross-sell: buyers of "coffee" buy "filter" within a week
    for n in range(6):
        rows += [(f"x{n}", "coffee", 10 + n), (f"x{n}", "filter", 14 + n)]
    rows += [("t", "coffee", 118)]  # t just bought coffee
    # cold start: first orders with "lotion" (skin) are followed by "milk" (skin)
    for n in range(5):
        rows += [(f"s{n}", "lotion", 5 + n), (f"s{n}", "milk", 40 + n)]
    rows += [("new", "lotion", 115)]
    cats = {"tea": "drink", "coffee": "drink", "filter": "goods", "cake": "food", "lotion": "skin", "milk": "skin"}
    return lines_from(rows, categories=cats)


@pytest.fixture(scope="module")
def fitted():
    return NextBasketRecommender(horizon_days=30, neighbor_pool=50).fit(_shop(), as_of=day(120))


def test_fit_returns_self_and_learns_underscore_attributes(fitted):
    assert isinstance(fitted, NextBasketRecommender)
    assert fitted.as_of_ == day(120) and fitted.n_customers_ == 15
    assert fitted.copurchase_.shape == (6, 6)
    assert NextBasketRecommender().horizon_days == 60  # __init__ only stores settings


def test_due_staple_comes_first_with_repurchase_reason(fitted):
    rec = fitted.recommend(k=3, lang="en")
    r1 = rec[rec.customer_key == "r1"].iloc[0]
    assert r1["sku"] == "tea" and r1["rank"] == 1 and r1["reason_code"] == "repurchase_due"
    assert r1["reason"].startswith("Repurchase due")
    # r2 stopped buying tea 90 days ago: tea is not a due re-buy for r2
    r2 = rec[(rec.customer_key == "r2") & (rec.sku == "tea")]
    assert r2.empty or r2["reason_code"].iloc[0] != "repurchase_due"
    # r1's tea is scored above r2's tea
    full = fitted.recommend(k=6)
    s1 = full[(full.customer_key == "r1") & (full.sku == "tea")]["score"].iloc[0]
    s2 = full[(full.customer_key == "r2") & (full.sku == "tea")]["score"]
    assert s2.empty or s1 > s2.iloc[0]


def test_cross_sell_names_the_trigger_item(fitted):
    rec = fitted.recommend(k=2, lang="ja")
    t = rec[rec.customer_key == "t"].iloc[0]
    assert t["sku"] == "filter" and t["reason_code"] == "bought_together" and t["related_sku"] == "coffee"
    assert t["reason"] == "「coffee」と一緒に購入されています"


def test_cold_start_follows_first_buyers_of_the_category(fitted):
    rec = fitted.recommend(k=2, lang="en")
    n = rec[rec.customer_key == "new"]
    assert "milk" in n["sku"].tolist()
    assert fitted.category_next_[list(fitted._categories).index("skin"), list(fitted._items).index("milk")] == 1.0


def test_output_shape_ranks_and_filters(fitted):
    rec = fitted.recommend(k=4)
    assert list(rec.columns[:5]) == ["customer_key", "rank", "sku", "score", "reason"]
    for _, g in rec.groupby("customer_key"):
        assert g["rank"].tolist() == list(range(1, len(g) + 1))
        assert np.all(np.diff(g["score"].to_numpy()) <= 1e-9)
        assert g["sku"].is_unique
    only = fitted.recommend(k=2, customers=["t", "nobody"])
    assert set(only.customer_key) == {"t"}


def test_errors():
    with pytest.raises(NotFittedError):
        NextBasketRecommender().recommend()
    m = NextBasketRecommender().fit(_shop())
    with pytest.raises(InputError, match="k must be"):
        m.recommend(k=0)
    with pytest.raises(InputError, match="language"):
        m.recommend(lang="fr")
    with pytest.raises(MissingDataError, match="later --as-of"):
        NextBasketRecommender().fit(_shop(), as_of="2000-01-01")
    with pytest.raises(InputError, match="customer_key"):
        NextBasketRecommender().fit(pd.DataFrame({"sku": ["a"], "order_date": [pd.Timestamp("2024-01-01")]}))


def test_workspace_ibis_input_matches_pandas_and_is_stored():
    df = _shop()
    ws = Workspace()
    canon = df.assign(source="t", order_id=[f"o{i}" for i in range(len(df))], line_no=1,
                      ordered_at=df["order_date"], line_amount=df["unit_price"], shop_coupon=0, mall_coupon=0,
                      points_used=0, shipping_fee=0)
    canon = pd.concat([canon, canon.iloc[:1].assign(order_id="cx", status="cancelled", sku="cake")])
    ws.append_order_lines(canon.drop(columns=["order_date"]))
    out = recommend_workspace(ws, as_of=day(120), k=3, horizon_days=30)
    ref = NextBasketRecommender(horizon_days=30).fit(df, as_of=day(120)).recommend(k=3)
    pd.testing.assert_frame_equal(out.reset_index(drop=True), ref.reset_index(drop=True))
    stored = ws.read_result("recommendations").to_pandas()
    assert len(stored) == len(out) and set(stored.columns) >= {"customer_key", "rank", "sku", "score", "reason"}


def test_public_surface_is_listed():
    import inspect

    import ltvkit.recommend as rec

    public = {n for n, v in vars(rec).items() if not n.startswith("_") and not inspect.ismodule(v)}
    public -= {"annotations"}
    assert rec.__all__ == sorted(public, key=str.casefold)

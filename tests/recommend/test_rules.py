from __future__ import annotations

import pytest
from rechelp import lines_from

from ltvkit.exceptions import InputError
from ltvkit.recommend import association_rules, bundle_candidates, upsell_candidates

CATS = {"A": "skin", "B": "skin", "C": "food"}
PRICES = {"A": 1000, "B": 1500, "C": 500}
ROWS = [("c1", "A", 0), ("c1", "B", 0), ("c2", "A", 0), ("c2", "B", 5), ("c3", "A", 0), ("c4", "C", 0),
        ("c4", "B", 40)]


def test_item_rules_support_confidence_lift():
    r = association_rules(lines_from(ROWS, categories=CATS, prices=PRICES), window_days=30, min_customers=1,
                          min_lift=0).set_index(["antecedent", "consequent"])
    # A -> B: c1 (same day) and c2 (5 days later); 3 customers bought A, 3 bought B, 4 customers in all
    ab = r.loc[("A", "B")]
    assert ab["customers"] == 2
    assert ab["support"] == pytest.approx(2 / 4)
    assert ab["confidence"] == pytest.approx(2 / 3)
    assert ab["lift"] == pytest.approx((2 / 3) / (3 / 4))
    # B -> A only on the same day (c1)
    assert r.loc[("B", "A"), "customers"] == 1
    assert r.loc[("B", "A"), "confidence"] == pytest.approx(1 / 3)
    # C -> B is 40 days apart: outside a 30-day window, inside a 60-day one
    assert ("C", "B") not in r.index
    r60 = association_rules(lines_from(ROWS, categories=CATS), window_days=60, min_customers=1, min_lift=0)
    assert ((r60.antecedent == "C") & (r60.consequent == "B")).sum() == 1


def test_category_rules():
    r = association_rules(lines_from(ROWS, categories=CATS), level="category", window_days=60, min_customers=1,
                          min_lift=0).set_index(["antecedent", "consequent"])
    fs = r.loc[("food", "skin")]
    # c4 only; every customer bought skin care -> lift 1
    assert fs["customers"] == 1 and fs["confidence"] == 1.0 and fs["lift"] == pytest.approx(1.0)
    assert ("skin", "food") not in r.index


def test_thresholds_and_bad_level():
    df = lines_from(ROWS, categories=CATS)
    assert association_rules(df, min_customers=3, min_lift=0).empty
    with pytest.raises(InputError, match="level"):
        association_rules(df, level="brand")


def test_upsell_is_higher_priced_same_category_follow_up():
    u = upsell_candidates(lines_from(ROWS, categories=CATS, prices=PRICES), min_customers=1, min_lift=0)
    assert u[["sku", "upsell_sku"]].values.tolist() == [["A", "B"]]
    assert u.loc[0, "price_ratio"] == pytest.approx(1.5)
    assert u.loc[0, "confidence"] == pytest.approx(2 / 3)
    # a 60% price step is not met by B (+50%)
    assert upsell_candidates(lines_from(ROWS, categories=CATS, prices=PRICES), min_customers=1, min_lift=0,
                             min_price_step=0.6).empty


def test_bundles_count_baskets():
    rows = [("c1", "A", 0), ("c1", "B", 0), ("c2", "A", 0), ("c2", "B", 0), ("c2", "A", 9), ("c2", "B", 9),
            ("c3", "A", 0), ("c4", "C", 0), ("c5", "C", 1)]
    b = bundle_candidates(lines_from(rows, prices=PRICES), min_baskets=2, min_lift=1.0)
    assert b[["sku_a", "sku_b"]].values.tolist() == [["A", "B"]]
    row = b.iloc[0]
    # 6 baskets (customer-days); A in 4, B in 3, both in 3
    assert row["baskets"] == 3
    assert row["support"] == pytest.approx(3 / 6)
    assert row["confidence_ab"] == pytest.approx(3 / 4) and row["confidence_ba"] == pytest.approx(1.0)
    assert row["lift"] == pytest.approx(3 * 6 / (4 * 3))
    assert row["bundle_price"] == 2500

from __future__ import annotations

import math

import numpy as np
import pytest
from rechelp import day, lines_from

from ltvkit.exceptions import NotFittedError
from ltvkit.recommend import ReplenishmentModel


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


HIST = [("a", "tea", 0), ("a", "tea", 30), ("a", "tea", 60), ("b", "tea", 0), ("b", "tea", 20),
        ("a", "coffee", 10)]


def test_item_and_category_interval_distributions():
    m = ReplenishmentModel().fit(lines_from(HIST), as_of=day(75))
    tea = m.item_intervals_.set_index("sku").loc["tea"]
    # intervals 30, 30 (a) and 20 (b)
    assert tea["buyers"] == 2 and tea["repeat_buyers"] == 2 and tea["intervals"] == 3
    assert tea["median_days"] == 30 and tea["p25_days"] == 25 and tea["p75_days"] == 30
    assert tea["mean_days"] == pytest.approx(80 / 3)
    coffee = m.item_intervals_.set_index("sku").loc["coffee"]
    assert coffee["intervals"] == 0 and np.isnan(coffee["median_days"])
    # category "drink" for a: days 0, 10, 30, 60 -> 10, 20, 30; for b: 20
    drink = m.category_intervals_.set_index("category").loc["drink"]
    assert drink["intervals"] == 4 and drink["median_days"] == 20


def test_expected_interval_shrinks_towards_item_median():
    m = ReplenishmentModel(prior_intervals=1, category_prior_intervals=0).fit(lines_from(HIST), as_of=day(75))
    p = m.predict().set_index(["customer_key", "sku"])
    # a: own median 30 (2 intervals), item median 30 -> 30; due 60 + 30
    assert p.loc[("a", "tea"), "interval_days"] == 30
    assert p.loc[("a", "tea"), "due_date"] == day(90)
    assert p.loc[("a", "tea"), "days_until_due"] == 15
    # b: own 20 (1 interval) and item 30, weight 1:1 in logs -> sqrt(600) = 24.5; due 20 + 24
    assert p.loc[("b", "tea"), "interval_days"] == pytest.approx(math.sqrt(600), abs=0.05)
    assert p.loc[("b", "tea"), "due_date"] == day(44)
    assert p.loc[("a", "tea"), "purchases"] == 3 and p.loc[("a", "tea"), "last_purchase"] == day(60)


def test_quantity_stretches_the_interval():
    rows = HIST + [("c", "tea", 50, 2)]
    m = ReplenishmentModel(prior_intervals=1, category_prior_intervals=0).fit(lines_from(rows), as_of=day(75))
    p = m.predict().set_index(["customer_key", "sku"])
    # no own interval: item median 30 days per unit x 2 units
    assert p.loc[("c", "tea"), "interval_days"] == 60
    assert p.loc[("c", "tea"), "due_date"] == day(110)
    flat = ReplenishmentModel(prior_intervals=1, category_prior_intervals=0, per_unit=False)
    assert flat.fit(lines_from(rows), as_of=day(75)).predict().set_index(
        ["customer_key", "sku"]).loc[("c", "tea"), "interval_days"] == 30


def test_probability_within_k_days_hand_worked():
    # prior_customers=0: a customer who re-bought before is sure to re-buy (Q = 1); spread floored at 0.5
    m = ReplenishmentModel(prior_intervals=1, category_prior_intervals=0, prior_customers=0, min_log_sd=0.5)
    m.fit(lines_from(HIST), as_of=day(75))
    p = m.predict(within_days=30).set_index(["customer_key", "sku"]).loc[("a", "tea")]
    mu, sd, e = math.log(30), 0.5, 15
    f_e = _phi((math.log(e) - mu) / sd)
    f_k = _phi((math.log(e + 30) - mu) / sd)
    assert p["p_repurchase"] == pytest.approx(1.0)
    assert p["p_within"] == pytest.approx((f_k - f_e) / (1 - f_e), rel=1e-6)
    # conditional median of the next purchase given none in the 15 days since the last one
    from scipy.stats import norm

    t = math.exp(mu + sd * norm.ppf(f_e + (1 - f_e) / 2))
    assert p["next_need_date"] == day(60 + round(t))


def test_probability_is_monotone_and_lapsed_customers_are_unlikely():
    rows = HIST + [("d", "tea", 0), ("d", "tea", 30)]
    m = ReplenishmentModel().fit(lines_from(rows), as_of=day(400))
    p7 = m.predict(within_days=7).set_index(["customer_key", "sku"])["p_within"]
    p60 = m.predict(within_days=60).set_index(["customer_key", "sku"])["p_within"]
    assert (p60 >= p7 - 1e-12).all() and (p60 <= 1).all() and (p7 >= 0).all()
    # 370 days after a 30-day cycle: nearly no chance left
    assert p60[("d", "tea")] < 0.05
    fresh = ReplenishmentModel().fit(lines_from(rows), as_of=day(55)).predict(within_days=14)
    assert fresh.set_index(["customer_key", "sku"]).loc[("d", "tea"), "p_within"] > 0.5


def test_due_soon_list():
    rows = [("a", "tea", 0), ("a", "tea", 30), ("a", "tea", 60), ("b", "tea", 0), ("b", "tea", 30),
            ("b", "tea", 84)]
    m = ReplenishmentModel().fit(lines_from(rows), as_of=day(85))
    due = m.due_soon(within_days=14, min_probability=0.2)
    assert due["customer_key"].tolist() == ["a"]  # b just bought
    assert due.loc[0, "days_until_due"] == 5


def test_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted"):
        ReplenishmentModel().predict()

import datetime as dt
import doctest

import pytest

import ltvkit.features.ltv
import ltvkit.features.margin
from ltvkit.exceptions import InputError
from ltvkit.features import ltv_components, retention_ltv, shop_summary, textbook_ltv

AS_OF = dt.date(2025, 12, 31)


def test_textbook_example_and_retention_formula():
    assert textbook_ltv(1000, 5, 3) == 15_000
    assert retention_ltv(10_000, 0.5, 0.0) == pytest.approx(10_000)  # 10000 × 0.5 / 0.5
    assert retention_ltv(1710, 1 / 3, 0.1) == pytest.approx(570 / (1.1 - 1 / 3))
    with pytest.raises(InputError):
        retention_ltv(100, 1.5)
    with pytest.raises(InputError):
        textbook_ltv(-1, 1, 1)


@pytest.mark.parametrize("module", [ltvkit.features.ltv, ltvkit.features.margin])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_components_by_hand(make_ws):
    ws = make_ws([
        {"c": "a", "at": "2024-03-01 10:00", "amount": 1000},
        {"c": "a", "at": "2025-02-01 10:00", "amount": 2000},
        {"c": "a", "at": "2025-06-01 10:00", "amount": 3000},
        {"c": "b", "at": "2024-05-01 10:00", "amount": 4000},
        {"c": "c", "at": "2025-02-01 10:00", "amount": 1000},
        {"c": "d", "at": "2024-02-01 10:00", "amount": 2000},
        {"c": "d", "at": "2025-02-01 10:00", "amount": 2000, "status": "cancelled"},
        {"c": "e", "at": "2026-01-05 10:00", "amount": 9000},  # after as_of: ignored
    ])
    k = ltv_components(ws.orders(), AS_OF)
    # last year (2025): orders a, a, c -> 3 orders, 6000 yen, customers a and c
    assert k["aov"] == pytest.approx(2000)
    assert k["purchases_per_year"] == pytest.approx(1.5)
    # previous year (2024): a, b, d; only a came back
    assert k["retention_rate"] == pytest.approx(1 / 3)
    assert k["lifespan_years"] == pytest.approx(1.5)
    assert k["textbook_ltv"] == pytest.approx(2000 * 1.5 * 1.5)
    # own-site margin = 57 % of sales (40 % cost, 3 % payment fee)
    assert k["margin_per_customer_year"] == pytest.approx(0.57 * 6000 / 2)
    assert k["retention_ltv"] == pytest.approx(1710 * (1 / 3) / (1.1 - 1 / 3))
    # cohort acquired by 2024-12-31: a, b, d; a's second order is 337 days after the first
    assert k["f2_rate_365d"] == pytest.approx(1 / 3)
    assert k["annual_ltv_revenue"] == pytest.approx((1000 + 2000 + 4000 + 2000) / 3)
    assert (k["customers"], k["orders"], k["revenue"]) == (4, 6, 13_000)
    assert shop_summary(ws.orders(), AS_OF)["aov"] == k["aov"]


def test_as_of_defaults_to_last_order(make_ws):
    ws = make_ws([{"c": "a", "at": "2024-03-01 10:00"}, {"c": "a", "at": "2024-04-01 10:00"}])
    assert ltv_components(ws.orders())["as_of"] == dt.date(2024, 4, 1)

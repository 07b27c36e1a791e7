import datetime as dt

import pytest

from ltvkit.exceptions import InputError
from ltvkit.features import cohort_summary, cohort_table, f2_table, golden_time, pivot_cohorts

ROWS = [
    {"c": "a", "at": "2024-01-05 10:00", "amount": 1000, "channel": "ads", "points": 100},
    {"c": "a", "at": "2024-01-20 10:00", "amount": 2000, "channel": "line"},  # day 15
    {"c": "a", "at": "2024-03-01 10:00", "amount": 3000},  # day 56
    {"c": "b", "at": "2024-01-10 10:00", "amount": 1000, "channel": "search"},
    {"c": "c", "at": "2024-02-10 10:00", "amount": 5000, "channel": "ads", "category": "tea"},
    {"c": "c", "at": "2025-02-10 10:00", "amount": 5000},  # day 366
]


def _cell(t, cohort, period, segment="all"):
    sel = t[(t.segment == segment) & (t.cohort.astype(str).str[:10] == cohort) & (t.period == period)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_cohort_matrix_by_hand(make_ws):
    ws = make_ws(ROWS)
    t = cohort_table(ws.orders(), dt.date(2024, 4, 30))
    c = _cell(t, "2024-01-01", 30)
    assert (c.cohort_size, c.active_customers, c.orders, c.revenue) == (2, 2, 3, 4000)
    assert c.retention == 1.0
    # own-site margin: 57 % of sales; a's first order also pays its 100 own-site points (fee on 900 paid: 27)
    assert c.cum_margin_per_customer == pytest.approx((1000 - 400 - 100 - 27 + 1140 + 570) / 2)
    c = _cell(t, "2024-01-01", 60)
    assert (c.active_customers, c.orders, c.revenue, c.retention) == (1, 1, 3000, 0.5)
    assert c.cum_revenue_per_customer == pytest.approx(3500)
    assert bool(c.complete)
    # b (acquired Jan 10) has lived 111 days by Apr 30: the 120-day column is not complete yet
    c = _cell(t, "2024-01-01", 120)
    assert not bool(c.complete) and c.orders == 0
    assert t[t.cohort.astype(str).str[:10] == "2024-01-01"].period.max() == 120  # later periods not started


def test_calendar_month_columns(make_ws):
    ws = make_ws(ROWS)
    t = cohort_table(ws.orders(), dt.date(2025, 3, 31), period="months")
    jan = t[t.cohort.astype(str).str[:10] == "2024-01-01"].set_index("period")
    assert list(jan.loc[[0, 1, 2], "orders"]) == [3, 0, 1]
    feb = t[t.cohort.astype(str).str[:10] == "2024-02-01"].set_index("period")
    assert feb.loc[12, "active_customers"] == 1 and bool(feb.loc[12, "complete"])


def test_split_by_first_order_attribute(make_ws):
    ws = make_ws(ROWS)
    t = cohort_table(ws.orders(), dt.date(2024, 4, 30), split="channel")
    assert set(t.segment) == {"ads", "search"}  # a is acquired by ads although its second order came via line
    assert _cell(t, "2024-01-01", 30, "ads").orders == 2
    p = cohort_table(ws.orders(), dt.date(2024, 4, 30), split="points")
    assert _cell(p, "2024-01-01", 30, "points_or_coupon").cohort_size == 1
    cat = cohort_table(ws.orders(), dt.date(2024, 4, 30), split="first_category")
    assert set(cat.segment) == {"food", "tea"}
    with pytest.raises(InputError):
        cohort_table(ws.orders(), dt.date(2024, 4, 30), split="colour")


def test_weekly_cohorts_and_pivot(make_ws):
    ws = make_ws(ROWS)
    t = cohort_table(ws.orders(), dt.date(2025, 3, 31), by="week")
    assert sorted({str(c)[:10] for c in t.cohort}) == ["2024-01-01", "2024-01-08", "2024-02-05"]
    summary = cohort_summary(ws.orders(), dt.date(2025, 3, 31))
    jan = summary[summary.cohort.astype(str).str[:10] == "2024-01-01"].iloc[0]
    assert jan.margin_ltv_12m == pytest.approx((473 + 1140 + 1710 + 570) / 2)
    assert jan.margin_ltv_24m != jan.margin_ltv_24m  # not 24 months old yet: NaN
    feb = summary[summary.cohort.astype(str).str[:10] == "2024-02-01"].iloc[0]
    assert feb.margin_ltv_12m == pytest.approx(2850)  # day-366 order falls outside days 0–364
    wide = pivot_cohorts(cohort_table(ws.orders(), dt.date(2025, 3, 31)), "orders", summary)
    assert list(wide.columns[:4]) == ["cohort", "cohort_size", "30", "60"]
    assert "margin_ltv_12m" in wide.columns


def test_f2_f3_windows_by_hand(make_ws):
    ws = make_ws(ROWS)
    t = f2_table(ws.orders(), dt.date(2024, 2, 20), windows=(30, 60))
    jan = t[t.cohort.astype(str).str[:10] == "2024-01-01"].set_index("window_days")
    # a: 2nd on day 15, 3rd on day 56 (after the as_of); b: none. Both observed ≥ 30 days, neither 60.
    assert jan.loc[30, "f2_rate"] == 0.5 and jan.loc[30, "f3_rate_from_first"] == 0.0
    assert jan.loc[30, "f3_rate_step"] == 0.0
    assert jan.loc[60, "eligible"] == 0 and not bool(jan.loc[60, "complete"])
    t = f2_table(ws.orders(), dt.date(2024, 6, 30), windows=(30, 60))
    jan = t[t.cohort.astype(str).str[:10] == "2024-01-01"].set_index("window_days")
    assert (jan.loc[60, "f2_rate"], jan.loc[60, "f3_rate_from_first"], jan.loc[60, "f3_rate_step"]) == (0.5, 0.5, 1.0)


def test_golden_time_life_table(make_ws):
    start = dt.datetime(2024, 1, 1, 10)
    rows = []
    for i, d2 in enumerate([8, 10, 12, 40, None]):
        rows.append({"c": f"c{i}", "at": start})
        if d2 is not None:
            rows.append({"c": f"c{i}", "at": start + dt.timedelta(days=d2)})
    ws = make_ws(rows)
    table, gold = golden_time(ws.orders(), dt.date(2024, 4, 10), min_at_risk=1)  # observed 100 days
    b1 = table[table.bin_start == 7].iloc[0]
    assert (b1.at_risk, b1.second_purchases, b1.hazard) == (5, 3, 0.6)
    b5 = table[table.bin_start == 35].iloc[0]
    assert (b5.at_risk, b5.second_purchases, b5.hazard) == (2, 1, 0.5)
    g = gold.iloc[0]
    assert (g.golden_start, g.golden_end, g.customers, g.repeaters) == (7, 13, 5, 4)
    assert g.median_days_to_second == pytest.approx(11)


def test_the_median_day_of_the_second_order_from_counts_per_day():
    """The life table and the median come from one count per (category, exit bin, second-order day): the median
    is the middle day, or the mean of the two middle days, as the engines' ``median`` gives it."""
    import numpy as np
    import pandas as pd

    from ltvkit.features.cohorts import _second_order_stats

    def stats(days_counts, never=0):
        rows = [{"event": True, "d2": d, "n": n} for d, n in days_counts]
        rows.append({"event": False, "d2": None, "n": never})
        return _second_order_stats(pd.DataFrame(rows))

    for days_counts in ([(3, 1)], [(3, 2), (9, 1)], [(3, 2), (9, 2)], [(1, 1), (4, 3), (20, 1), (50, 2)],
                        [(5, 7), (6, 1)]):
        expanded = [d for d, n in days_counts for _ in range(n)]
        got = stats(days_counts, never=3)
        assert got["median_days_to_second"] == np.median(expanded)
        assert (got["customers"], got["repeaters"]) == (len(expanded) + 3, len(expanded))
    assert np.isnan(stats([], never=4)["median_days_to_second"]) and stats([], never=4)["repeaters"] == 0

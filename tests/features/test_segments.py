import datetime as dt

import pytest

from ltvkit.exceptions import InputError
from ltvkit.features import CpmSettings, pareto_table, segment_customers, segment_summary

AS_OF = dt.date(2025, 12, 31)


def _orders(c, n, last_days_ago, total, tenure=None, **kw):
    """n orders of equal amount, the last ``last_days_ago`` before AS_OF, spread over ``tenure`` days."""
    tenure = (n - 1) * 3 if tenure is None else tenure
    last = dt.datetime.combine(AS_OF, dt.time(12)) - dt.timedelta(days=last_days_ago)
    out = []
    for i in range(n):
        back = tenure - (tenure * i // (n - 1) if n > 1 else 0)
        out.append({"c": c, "at": last - dt.timedelta(days=back), "amount": total // n, **kw})
    return out


def test_rfm_quintiles_and_shopify_groups(make_ws):
    rows = (_orders("A", 5, 1, 50_000) + _orders("B", 1, 11, 1000) + _orders("C", 4, 100, 40_000)
            + _orders("D", 3, 200, 30_000) + _orders("E", 2, 400, 20_000)
            + _orders("F", 1, 50, 5000, status="cancelled"))
    ws = make_ws(rows)
    s = segment_customers(ws.orders(), AS_OF).to_pandas().set_index("customer_key")
    # five buyers with distinct values: percent ranks 0, .25, .5, .75, 1 give scores 1..5
    assert s.loc[["A", "B", "C", "D", "E"], "r_score"].tolist() == [5, 4, 3, 2, 1]
    assert s.loc[["A", "B", "C", "D", "E"], "f_score"].tolist() == [5, 1, 4, 3, 2]
    assert s.loc[["A", "B", "C", "D", "E"], "m_score"].tolist() == [5, 1, 4, 3, 2]
    assert s.segment.to_dict() == {"A": "Champions", "B": "Promising", "C": "Loyal", "D": "At risk",
                                   "E": "Dormant", "F": "Prospects"}
    summary = segment_summary(segment_customers(ws.orders(), AS_OF)).set_index("segment")
    assert summary.customers.sum() == 6
    assert summary.loc["Champions", "customer_share"] == pytest.approx(1 / 6)


def test_one_time_buyers_share_the_lowest_frequency_score(make_ws):
    ws = make_ws(_orders("A", 1, 1, 1000) + _orders("B", 1, 2, 2000) + _orders("C", 2, 3, 3000))
    s = segment_customers(ws.orders(), AS_OF).to_pandas().set_index("customer_key")
    assert s.loc[["A", "B", "C"], "f_score"].tolist() == [1, 1, 5]
    assert s.loc["A", "segment"] == "New"


def test_cpm_ten_segments(make_ws):
    rows = (_orders("first", 1, 100, 5000) + _orders("young", 2, 10, 10_000, tenure=30)
            + _orders("steady", 3, 20, 30_000, tenure=120) + _orders("trend", 2, 5, 80_000, tenure=150)
            + _orders("prime", 4, 300, 100_000, tenure=300) + _orders("gone", 1, 240, 3000))
    ws = make_ws(rows)
    s = segment_customers(ws.orders(), AS_OF, kind="cpm").to_pandas().set_index("customer_key").segment
    assert s.to_dict() == {"first": "初回現役", "young": "よちよち現役", "steady": "コツコツ現役", "trend": "流行現役",
                           "prime": "優良離脱", "gone": "初回離脱"}
    loose = segment_customers(ws.orders(), AS_OF, kind="cpm", cpm=CpmSettings(lapse_days=400, spend_yen=90_000))
    s = loose.to_pandas().set_index("customer_key").segment
    assert s["prime"] == "優良現役" and s["trend"] == "コツコツ現役"
    with pytest.raises(InputError):
        segment_customers(ws.orders(), AS_OF, kind="abc")


def test_pareto_share(make_ws):
    ws = make_ws(_orders("A", 1, 1, 6000) + _orders("B", 1, 1, 3000) + _orders("C", 1, 1, 1000))
    p = pareto_table(segment_customers(ws.orders(), AS_OF), shares=(1 / 3,))
    # margins 3420, 1710, 570 (57 %): the top third earns 60 %; two of three customers earn ≥ 80 %
    assert p.iloc[0].margin_share == pytest.approx(0.6)
    row80 = p[p.row == "margin_80"].iloc[0]
    assert row80.top_share == pytest.approx(2 / 3) and row80.margin_share == 0.8
    assert p.top_share.is_monotonic_increasing

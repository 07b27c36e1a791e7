import datetime as dt

import pandas as pd
import pytest

from ltvkit.exceptions import InputError
from ltvkit.features import cac_table, read_costs

ROWS = [
    {"c": "x", "at": "2024-01-01 10:00", "amount": 1000, "channel": "ads"},
    {"c": "x", "at": "2024-02-15 10:00", "amount": 2000, "channel": "line"},  # month 1 (day 45)
    {"c": "y", "at": "2024-01-10 10:00", "amount": 1000, "channel": "ads"},
    {"c": "z", "at": "2024-03-01 10:00", "amount": 1000, "channel": "line"},
]


def test_cac_by_hand(make_ws, tmp_path):
    ws = make_ws(ROWS)
    costs = tmp_path / "costs.csv"
    costs.write_text("channel,spend,cac\nads,1000,\nline,,2000\n", encoding="utf-8")
    t = cac_table(ws.orders(), read_costs(costs), dt.date(2025, 6, 30), profit_goal=0.3).set_index("channel")
    ads = t.loc["ads"]
    # x's second order came through line but x was acquired by ads; own-site margin = 57 %
    assert ads.new_customers == 2 and ads.cac == 500
    assert ads.margin_ltv == pytest.approx((570 + 1140 + 570) / 2) == ads.breakeven_cpa
    assert ads.target_cpa == pytest.approx(1140 * 0.7)
    assert ads.ltv_cac == pytest.approx(1140 / 500)
    assert ads.payback_months == 1  # 570 per customer in the first 30 days ≥ 500
    line = t.loc["line"]
    assert line.cac == 2000 and line.margin_ltv == pytest.approx(570)
    assert pd.isna(line.payback_months)
    t = cac_table(ws.orders(), read_costs(costs), dt.date(2025, 6, 30), profit_goal=100).set_index("channel")
    assert t.loc["ads", "target_cpa"] == pytest.approx(1040)


def test_costs_yaml_with_period_and_bad_files(make_ws, tmp_path):
    ws = make_ws(ROWS)
    y = tmp_path / "costs.yaml"
    y.write_text("ads: {spend: 900, start: 2024-01-05, end: 2024-01-31}\n", encoding="utf-8")
    t = cac_table(ws.orders(), read_costs(y), dt.date(2025, 6, 30)).set_index("channel")
    assert t.loc["ads", "new_customers"] == 1 and t.loc["ads", "cac"] == 900  # only y falls in the period
    bad = tmp_path / "bad.csv"
    bad.write_text("name,amount\nads,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="channel"):
        read_costs(bad)
    with pytest.raises(InputError, match="No costs file"):
        read_costs(tmp_path / "missing.csv")

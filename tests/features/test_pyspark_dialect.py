"""Every feature expression compiles for Spark SQL (the pyspark dialect) and the SQL parses back as Spark SQL.

This needs neither Java nor a Spark session; tests/spark runs the same expressions on PySpark and compares them
with DuckDB's answers.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pytest
import sqlglot

from ltvkit.calendar import CampaignCalendar
from ltvkit.features import cohort_expr, point_dependence, rfm_summary, segment_customers
from ltvkit.features._orders import first_orders, order_table, ranked_orders, with_campaign_flag
from ltvkit.features.at_risk import at_risk_customers
from ltvkit.features.cohorts import cohort_orders
from ltvkit.features.margin import margin_lines
from ltvkit.features.rfm import repeat_spend_groups, rfm_groups
from ltvkit.features.segments import customer_base
from ltvkit.features.views import VIEWS, view

AS_OF = dt.date(2025, 3, 1)
ROWS = [
    {"c": "a", "at": "2024-01-05 10:00", "source": "rakuten", "points": 10},
    {"c": "a", "at": "2024-03-05 21:30", "source": "rakuten"},
    {"c": "b", "at": "2024-02-05 10:00", "source": "yahoo", "mall_coupon": 100},
    {"c": "c", "at": "2024-06-05 10:00"},
]


def _expressions(ws) -> dict[str, ibis.Expr]:
    o = ws.orders()
    rfm = rfm_summary(o, observation_end=AS_OF, litt=True)
    spend, mean = repeat_spend_groups(rfm)
    ot = order_table(o, as_of=AS_OF)
    scores = ibis.memtable({"customer_key": ["a"], "p_alive": [0.5], "predicted_clv": [100.0],
                            "expected_purchases_365d": [1.0]})
    exprs = {
        "rfm_summary": rfm, "rfm_summary_holdout": rfm_summary(o, observation_end=AS_OF,
                                                                calibration_end=dt.date(2024, 12, 1)),
        "rfm_summary_weeks": rfm_summary(o, observation_end=AS_OF, freq="W"),
        "rfm_groups": rfm_groups(rfm, litt=True), "repeat_spend_groups": spend, "mean_repeat_spend": mean,
        "margin_lines": margin_lines(o), "order_table": ot, "ranked_orders": ranked_orders(ot),
        "first_orders": first_orders(ranked_orders(ot)),
        "campaign_flag": with_campaign_flag(ot.drop("in_campaign"), CampaignCalendar.default(), dt.date(2024, 1, 1),
                                            AS_OF),
        "cohort_orders": cohort_orders(o, AS_OF, split="campaign"),
        "cohort_expr": cohort_expr(o, AS_OF), "cohort_expr_weeks": cohort_expr(o, AS_OF, by="week", period="months",
                                                                               split="channel"),
        "customer_base": customer_base(o, AS_OF), "segments_rfm": segment_customers(o, AS_OF),
        "segments_cpm": segment_customers(o, AS_OF, kind="cpm"), "point_dependence": point_dependence(o, AS_OF),
        "at_risk": at_risk_customers(o, scores, AS_OF),
    }
    for kind in VIEWS:
        exprs[f"view_{kind}"] = view(kind, o, AS_OF, customers=ws.table("customers"))
    return exprs


def test_every_feature_expression_compiles_for_spark(make_ws):
    pytest.importorskip("pyspark", reason="the pyspark dialect comes with the [spark] extra")
    assert ibis.pyspark is not None  # loading the backend registers the dialect's options
    ws = make_ws(ROWS)
    exprs = _expressions(ws)
    assert len(exprs) >= 20 + len(VIEWS) - 1
    for name, expr in exprs.items():
        sql = ibis.to_sql(expr, dialect="pyspark")
        assert "SELECT" in sql.upper(), name
        parsed = sqlglot.parse_one(sql, read="spark")
        assert parsed is not None and parsed.find(sqlglot.exp.Select) is not None, name

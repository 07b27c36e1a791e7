"""The analytics stay inside portable Ibis: they compile for other SQL engines, not only DuckDB."""

import datetime as dt

import ibis
import pytest

from ltvkit.features import cohort_expr, point_dependence, segment_customers

AS_OF = dt.date(2025, 3, 1)


@pytest.mark.parametrize("dialect", ["trino", "postgres"])
def test_expressions_compile_for_other_engines(make_ws, dialect):
    ws = make_ws([
        {"c": "a", "at": "2024-01-05 10:00", "source": "rakuten", "points": 10},
        {"c": "a", "at": "2024-03-05 10:00"},
        {"c": "b", "at": "2024-02-05 10:00", "source": "yahoo"},
    ])
    o = ws.orders()
    exprs = [cohort_expr(o, AS_OF), cohort_expr(o, AS_OF, split="campaign", period="months", by="week"),
             segment_customers(o, AS_OF), segment_customers(o, AS_OF, kind="cpm"), point_dependence(o, AS_OF)]
    for e in exprs:
        sql = ibis.to_sql(e, dialect=dialect)
        assert "SELECT" in sql.upper()

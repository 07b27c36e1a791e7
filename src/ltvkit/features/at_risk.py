"""離脱が心配な優良顧客: valuable customers who are still plausibly alive but may be slipping away.

A customer is listed when

* she is *valuable*: her past spend is in the top ``valuable_share`` (20 %) of buyers;
* she is *still plausibly alive*: P(alive) ≥ ``min_p_alive`` (0.2) and her last order is at most ``max_days`` (365)
  days before the date, so that a message can still reach her (customers already gone are left out);
* she is *at risk*: P(alive) < ``max_p_alive`` (0.8).

They are ranked by the **value at stake** = P(alive) × past spend: the spend of a customer who is probably still
here, the first to call.
"""

from __future__ import annotations

import datetime as dt

import ibis

__all__ = ["AT_RISK_RULES", "at_risk_customers"]

AT_RISK_RULES = {"valuable_share": 0.2, "min_p_alive": 0.2, "max_p_alive": 0.8, "max_days": 365}


def at_risk_customers(orders: ibis.Table, scores: ibis.Table, as_of: dt.date, *, top: int = 20,
                      valuable_share: float = 0.2, min_p_alive: float = 0.2, max_p_alive: float = 0.8,
                      max_days: int = 365) -> ibis.Table:
    """The valuable customers still plausibly alive but at risk, by value at stake (see the module).

    ``scores`` has ``customer_key`` and ``p_alive`` (and optionally ``expected_purchases_90d``, ``predicted_clv``,
    ``churn_risk``, carried along). Columns: ``customer_key, orders, revenue, last_order, days_since, p_alive,
    value_at_stake`` and the carried ones.
    """
    day = ibis.literal(as_of)
    o = orders.filter((orders.status == "ordered") & (orders.order_date <= day))
    spend = o.group_by("customer_key").aggregate(orders=(o.source.concat(o.order_id)).nunique(),
                                                  revenue=o.line_amount.sum(), last_order=o.order_date.max())
    spend = spend.mutate(_rank=ibis.percent_rank().over(order_by=spend.revenue))
    valuable = spend.filter(spend._rank >= 1 - valuable_share)
    extra = [c for c in ("expected_purchases_90d", "predicted_clv", "churn_risk") if c in scores.columns]
    j = valuable.join(scores.filter(scores.p_alive.notnull()), "customer_key")
    j = j.mutate(days_since=day.delta(j.last_order, unit="day"))
    j = j.filter((j.p_alive >= min_p_alive) & (j.p_alive < max_p_alive) & (j.days_since <= max_days))
    j = j.mutate(value_at_stake=j.p_alive * j.revenue.cast("float64"))
    return j.select("customer_key", "orders", "revenue", "last_order", "days_since", "p_alive", "value_at_stake",
                    *extra).order_by([ibis.desc("value_at_stake"), "customer_key"]).limit(top)

"""LTV components measured from orders, and the two textbook LTV formulas.

Definitions (as of a date ``as_of``; the "last year" is the 365 days ending on ``as_of``):

* **AOV** (average order value) = revenue of the last year ÷ orders of the last year.
* **Purchases per year** = orders of the last year ÷ customers who ordered in the last year.
* **Annual retention rate** ``r`` = customers who ordered in the year before the last year *and* in the last year
  ÷ customers who ordered in the year before the last year.
* **Average lifespan** = 1 ÷ (1 − r) years (geometric churn), capped at ``max_lifespan_years``.
* **Textbook LTV** = AOV × purchases per year × lifespan.
* **Margin per customer-year** = contribution margin of the last year ÷ customers of the last year.
* **Retention-based LTV** = m × r ÷ (1 + d − r) with ``m`` the margin per customer-year and ``d`` the annual
  discount rate: the value of the *future* years of a customer who is active now (Gupta & Lehmann 2003).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from ..calendar import CampaignCalendar
from ..exceptions import InputError
from ._orders import order_table, ranked_orders, resolve_as_of
from .margin import MarginSettings

__all__ = ["ltv_components", "retention_ltv", "shop_summary", "textbook_ltv"]


def textbook_ltv(aov: float, purchases_per_year: float, lifespan_years: float) -> float:
    """LTV = average order value × purchases per year × lifespan in years.

    Examples
    --------
    A customer who spends 1,000 yen an order, buys 5 times a year and stays 3 years:

    >>> textbook_ltv(1000, 5, 3)
    15000.0
    """
    if aov < 0 or purchases_per_year < 0 or lifespan_years < 0:
        raise InputError("AOV, purchases per year and lifespan must not be negative.")
    return float(aov) * float(purchases_per_year) * float(lifespan_years)


def retention_ltv(margin: float, retention: float, discount_rate: float = 0.10) -> float:
    """Retention-based LTV = margin × r ÷ (1 + d − r).

    Parameters
    ----------
    margin
        Contribution margin per customer per year.
    retention
        Annual retention rate ``r`` in [0, 1).
    discount_rate
        Annual discount rate ``d``.

    Examples
    --------
    >>> round(retention_ltv(10_000, 0.6, 0.1), 2)
    12000.0
    """
    if not 0 <= retention < 1 + discount_rate:
        raise InputError("The retention rate must lie between 0 and 1.")
    return float(margin) * retention / (1 + discount_rate - retention)


def ltv_components(orders: ibis.Table, as_of: dt.date | None = None, *, settings: MarginSettings | None = None,
                   products: ibis.Table | None = None, discount_rate: float = 0.10,
                   max_lifespan_years: float = 10.0, calendar: CampaignCalendar | None = None) -> dict[str, Any]:
    """AOV, purchases per year, retention, lifespan and both LTVs as of a date (see the module docstring).

    Returns
    -------
    dict
        Plain numbers (small result).
    """
    as_of = resolve_as_of(orders, as_of)
    o = order_table(orders, as_of=as_of, settings=settings, products=products, calendar=calendar)
    y1 = ibis.literal(as_of - dt.timedelta(days=365))
    y2 = ibis.literal(as_of - dt.timedelta(days=730))
    last = o.order_date > y1
    prev = (o.order_date > y2) & (o.order_date <= y1)
    # one pass: per customer, then the shop's totals are the sums of the customers' (exact: counts and yen)
    per_c = o.group_by("customer_key").aggregate(
        in_last=last.any(), in_prev=prev.any(),
        first_date=o.order_date.min(),
        orders_all=o.count(), revenue_all=o.revenue.sum(), margin_all=o.margin.sum(),
        orders_1y=o.count(where=last), revenue_1y=o.revenue.sum(where=last), margin_1y=o.margin.sum(where=last),
    )
    cust = per_c.aggregate(
        customers=per_c.count(),
        customers_1y=per_c.count(where=per_c.in_last),
        customers_prev=per_c.count(where=per_c.in_prev),
        retained=per_c.count(where=per_c.in_prev & per_c.in_last),
        new_1y=per_c.count(where=per_c.first_date > y1),
        **{c: per_c[c].sum() for c in ("orders_all", "revenue_all", "margin_all", "orders_1y", "revenue_1y",
                                       "margin_1y")},
    ).execute().iloc[0]
    r = ranked_orders(o)
    rep = r.aggregate(
        cohort=r.count(where=(r.order_no == 1) & (r.first_date <= y1)),
        f2=r.count(where=(r.order_no == 2) & (r.first_date <= y1) & (r.days_since_first <= 365)),
        m365=r.margin.sum(where=(r.first_date <= y1) & (r.days_since_first < 365)),
        rev365=r.revenue.sum(where=(r.first_date <= y1) & (r.days_since_first < 365)),
    ).execute().iloc[0]

    def num(x: Any) -> float:
        return 0.0 if x is None or x != x else float(x)

    orders_1y, customers_1y = num(cust["orders_1y"]), num(cust["customers_1y"])
    aov = num(cust["revenue_1y"]) / orders_1y if orders_1y else None
    freq = orders_1y / customers_1y if customers_1y else None
    retention = num(cust["retained"]) / num(cust["customers_prev"]) if num(cust["customers_prev"]) else None
    lifespan = None
    if retention is not None:
        lifespan = min(max_lifespan_years, 1.0 / (1.0 - retention)) if retention < 1 else max_lifespan_years
    margin_cy = num(cust["margin_1y"]) / customers_1y if customers_1y else None
    cohort = num(rep["cohort"])
    return {
        "as_of": as_of,
        "customers": int(num(cust["customers"])),
        "orders": int(num(cust["orders_all"])),
        "revenue": int(num(cust["revenue_all"])),
        "margin": int(num(cust["margin_all"])),
        "customers_last_year": int(customers_1y),
        "new_customers_last_year": int(num(cust["new_1y"])),
        "aov": aov,
        "purchases_per_year": freq,
        "retention_rate": retention,
        "lifespan_years": lifespan,
        "margin_per_customer_year": margin_cy,
        "textbook_ltv": textbook_ltv(aov, freq, lifespan) if None not in (aov, freq, lifespan) else None,
        "retention_ltv": (retention_ltv(margin_cy, retention, discount_rate)
                          if margin_cy is not None and retention is not None else None),
        "discount_rate": discount_rate,
        "f2_rate_365d": num(rep["f2"]) / cohort if cohort else None,
        "annual_ltv_revenue": num(rep["rev365"]) / cohort if cohort else None,
        "annual_ltv_margin": num(rep["m365"]) / cohort if cohort else None,
    }


def shop_summary(orders: ibis.Table, as_of: dt.date | None = None, **kwargs: Any) -> dict[str, Any]:
    """The shop's KPIs for ``ltv summary``: :func:`ltv_components` (keyword arguments pass through)."""
    return ltv_components(orders, as_of, **kwargs)

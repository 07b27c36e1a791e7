"""The LTV-Lab views a Japanese CRM manager expects (``ltv views KIND``, the report's LTV-Lab section, Excel).

Every view reads the valid orders up to ``as_of`` (:func:`~ltvkit.features._orders.order_table`) and returns an
Ibis expression; the pipeline stores it as ``result_view_<kind>``.

* ``monthly`` — sales per calendar month split by the customer's order number: F1 (first order = new),
  F2 (second) and F3+ (third and later); ``repeat_share`` = (F2 + F3+) ÷ all.
* ``purchases`` — customers by number of orders (1, 2, 3, 4, 5, 6–9, 10+): customers, share, revenue, margin.
* ``first_product`` / ``first_category`` — per first SKU (category): new customers, and among those acquired at
  least 365 days ago (``mature_customers``) the mean revenue and margin of their first 365 days (``ltv_365d``,
  ``margin_ltv_365d``) and the share who bought again (``f2_rate_365d``).
* ``subscription`` — 定期 continuation: subscriptions that reached delivery ``k`` and the share of first
  deliveries that did (``continuation_rate``).
* ``upgrade`` — 引き上げ率 per trial item (an item whose name says お試し / トライアル / trial, or whose SKU ends in
  ``-TR``): customers whose first order had it, and the share who later bought a full-size item of the same
  category (or the same SKU stem: ``SK-LOT-TR`` → ``SK-LOT-150``) or a subscription (``upgrade_rate``).
* ``prefecture`` — per prefecture (from the customers table): customers, revenue, revenue per customer, F2.
* ``yoy`` — per month of the last 12 months: sales, orders and customers against the same month a year before
  (``revenue_yoy`` = growth).
"""

from __future__ import annotations

import datetime as dt

import ibis

from ..exceptions import InputError
from ._orders import order_table, ranked_orders, valid_lines
from .margin import MarginSettings

__all__ = ["VIEWS", "view"]

VIEWS = ("monthly", "purchases", "first_product", "first_category", "subscription", "upgrade", "prefecture", "yoy")
TRIAL_WORDS = ("お試し", "トライアル", "trial")


def view(kind: str, orders: ibis.Table, as_of: dt.date, *, settings: MarginSettings | None = None,
         products: ibis.Table | None = None, customers: ibis.Table | None = None) -> ibis.Table:
    """The LTV-Lab view ``kind`` (one of :data:`VIEWS`) as of ``as_of``."""
    if kind not in VIEWS:
        raise InputError(key="err.unknown_view", value=kind, choices=list(VIEWS))
    if kind in ("subscription", "upgrade"):
        lines = valid_lines(orders, as_of)
        return _subscription(lines) if kind == "subscription" else _upgrade(lines)
    o = ranked_orders(order_table(orders, as_of=as_of, settings=settings, products=products))
    if kind == "monthly":
        return _monthly(o)
    if kind == "purchases":
        return _purchases(o)
    if kind in ("first_product", "first_category"):
        return _by_first(o, "sku" if kind == "first_product" else "category", as_of)
    if kind == "prefecture":
        if customers is None:
            raise InputError(key="err.no_prefecture")
        return _prefecture(o, customers)
    return _yoy(o, as_of)


def _monthly(o: ibis.Table) -> ibis.Table:
    o = o.mutate(month=o.order_date.truncate("M"))
    g = o.group_by("month").aggregate(
        f1_revenue=o.revenue.sum(where=o.order_no == 1).coalesce(0),
        f2_revenue=o.revenue.sum(where=o.order_no == 2).coalesce(0),
        f3plus_revenue=o.revenue.sum(where=o.order_no >= 3).coalesce(0),
        revenue=o.revenue.sum(),
        f1_orders=o.count(where=o.order_no == 1), f2_orders=o.count(where=o.order_no == 2),
        f3plus_orders=o.count(where=o.order_no >= 3),
    )
    g = g.mutate(repeat_share=(g.f2_revenue + g.f3plus_revenue).cast("float64") / g.revenue.cast("float64"))
    return g.order_by("month")


def _purchases(o: ibis.Table) -> ibis.Table:
    c = o.group_by("customer_key").aggregate(orders=o.count(), revenue=o.revenue.sum(), margin=o.margin.sum())
    band = ibis.cases((c.orders >= 10, "10+"), (c.orders >= 6, "6-9"), else_=c.orders.cast("string"))
    rank = ibis.cases((c.orders >= 10, 10), (c.orders >= 6, 6), else_=c.orders)
    c = c.mutate(purchases=band, _order=rank)
    g = c.group_by(["purchases", "_order"]).aggregate(customers=c.count(), revenue=c.revenue.sum(),
                                                     margin=c.margin.sum())
    g = g.mutate(customer_share=g.customers.cast("float64") / g.customers.sum().over().cast("float64"))
    return g.order_by("_order").select("purchases", "customers", "customer_share", "revenue", "margin")


def _by_first(o: ibis.Table, column: str, as_of: dt.date) -> ibis.Table:
    # one pass per customer: the first order's value is the one row with order_no 1 (no join back)
    year = o.days_since_first < 365
    per = o.group_by("customer_key").aggregate(
        first=o[column].max(where=o.order_no == 1),
        mature=ibis.literal(as_of).delta(o.first_date.min(), unit="day") >= 364,
        rev=o.revenue.sum(where=year).coalesce(0),
        mar=o.margin.sum(where=year).coalesce(0),
        again=(o.order_no >= 2).any(where=year).coalesce(False),
    )
    per = per.mutate(first=per.first.coalesce("(none)"))
    g = per.group_by("first").aggregate(
        new_customers=per.count(), mature_customers=per.count(where=per.mature),
        ltv_365d=per.rev.mean(where=per.mature), margin_ltv_365d=per.mar.mean(where=per.mature),
        f2_rate_365d=per.again.cast("float64").mean(where=per.mature),
    )
    name = "first_sku" if column == "sku" else "first_category"
    return g.rename({name: "first"}).order_by([ibis.desc("new_customers"), name])


def _subscription(lines: ibis.Table) -> ibis.Table:
    s = lines.filter(lines.subscription_id.notnull() & lines.delivery_count.notnull())
    per = s.group_by(["source", "subscription_id"]).aggregate(deliveries=s.delivery_count.max())
    steps = ibis.memtable({"delivery": list(range(1, 13))})
    j = steps.cross_join(per)
    g = j.group_by("delivery").aggregate(subscriptions=j.count(where=j.deliveries >= j.delivery))
    g = g.mutate(continuation_rate=g.subscriptions.cast("float64")
                 / g.subscriptions.max().over().cast("float64"))
    return g.filter(g.subscriptions > 0).order_by("delivery")


def _is_trial(lines: ibis.Table) -> ibis.Value:
    name = lines.product_name.coalesce("").lower()
    cond = lines.sku.coalesce("").upper().endswith("-TR")
    for word in TRIAL_WORDS:
        cond = cond | name.contains(word)
    return cond


def _upgrade(lines: ibis.Table) -> ibis.Table:
    lines = lines.mutate(trial=_is_trial(lines))
    first_day = lines.order_date.min().over(group_by=lines.customer_key)
    lines = lines.mutate(first_day=first_day)
    lines = lines.mutate(stem=lines.sku.coalesce("").re_extract(r"^(.*)-[^-]*$", 1))
    trials = lines.filter(lines.trial & (lines.order_date == lines.first_day)).select(
        "customer_key", trial_sku="sku", trial_category="category", trial_stem="stem",
        first_day="first_day").distinct()
    later = lines.filter(~lines.trial).select(
        later_key="customer_key", later_day="order_date", later_category="category", later_stem="stem",
        sub="subscription_id")
    same_item = (later.later_category == trials.trial_category) | (
        (later.later_stem == trials.trial_stem) & (later.later_stem != ""))
    j = trials.left_join(later, (trials.customer_key == later.later_key) & (later.later_day > trials.first_day)
                         & (same_item | later.sub.notnull()))
    per = j.group_by(["trial_sku", "customer_key"]).aggregate(upgraded=j.later_key.notnull().any())
    g = per.group_by("trial_sku").aggregate(trial_customers=per.count(),
                                            upgraded=per.upgraded.cast("int64").sum())
    g = g.mutate(upgrade_rate=g.upgraded.cast("float64") / g.trial_customers.cast("float64"))
    return g.order_by([ibis.desc("trial_customers"), "trial_sku"])


def _prefecture(o: ibis.Table, customers: ibis.Table) -> ibis.Table:
    pref = customers.select("customer_key", prefecture=customers.prefecture.coalesce("(none)")).distinct()
    per = o.group_by("customer_key").aggregate(orders=o.count(), revenue=o.revenue.sum(), margin=o.margin.sum())
    j = per.join(pref, "customer_key", how="left")
    j = j.mutate(prefecture=j.prefecture.coalesce("(none)"))
    g = j.group_by("prefecture").aggregate(customers=j.count(), revenue=j.revenue.sum(), margin=j.margin.sum(),
                                           f2_rate=(j.orders >= 2).cast("float64").mean())
    g = g.mutate(revenue_per_customer=g.revenue.cast("float64") / g.customers.cast("float64"))
    return g.order_by([ibis.desc("revenue"), "prefecture"])


def _yoy(o: ibis.Table, as_of: dt.date) -> ibis.Table:
    o = o.mutate(month=o.order_date.truncate("M"))
    m = o.group_by("month").aggregate(revenue=o.revenue.sum(), orders=o.count(),
                                      customers=o.customer_key.nunique())
    prev = m.select(p_month=m.month, revenue_prev_year=m.revenue, orders_prev_year=m.orders,
                    customers_prev_year=m.customers)
    start = ibis.literal(dt.date(as_of.year - 1, as_of.month, 1)).cast("date")
    cur = m.filter(m.month.cast("date") > start)
    j = cur.left_join(prev, cur.month.cast("date") == (prev.p_month.cast("date") + ibis.interval(years=1)))
    j = j.mutate(revenue_yoy=j.revenue.cast("float64") / j.revenue_prev_year.cast("float64") - 1)
    return j.select("month", "revenue", "revenue_prev_year", "revenue_yoy", "orders", "orders_prev_year",
                    "customers", "customers_prev_year").order_by("month")

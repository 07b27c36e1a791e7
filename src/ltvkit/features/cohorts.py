"""Acquisition cohorts: the cohort matrix, 粗利LTV at 12 and 24 months, F2/F3 conversion and the golden time.

A customer's cohort is the month (or ISO week, starting Monday) of their first valid order. Elapsed time is
counted in calendar days from the first order's *date* (day 0 = the first purchase day), so that the same
numbers come out on DuckDB and Spark. See docs/analytics.md for every definition.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import numpy as np
import pandas as pd

from ..calendar import CampaignCalendar
from ..exceptions import InputError
from ._orders import first_orders, order_table, ranked_orders, resolve_as_of
from .margin import MarginSettings

__all__ = [
    "COHORT_METRICS",
    "SPLITS",
    "cohort_expr",
    "cohort_orders",
    "cohort_summary",
    "cohort_table",
    "f2_table",
    "golden_time",
    "pivot_cohorts",
]

SPLITS = ("channel", "first_category", "first_sku", "campaign", "points")
COHORT_METRICS = ("active_customers", "retention", "orders", "revenue", "margin", "cum_revenue_per_customer",
                  "cum_margin_per_customer")


def _split_expr(f: ibis.Table, split: str | None) -> Any:
    if split is None:
        return ibis.literal("all")
    if split not in SPLITS:
        raise InputError(key="err.unknown_split", value=split, choices=list(SPLITS))
    if split == "campaign":
        return f.first_campaign.ifelse("campaign", "non_campaign")
    if split == "points":
        return f.first_points.ifelse("points_or_coupon", "no_discount")
    return f[split].cast("string").coalesce("(none)")


def cohort_orders(orders: ibis.Table, as_of: dt.date, *, by: str = "month", split: str | None = None,
                  settings: MarginSettings | None = None, products: ibis.Table | None = None,
                  calendar: CampaignCalendar | None = None) -> ibis.Table:
    """Every valid order with its customer's ``segment`` (the split value), ``cohort``, ``first_date``,
    ``days_since_first`` and ``order_no`` (1 = first order)."""
    if by not in ("month", "week"):
        raise InputError(key="err.unknown_by", value=by)
    o = order_table(orders, as_of=as_of, settings=settings, products=products, calendar=calendar)
    r = ranked_orders(o)
    f = first_orders(r)
    f = f.select(customer_key=f.customer_key, segment=_split_expr(f, split),
                 cohort=f.first_date.truncate("M" if by == "month" else "W"))
    return r.join(f, "customer_key")


def _customer_cohorts(orders: ibis.Table, as_of: dt.date, *, by: str, split: str | None,
                      settings: MarginSettings | None, products: ibis.Table | None,
                      calendar: CampaignCalendar | None) -> tuple[ibis.Table, ibis.Table]:
    """(orders with ``segment, cohort, first_date, days_since_first``, customers with ``segment, cohort,
    first_date``). Without a split no first-order attributes are needed, so the plan stays lean."""
    if by not in ("month", "week"):
        raise InputError(key="err.unknown_by", value=by)
    if split is not None:
        r = cohort_orders(orders, as_of, by=by, split=split, settings=settings, products=products,
                          calendar=calendar)
        c = r.filter(r.order_no == 1).select("customer_key", "segment", "cohort", "first_date")
        return r, c
    o = order_table(orders, as_of=as_of, settings=settings, products=products, detail=False)
    c = o.group_by("customer_key").aggregate(first_date=o.order_date.min())
    c = c.mutate(segment=ibis.literal("all"), cohort=c.first_date.truncate("M" if by == "month" else "W"))
    r = o.join(c, "customer_key")
    return r.mutate(days_since_first=r.order_date.delta(r.first_date, unit="day")), c


def _month_index(d: Any) -> Any:
    return d.year() * 12 + d.month()


def cohort_expr(orders: ibis.Table, as_of: dt.date | None = None, *, by: str = "month", split: str | None = None,
                period: str = "days", step_days: int = 30, max_days: int = 720, max_months: int = 24,
                settings: MarginSettings | None = None, products: ibis.Table | None = None,
                calendar: CampaignCalendar | None = None) -> ibis.Table:
    """The cohort matrix in long form as an Ibis expression (one row per cohort and period).

    Parameters
    ----------
    period
        ``"days"``: period ``k`` (column ``period`` = ``30·k``) covers elapsed days ``30·(k−1)`` to ``30·k − 1``;
        ``"months"``: calendar months after the first-purchase month (0 = the same month).

    Returns
    -------
    ibis.Table
        ``segment, cohort, cohort_size, period, active_customers, retention, orders, revenue, margin,
        cum_revenue_per_customer, cum_margin_per_customer, complete``. ``complete`` is false while some
        customer of the cohort has not yet lived through the whole period.
    """
    as_of = resolve_as_of(orders, as_of)
    if period not in ("days", "months"):
        raise InputError(key="err.unknown_period", value=period)
    if step_days < 1 or max_days < step_days:
        raise InputError("The cohort step must be at least 1 day and no longer than the horizon.")
    r, cust = _customer_cohorts(orders, as_of, by=by, split=split, settings=settings, products=products,
                                calendar=calendar)
    a = ibis.literal(as_of)
    if period == "days":
        n = max_days // step_days
        r = r.mutate(idx=(r.days_since_first // step_days).cast("int64"))
    else:
        n = max_months + 1
        r = r.mutate(idx=(_month_index(r.order_date) - _month_index(r.first_date)).cast("int64"))
    r = r.filter(r.idx < n)
    sizes = cust.group_by(["segment", "cohort"]).aggregate(
        cohort_size=cust.count(), first_lo=cust.first_date.min(), first_hi=cust.first_date.max())
    cells = r.group_by(["segment", "cohort", "idx"]).aggregate(
        active_customers=r.customer_key.nunique(), orders=r.count(), revenue=r.revenue.sum(),
        margin=r.margin.sum())
    grid = sizes.cross_join(ibis.memtable({"idx": list(range(n))}, schema={"idx": "int64"}))
    if period == "days":
        started = a.delta(grid.first_lo, unit="day") >= grid.idx * step_days
        complete = a.delta(grid.first_hi, unit="day") >= (grid.idx + 1) * step_days - 1
        label = (grid.idx + 1) * step_days
    else:
        started = _month_index(a) - _month_index(grid.first_lo) >= grid.idx
        complete = _month_index(a) - _month_index(grid.first_hi) > grid.idx
        label = grid.idx
    grid = grid.filter(started).mutate(complete=complete, period=label)
    j = grid.left_join(cells, ["segment", "cohort", "idx"])
    j = j.select(
        "segment", "cohort", "cohort_size", "period", "idx", "complete",
        active_customers=j.active_customers.coalesce(0), orders=j.orders.coalesce(0),
        revenue=j.revenue.coalesce(0), margin=j.margin.coalesce(0),
    )
    w = ibis.window(group_by=[j.segment, j.cohort], order_by=j.idx, preceding=None, following=0)
    j = j.mutate(
        retention=j.active_customers / j.cohort_size,
        cum_revenue_per_customer=j.revenue.sum().over(w) / j.cohort_size,
        cum_margin_per_customer=j.margin.sum().over(w) / j.cohort_size,
    )
    return j.select(
        "segment", "cohort", "cohort_size", "period", "active_customers", "retention", "orders", "revenue",
        "margin", "cum_revenue_per_customer", "cum_margin_per_customer", "complete",
    ).order_by(["segment", "cohort", "period"])


def cohort_table(orders: ibis.Table, as_of: dt.date | None = None, **kwargs: Any) -> pd.DataFrame:
    """:func:`cohort_expr` executed (a small table: cohorts × periods)."""
    return cohort_expr(orders, as_of, **kwargs).to_pandas()


def cohort_summary(orders: ibis.Table, as_of: dt.date | None = None, *, by: str = "month",
                   split: str | None = None, settings: MarginSettings | None = None,
                   products: ibis.Table | None = None, calendar: CampaignCalendar | None = None) -> pd.DataFrame:
    """Per cohort: size, 年間LTV (revenue) and 粗利LTV (margin) per acquired customer at 12 and 24 months.

    The 12-month value sums the orders of elapsed days 0–364, the 24-month value days 0–729. A value is
    ``NaN`` until every customer of the cohort has been observed that long (``ltv_12m_complete``).
    """
    as_of = resolve_as_of(orders, as_of)
    r, _ = _customer_cohorts(orders, as_of, by=by, split=split, settings=settings, products=products,
                             calendar=calendar)
    g = r.group_by(["segment", "cohort"]).aggregate(
        cohort_size=r.customer_key.nunique(),
        first_hi=r.first_date.max(),
        revenue_12m=r.revenue.sum(where=r.days_since_first < 365),
        margin_12m=r.margin.sum(where=r.days_since_first < 365),
        margin_24m=r.margin.sum(where=r.days_since_first < 730),
    )
    observed = ibis.literal(as_of).delta(g.first_hi, unit="day")
    g = g.mutate(
        ltv_12m_complete=observed >= 364, ltv_24m_complete=observed >= 729,
        revenue_ltv_12m=g.revenue_12m.coalesce(0) / g.cohort_size,
        margin_ltv_12m=g.margin_12m.coalesce(0) / g.cohort_size,
        margin_ltv_24m=g.margin_24m.coalesce(0) / g.cohort_size,
    )
    df = g.select("segment", "cohort", "cohort_size", "revenue_ltv_12m", "margin_ltv_12m", "margin_ltv_24m",
                  "ltv_12m_complete", "ltv_24m_complete").order_by(["segment", "cohort"]).to_pandas()
    for col in ("revenue_ltv_12m", "margin_ltv_12m"):
        df.loc[~df["ltv_12m_complete"].astype(bool), col] = float("nan")
    df.loc[~df["ltv_24m_complete"].astype(bool), "margin_ltv_24m"] = float("nan")
    return df


def pivot_cohorts(long: pd.DataFrame, metric: str = "cum_margin_per_customer",
                  summary: pd.DataFrame | None = None, *, show_incomplete: bool = False) -> pd.DataFrame:
    """The cohort matrix as people read it: one row per cohort, one column per period.

    Cells of periods not yet complete are left empty unless ``show_incomplete``. With ``summary``, the
    marked 12- and 24-month 粗利LTV columns (``margin_ltv_12m``, ``margin_ltv_24m``) are appended.
    """
    if metric not in COHORT_METRICS:
        raise InputError(key="err.unknown_metric", value=metric, choices=list(COHORT_METRICS))
    df = long.copy()
    if not show_incomplete:
        df.loc[~df["complete"].astype(bool), metric] = float("nan")
    wide = df.pivot(index=["segment", "cohort"], columns="period", values=metric)
    wide.columns = [str(c) for c in wide.columns]
    sizes = df.drop_duplicates(["segment", "cohort"])[["segment", "cohort", "cohort_size"]]
    wide = sizes.merge(wide.reset_index(), on=["segment", "cohort"], how="left")
    if summary is not None:
        wide = wide.merge(summary[["segment", "cohort", "margin_ltv_12m", "margin_ltv_24m"]],
                          on=["segment", "cohort"], how="left")
    if (wide["segment"] == "all").all():
        wide = wide.drop(columns="segment")
    return wide


def f2_table(orders: ibis.Table, as_of: dt.date | None = None, *, windows: tuple[int, ...] = (30, 60, 90, 180, 365),
             by: str = "month", split: str | None = None, settings: MarginSettings | None = None,
             products: ibis.Table | None = None, calendar: CampaignCalendar | None = None) -> pd.DataFrame:
    """F2 and F3 conversion per cohort within fixed windows after the first purchase.

    For each cohort and window ``w`` (days), over the customers observed for at least ``w`` days
    (``eligible``):

    * ``f2_rate`` = customers with a 2nd order within ``w`` days of the first ÷ eligible;
    * ``f3_rate_from_first`` = customers with a 3rd order within ``w`` days ÷ eligible (F3 "from F1");
    * ``f3_rate_step`` = customers with a 3rd order within ``w`` days ÷ those with a 2nd (F3 "step").
    """
    as_of = resolve_as_of(orders, as_of)
    if not windows or min(windows) < 1:
        raise InputError("F2 windows must be positive numbers of days.")
    r = cohort_orders(orders, as_of, by=by, split=split, settings=settings, products=products, calendar=calendar)
    c = r.group_by(["segment", "cohort", "customer_key"]).aggregate(
        first_date=r.first_date.min(),
        d2=r.days_since_first.min(where=r.order_no == 2),
        d3=r.days_since_first.min(where=r.order_no == 3),
    )
    c = c.mutate(observed=ibis.literal(as_of).delta(c.first_date, unit="day"))
    x = c.cross_join(ibis.memtable({"window_days": [int(w) for w in windows]}, schema={"window_days": "int64"}))
    eligible = x.observed >= x.window_days
    g = x.group_by(["segment", "cohort", "window_days"]).aggregate(
        customers=x.count(),
        eligible=x.count(where=eligible),
        # no 2nd order leaves d2 NULL: a NULL condition is counted as no on every engine (Spark sums 0/1 flags)
        f2_customers=x.count(where=(eligible & (x.d2 <= x.window_days)).fill_null(False)),
        f3_customers=x.count(where=(eligible & (x.d3 <= x.window_days)).fill_null(False)),
    )
    df = g.order_by(["segment", "cohort", "window_days"]).to_pandas()
    elig = df["eligible"].where(df["eligible"] > 0)
    df["f2_rate"] = df["f2_customers"] / elig
    df["f3_rate_from_first"] = df["f3_customers"] / elig
    df["f3_rate_step"] = df["f3_customers"] / df["f2_customers"].where(df["f2_customers"] > 0)
    df["complete"] = df["eligible"] == df["customers"]
    return df


def _second_order_stats(part: pd.DataFrame) -> pd.Series:
    """Customers, repeaters and the median day of the second order (the mean of the two middle days when the
    repeaters are even, as the engines' ``median``) from counts per day."""
    rep = part[part["event"]]
    n = int(rep["n"].sum())
    median = float("nan")
    if n:
        days = rep.groupby("d2")["n"].sum().sort_index()
        upto = days.cumsum().to_numpy()
        values = days.index.to_numpy(dtype=float)
        lo = values[np.searchsorted(upto, (n + 1) // 2)]  # the ⌈n/2⌉-th and the (n/2 + 1)-th day
        hi = values[np.searchsorted(upto, n // 2 + 1)]
        median = (lo + hi) / 2
    return pd.Series({"customers": int(part["n"].sum()), "repeaters": n, "median_days_to_second": median})


def golden_time(orders: ibis.Table, as_of: dt.date | None = None, *, bin_days: int = 7, horizon_days: int = 364,
                min_at_risk: int = 30, by_category: bool = True, settings: MarginSettings | None = None,
                products: ibis.Table | None = None,
                calendar: CampaignCalendar | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Days from first to second purchase, the second-purchase hazard and its peak ("golden time").

    A life table per first category (or overall): in bin ``b`` (days ``[b·w, (b+1)·w)``), ``at_risk`` are the
    customers without a second order before the bin who are still observed at its start, less half of those
    whose observation ends inside it (actuarial); ``hazard`` = second purchases in the bin ÷ ``at_risk``.
    The golden time is the bin with the highest hazard among bins with at least ``min_at_risk`` at risk.

    Returns
    -------
    (table, golden)
        ``table``: ``first_category, bin_start, bin_end, at_risk, second_purchases, hazard``;
        ``golden``: one row per category with ``customers, repeaters, median_days_to_second, golden_start,
        golden_end, peak_hazard``.
    """
    as_of = resolve_as_of(orders, as_of)
    if bin_days < 1 or horizon_days < bin_days:
        raise InputError("The golden-time bin must be at least 1 day and shorter than the horizon.")
    o = order_table(orders, as_of=as_of, settings=settings, products=products, calendar=calendar)
    r = ranked_orders(o)
    f = first_orders(r)
    d2 = r.filter(r.order_no == 2).select(customer_key=r.customer_key, d2=r.days_since_first)
    c = f.left_join(d2, "customer_key")
    c = c.mutate(category=c.first_category if by_category else ibis.literal("all"),
                 observed=ibis.literal(as_of).delta(c.first_date, unit="day"))
    exit_time = c.d2.coalesce(c.observed)
    c = c.mutate(exit_bin=(exit_time // bin_days).cast("int64"), event=c.d2.notnull())
    # one pass over the orders: customers per category, exit bin and day of the second order (none for those
    # without one); the life table and the median are counted from it
    counts = c.group_by(["category", "exit_bin", "event", "d2"]).aggregate(n=c.count()).to_pandas()
    counts["event"] = counts["event"].astype(bool)
    g = counts.groupby(["category", "exit_bin", "event"], as_index=False, sort=False)["n"].sum()
    med = counts.groupby("category", sort=False).apply(_second_order_stats, include_groups=False).reset_index()
    n_bins = horizon_days // bin_days
    rows = []
    golden = []
    for cat, part in g.groupby("category", sort=True):
        total = part["n"].sum()
        exits = part.groupby("exit_bin")["n"].sum()
        events = part[part["event"].astype(bool)].groupby("exit_bin")["n"].sum()
        left = 0
        best = None
        for b in range(n_bins):
            ev = int(events.get(b, 0))
            ex = int(exits.get(b, 0))
            censored = ex - ev
            at_risk = total - left - censored / 2.0
            hazard = ev / at_risk if at_risk > 0 else float("nan")
            rows.append((cat, b * bin_days, (b + 1) * bin_days - 1, at_risk, ev, hazard))
            if at_risk >= min_at_risk and ev > 0 and (best is None or hazard > best[2]):
                best = (b * bin_days, (b + 1) * bin_days - 1, hazard)
            left += ex
        m = med[med["category"] == cat].iloc[0]
        golden.append((cat, int(m["customers"]), int(m["repeaters"]), m["median_days_to_second"],
                       *(best if best else (None, None, None))))
    table = pd.DataFrame(rows, columns=["first_category", "bin_start", "bin_end", "at_risk", "second_purchases",
                                        "hazard"])
    gold = pd.DataFrame(golden, columns=["first_category", "customers", "repeaters", "median_days_to_second",
                                         "golden_start", "golden_end", "peak_hazard"])
    return table, gold

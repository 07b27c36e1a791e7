"""Shared building blocks: the valid lines as of a date, one row per order, one row per customer.

All of it is portable Ibis: day deltas on dates, ``year*12+month`` month indexes, no time-zone casts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd

from ..calendar import MALL_OF_SOURCE, CampaignCalendar
from ..exceptions import MissingDataError
from .margin import MarginSettings, margin_lines

VALID_STATUS = "ordered"


def resolve_as_of(orders: ibis.Table, as_of: dt.date | None) -> dt.date:
    """The analysis date, the one rule of every command: ``as_of`` itself, else the last date of a valid order.

    Valid means status ``ordered`` (:func:`valid_lines`): a cancelled or returned order on the last day does not
    move the analysis date. :func:`ltvkit.pipeline.resolve_as_of` applies this rule to a workspace.
    """
    if as_of is not None:
        return as_of
    valid = orders.filter(orders.status == VALID_STATUS)
    last = valid.order_date.max().execute()
    if last is None or pd.isna(last):
        raise MissingDataError(key="err.no_orders")
    return _as_date(last)


def valid_lines(orders: ibis.Table, as_of: dt.date) -> ibis.Table:
    """Lines that count as sales (status ``ordered``) on or before ``as_of``."""
    return orders.filter((orders.status == VALID_STATUS) & (orders.order_date <= ibis.literal(as_of)))


def date_bounds(lines: ibis.Table) -> tuple[dt.date, dt.date]:
    row = lines.aggregate(lo=lines.order_date.min(), hi=lines.order_date.max()).execute().iloc[0]
    if row["lo"] is None or pd.isna(row["lo"]):
        raise MissingDataError(key="err.no_orders_before")
    return _as_date(row["lo"]), _as_date(row["hi"])


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return value.date()


def campaign_windows(calendar: CampaignCalendar, start: dt.date, end: dt.date) -> ibis.Table:
    """The campaign time of each mall source between two dates, cut at midnight: ``source, day, start_at,
    end_at`` (disjoint per source, end exclusive), a table of about one row per campaign day."""
    rows = []
    for source, mall in sorted(MALL_OF_SOURCE.items()):
        f = calendar.intervals(start, end, mall)
        for s, e in zip(f["start_at"], f["end_at"], strict=True):
            s, e = pd.Timestamp(s).to_pydatetime(), pd.Timestamp(e).to_pydatetime()
            while s < e:
                midnight = dt.datetime.combine(s.date() + dt.timedelta(days=1), dt.time())
                rows.append((source, s.date(), s, min(e, midnight)))
                s = midnight
    frame = pd.DataFrame(rows, columns=["source", "day", "start_at", "end_at"])
    frame["start_at"] = frame["start_at"].astype("datetime64[us]")
    frame["end_at"] = frame["end_at"].astype("datetime64[us]")
    return ibis.memtable(frame, schema={"source": "string", "day": "date", "start_at": "timestamp",
                                        "end_at": "timestamp"})


def with_campaign_flag(t: ibis.Table, calendar: CampaignCalendar, start: dt.date, end: dt.date) -> ibis.Table:
    """``t`` (one row per ``source, order_id, customer_key``) with ``in_campaign``: the order time falls in a
    campaign of the mall its source belongs to.

    A join against :func:`campaign_windows` on source and day, then the time range, not a chain of ORs over every
    window: both engines plan it as an equi-join against a small table, and as its pieces are disjoint an order
    meets at most one, so a left join keeps one row per order.
    """
    w = campaign_windows(calendar, start, end)
    w = w.select(_w_source=w.source, _w_day=w.day, _w_start=w.start_at, _w_end=w.end_at)
    j = t.left_join(w, [t.source == w._w_source, t.ordered_at.date() == w._w_day,
                        t.ordered_at >= w._w_start, t.ordered_at < w._w_end])
    return j.select(*[j[c] for c in t.columns], in_campaign=j._w_start.notnull())


def order_table(orders: ibis.Table, *, as_of: dt.date, settings: MarginSettings | None = None,
                products: ibis.Table | None = None, calendar: CampaignCalendar | None = None,
                bounds: tuple[dt.date, dt.date] | None = None, detail: bool = True) -> ibis.Table:
    """One row per valid order with money totals, margin, the first line's category and SKU, campaign flag.

    Columns: ``source, order_id, customer_key, order_date, revenue, margin``, and with ``detail`` also
    ``ordered_at, line_amount, channel, category, sku, points_used, mall_coupon, shop_coupon, in_campaign``.
    """
    lines = margin_lines(valid_lines(orders, as_of), settings, products)
    if not detail:
        return lines.group_by(["source", "order_id", "customer_key"]).aggregate(
            order_date=lines.order_date.min(), revenue=lines.revenue.sum(), margin=lines.margin.sum())
    first_line = lines.line_no == lines.line_no.min().over(group_by=[lines.source, lines.order_id])
    lines = lines.mutate(_first=first_line)
    o = lines.group_by(["source", "order_id", "customer_key"]).aggregate(
        ordered_at=lines.ordered_at.min(),
        order_date=lines.order_date.min(),
        channel=lines.channel.max(),
        category=lines.category.max(where=lines._first),
        sku=lines.sku.max(where=lines._first),
        revenue=lines.revenue.sum(),
        line_amount=lines.line_amount.sum(),
        margin=lines.margin.sum(),
        points_used=lines.points_used.sum(),
        mall_coupon=lines.mall_coupon.sum(),
        shop_coupon=lines.shop_coupon.sum(),
    )
    cal = calendar or CampaignCalendar.default()
    lo, hi = bounds or date_bounds(valid_lines(orders, as_of))
    o = with_campaign_flag(o, cal, lo, hi)
    return o.mutate(channel=o.channel.coalesce(o.source))


def ranked_orders(o: ibis.Table) -> ibis.Table:
    """Orders numbered per customer (``order_no`` 1 = first) with ``first_date`` and ``days_since_first``."""
    w = ibis.window(group_by=o.customer_key, order_by=[o.ordered_at, o.source, o.order_id])
    o = o.mutate(order_no=ibis.row_number().over(w) + 1,
                 first_date=o.order_date.min().over(group_by=o.customer_key))
    return o.mutate(days_since_first=o.order_date.delta(o.first_date, unit="day"))


def first_orders(ranked: ibis.Table) -> ibis.Table:
    """Per customer: the first order's attributes (acquisition channel, category, SKU, campaign, points)."""
    f = ranked.filter(ranked.order_no == 1)
    used = (f.points_used + f.mall_coupon + f.shop_coupon) > 0
    return f.select(
        customer_key=f.customer_key, source=f.source, first_date=f.first_date, first_at=f.ordered_at,
        channel=f.channel, first_category=f.category.coalesce("(none)"), first_sku=f.sku,
        first_campaign=f.in_campaign, first_points=used,
    )

"""Shared building blocks: the valid lines as of a date, one row per order, one row per customer.

All of it is portable Ibis: day deltas on dates, ``year*12+month`` month indexes, no time-zone casts.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import ibis
import pandas as pd

from ..calendar import MALL_OF_SOURCE, CampaignCalendar, day_pieces
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


def order_bounds(orders: ibis.Table, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last date of the valid lines up to ``as_of`` (:func:`date_bounds`), asked once per
    :func:`sharing_order_tables` block."""
    shared = _SHARED.get()
    if shared is None:
        return date_bounds(valid_lines(orders, as_of))
    return shared.bounds((orders.op(), as_of), lambda: date_bounds(valid_lines(orders, as_of)))


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
        rows += [(source, *piece) for piece in day_pieces(f["start_at"], f["end_at"])]
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


Materialise = Callable[[str, ibis.Table], ibis.Table]

_SHARED: ContextVar[SharedOrderTables | None] = ContextVar("ltvkit_shared_order_tables", default=None)
_NAMES = itertools.count()
SUMMARY_COLUMNS = ("source", "order_id", "customer_key", "order_date", "revenue", "margin")


class SharedOrderTables:
    """The order tables (:func:`order_table`) built while :func:`sharing_order_tables` is open, each once.

    ``materialise(name, expr)`` stores an expression as a table of the engine and returns that table (the
    workspace's DuckDB: a temporary table). Every analysis that asks for the same orders (the same lines, date,
    margin settings, products, calendar and date bounds) then reads the stored table instead of grouping the order
    lines again; the summary columns (``detail=False``) are a projection of the detailed table, whose values they
    equal.
    """

    def __init__(self, materialise: Materialise) -> None:
        self._materialise = materialise
        self._tables: dict[Hashable, ibis.Table] = {}
        self._bounds: dict[Hashable, tuple[dt.date, dt.date]] = {}
        self._names: list[str] = []

    @property
    def names(self) -> list[str]:
        """The names of the tables materialised so far (for the caller to drop when done)."""
        return list(self._names)

    def table(self, key: Hashable, build: Callable[[], ibis.Table]) -> ibis.Table:
        if key not in self._tables:
            expr = build()
            name = f"_ltv_orders_{next(_NAMES)}"
            self._names.append(name)
            stored = self._materialise(name, expr)
            # read with the expression's own types: DuckDB stores a sum of integers as HUGEINT, which reads back
            # as a decimal, and a mean of decimals would be rounded
            self._tables[key] = stored if stored.schema() == expr.schema() else stored.cast(expr.schema())
        return self._tables[key]

    def holds(self, table: ibis.Table) -> bool:
        """Whether ``table`` is one of the stored tables."""
        return any(table.op() == t.op() for t in self._tables.values())

    def bounds(self, key: Hashable, compute: Callable[[], tuple[dt.date, dt.date]]) -> tuple[dt.date, dt.date]:
        if key not in self._bounds:
            self._bounds[key] = compute()
        return self._bounds[key]


@contextmanager
def sharing_order_tables(materialise: Materialise) -> Iterator[SharedOrderTables]:
    """Within the block, :func:`order_table` materialises each distinct order table once and returns the stored
    table (a report: about twenty-five analyses over the same orders). Per thread and per context; leaving the
    block stops the sharing, and the caller drops the tables it names (:attr:`SharedOrderTables.names`)."""
    shared = SharedOrderTables(materialise)
    token = _SHARED.set(shared)
    try:
        yield shared
    finally:
        _SHARED.reset(token)


@functools.lru_cache(maxsize=1)
def _default_calendar_key() -> str | None:
    """The shipped calendar as a key (read once: a calendar given explicitly but equal to it shares its table)."""
    return _dump(CampaignCalendar.default())


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    data = value.model_dump(mode="json") if hasattr(value, "model_dump") else value.to_dict()
    return json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)


def order_table(orders: ibis.Table, *, as_of: dt.date, settings: MarginSettings | None = None,
                products: ibis.Table | None = None, calendar: CampaignCalendar | None = None,
                bounds: tuple[dt.date, dt.date] | None = None, detail: bool = True) -> ibis.Table:
    """One row per valid order with money totals, margin, the first line's category and SKU, campaign flag.

    Columns: ``source, order_id, customer_key, order_date, revenue, margin``, and with ``detail`` also
    ``ordered_at, line_amount, channel, category, sku, points_used, mall_coupon, shop_coupon, in_campaign``.
    Inside :func:`sharing_order_tables` the table is built once per distinct set of arguments and stored.
    """
    shared = _SHARED.get()
    if shared is None:
        return _order_table(orders, as_of=as_of, settings=settings, products=products, calendar=calendar,
                            bounds=bounds, detail=detail)
    bounds = bounds or order_bounds(orders, as_of)
    key = (orders.op(), as_of, _dump(settings or MarginSettings()), None if products is None else products.op(),
           _default_calendar_key() if calendar is None else _dump(calendar), bounds)
    full = shared.table(key, lambda: _order_table(orders, as_of=as_of, settings=settings, products=products,
                                                  calendar=calendar, bounds=bounds, detail=True))
    return full if detail else full.select(*SUMMARY_COLUMNS)


def _order_table(orders: ibis.Table, *, as_of: dt.date, settings: MarginSettings | None,
                 products: ibis.Table | None, calendar: CampaignCalendar | None,
                 bounds: tuple[dt.date, dt.date] | None, detail: bool) -> ibis.Table:
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
    """Orders numbered per customer (``order_no`` 1 = first) with ``first_date`` and ``days_since_first``.

    Inside :func:`sharing_order_tables`, the numbering of a stored order table is stored too (once)."""
    shared = _SHARED.get()
    if shared is not None and shared.holds(o):
        return shared.table(("ranked", o.op()), lambda: _ranked_orders(o))
    return _ranked_orders(o)


def _ranked_orders(o: ibis.Table) -> ibis.Table:
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

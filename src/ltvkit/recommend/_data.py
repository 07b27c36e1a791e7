"""Order lines -> compact integer-coded purchase history (aggregated in the engine, small arrays in Python).

The engine groups canonical order lines to one row per customer × item × day (quantity summed); only that
table comes back to Python, where customers and items are coded as integers for numpy and scipy.sparse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._dates import parse_date
from ..exceptions import InputError, MissingDataError

_EPOCH = dt.date(1970, 1, 1)


def to_day(value: Any) -> int:
    """A date (or ``YYYY-MM-DD`` string, or timestamp) as days since 1970-01-01."""
    value = parse_date(value)
    if value is None:
        raise InputError(key="err.bad_date_value", value="None")
    return (value - _EPOCH).days


def from_day(day: int | np.ndarray) -> Any:
    """Days since 1970-01-01 back to ``datetime.date`` (scalar) or ``datetime64[D]`` (array)."""
    if np.ndim(day) == 0:
        return _EPOCH + dt.timedelta(days=int(day))
    return np.asarray(day, dtype="int64").astype("datetime64[D]")


def _as_ibis(lines: Any) -> Any:
    import ibis

    if isinstance(lines, ibis.Table):
        return lines
    if isinstance(lines, pd.DataFrame):
        return ibis.memtable(lines)
    if hasattr(lines, "to_pandas") and not isinstance(lines, ibis.Expr):
        return ibis.memtable(lines.to_pandas())
    raise InputError("Order lines must be an Ibis table (ws.orders()) or a pandas DataFrame of canonical columns.")


def _canonical(lines: Any, end: int | None) -> Any:
    """Ordered lines (not cancelled or returned) on or before ``end`` with ``_day``, ``_qty``, ``_price``,
    ``_cat`` and ``_name`` columns, as an Ibis expression of the engine that holds ``lines``."""
    import ibis

    t = _as_ibis(lines)
    cols = set(t.columns)
    missing = [c for c in ("customer_key", "sku") if c not in cols]
    if "order_date" not in cols and "ordered_at" not in cols:
        missing.append("order_date (or ordered_at)")
    if missing:
        raise InputError(f"Order lines lack column(s) {', '.join(missing)}; pass canonical order lines (ws.orders()).")
    if "status" in cols:
        t = t.filter(t.status.fill_null("ordered") == "ordered")
    date = t.order_date.cast("date") if "order_date" in cols else t.ordered_at.cast("timestamp").date()
    day = date.epoch_days().cast("int32")
    t = t.mutate(
        _day=day,
        _qty=(t.quantity.cast("float64") if "quantity" in cols else ibis.literal(1.0)),
        _price=(t.unit_price.cast("float64") if "unit_price" in cols else ibis.null().cast("float64")),
        _cat=(t.category.cast("string") if "category" in cols else ibis.null().cast("string")),
        _name=(t.product_name.cast("string") if "product_name" in cols else ibis.null().cast("string")),
    )
    t = t.filter(t.customer_key.notnull() & t.sku.notnull() & t._day.notnull())
    if end is not None:
        t = t.filter(t._day <= int(end))
    return t


def _grouped(t: Any, *, names: bool) -> Any:
    """One row per customer × sku × day of :func:`_canonical` lines (with the category and product name when
    ``names``)."""
    extra = {"category": t._cat.max(), "product_name": t._name.max()} if names else {}
    return t.group_by([t.customer_key.cast("string").name("customer_key"), t.sku.cast("string").name("sku"),
                       t._day.name("day")]).aggregate(quantity=t._qty.sum(), unit_price=t._price.mean(), **extra)


def aggregate_lines(lines: Any, *, end: int | None = None) -> pd.DataFrame:
    """One row per customer × sku × day with ``quantity``, ``unit_price``, ``category``, ``product_name``.

    Cancelled and returned lines are left out (a returned item is not a sign of need). Rows after ``end``
    (days since epoch, inclusive bound) are left out. The grouping runs in the engine that holds ``lines``.
    """
    df = _grouped(_canonical(lines, end), names=True).to_pyarrow().to_pandas()
    return df


@dataclass
class History:
    """Integer-coded purchase history up to ``as_of_day`` (one row per customer × item × day, sorted)."""

    customers: np.ndarray  # object array of customer keys
    items: np.ndarray  # object array of skus
    item_category: np.ndarray  # int32 code into categories
    categories: np.ndarray
    item_price: np.ndarray  # float64 median unit price (nan when unknown)
    item_name: np.ndarray  # object (sku when no name)
    user: np.ndarray  # int32, sorted by (user, day, item)
    item: np.ndarray  # int32
    day: np.ndarray  # int32 days since epoch
    qty: np.ndarray  # float32
    as_of_day: int

    @property
    def n_users(self) -> int:
        return len(self.customers)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def basket_id(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per line: basket index (one basket = one customer-day); plus basket user and basket day arrays."""
        new = np.ones(len(self.user), dtype=bool)
        new[1:] = (self.user[1:] != self.user[:-1]) | (self.day[1:] != self.day[:-1])
        bid = np.cumsum(new) - 1
        starts = np.flatnonzero(new)
        return bid, self.user[starts], self.day[starts]


def _sorted_codes(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Codes into the sorted distinct values of an Arrow string column (``pd.factorize(sort=True)`` without a
    Python string per row); the distinct values come back as an object array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    coded = pc.dictionary_encode(values)
    order = pc.array_sort_indices(coded.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    codes = rank[coded.indices.to_numpy()]
    return codes, coded.dictionary.take(order).to_numpy(zero_copy_only=False).astype(object)


def _history(ucode: np.ndarray, customers: np.ndarray, icode: np.ndarray, items: np.ndarray, day: np.ndarray,
             qty: np.ndarray, price: np.ndarray, item_cat: np.ndarray, item_name: np.ndarray,
             as_of_day: int) -> History:
    """A :class:`History` from coded rows and per-item category and name (object arrays, ``None`` unknown)."""
    order = np.lexsort((icode, day, ucode))
    user = ucode[order].astype(np.int32)
    item = icode[order].astype(np.int32)
    day_s = day[order].astype(np.int32)
    qty_s = qty.astype("float64", copy=False)[order].astype(np.float32)
    del order
    price_med = pd.Series(price.astype("float64", copy=False)).groupby(icode, sort=True).median()
    price_med = price_med.reindex(np.arange(len(items))).to_numpy(dtype="float64")
    cat = np.asarray([c if isinstance(c, str) else "" for c in item_cat], dtype=object)
    ccode, categories = pd.factorize(cat, sort=True)
    names = np.asarray([n if isinstance(n, str) else s for n, s in zip(item_name, items, strict=True)], dtype=object)
    return History(
        customers=np.asarray(customers, dtype=object), items=np.asarray(items, dtype=object),
        item_category=ccode.astype(np.int32), categories=np.asarray(categories, dtype=object),
        item_price=price_med, item_name=names, user=user, item=item, day=day_s, qty=qty_s, as_of_day=int(as_of_day))


def encode(df: pd.DataFrame, as_of_day: int) -> History:
    """Code an :func:`aggregate_lines` frame (rows up to ``as_of_day``) as a :class:`History`."""
    df = df[df["day"] <= as_of_day]
    if len(df) == 0:
        raise MissingDataError(key="err.no_orders_before")
    ucode, customers = pd.factorize(df["customer_key"], sort=True)
    icode, items = pd.factorize(df["sku"], sort=True)
    meta = pd.DataFrame({"i": icode, "cat": df["category"].to_numpy(), "name": df["product_name"].to_numpy()})
    per_item = meta.groupby("i", sort=True).agg(cat=("cat", "max"), name=("name", "max"))
    per_item = per_item.reindex(np.arange(len(items)))
    return _history(ucode, np.asarray(customers, dtype=object), icode, np.asarray(items, dtype=object),
                    df["day"].to_numpy(), df["quantity"].to_numpy(dtype="float64"),
                    df["unit_price"].to_numpy(dtype="float64"), per_item["cat"].to_numpy(dtype=object),
                    per_item["name"].to_numpy(dtype=object), as_of_day)


def load_history(lines: Any, as_of: Any = None) -> History:
    """Aggregate and code order lines on or before ``as_of`` (default: the last order date).

    The engine groups the lines and names each item; only integer days, quantities and prices and the
    customer and sku columns (coded here through Arrow, without a Python string per row) come back.
    """
    import pyarrow as pa

    end = None if as_of is None else to_day(as_of)
    t = _canonical(lines, end)
    rows = _grouped(t, names=False).to_pyarrow()
    if rows.num_rows == 0:
        if end is not None:
            raise MissingDataError(key="err.no_orders_before_day", day=str(from_day(end)))
        raise MissingDataError(key="err.no_orders")
    day = rows.column("day").to_numpy()
    as_of_day = int(day.max()) if end is None else end
    ucode, customers = _sorted_codes(rows.column("customer_key"))
    icode, items = _sorted_codes(rows.column("sku"))
    qty = rows.column("quantity").to_numpy()
    price = rows.column("unit_price").to_numpy()
    del rows
    meta = t.group_by(t.sku.cast("string").name("sku")).aggregate(category=t._cat.max(),
                                                                  product_name=t._name.max()).to_pyarrow()
    at = pd.Index(meta.column("sku").to_pylist()).get_indexer(items)
    item_cat = np.asarray(meta.column("category").to_pylist(), dtype=object)[at]
    item_name = np.asarray(meta.column("product_name").to_pylist(), dtype=object)[at]
    h = _history(ucode, customers, icode, items, day, qty, price, item_cat, item_name, as_of_day)
    del ucode, icode, day, qty, price
    pa.default_memory_pool().release_unused()  # Arrow keeps freed memory for reuse; numpy takes over from here
    return h

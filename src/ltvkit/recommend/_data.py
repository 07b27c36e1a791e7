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


def aggregate_lines(lines: Any, *, end: int | None = None) -> pd.DataFrame:
    """One row per customer × sku × day with ``quantity``, ``unit_price``, ``category``, ``product_name``.

    Cancelled and returned lines are left out (a returned item is not a sign of need). Rows after ``end``
    (days since epoch, inclusive bound) are left out. The grouping runs in the engine that holds ``lines``.
    """
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
    g = t.group_by([t.customer_key.cast("string").name("customer_key"), t.sku.cast("string").name("sku"),
                    t._day.name("day")]).aggregate(
        quantity=t._qty.sum(), unit_price=t._price.mean(), category=t._cat.max(), product_name=t._name.max())
    df = g.to_pyarrow().to_pandas()
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


def encode(df: pd.DataFrame, as_of_day: int) -> History:
    """Code an :func:`aggregate_lines` frame (rows up to ``as_of_day``) as a :class:`History`."""
    df = df[df["day"] <= as_of_day]
    if len(df) == 0:
        raise MissingDataError(key="err.no_orders_before")
    ucode, customers = pd.factorize(df["customer_key"], sort=True)
    icode, items = pd.factorize(df["sku"], sort=True)
    order = np.lexsort((icode, df["day"].to_numpy(), ucode))
    user = ucode[order].astype(np.int32)
    item = icode[order].astype(np.int32)
    day = df["day"].to_numpy()[order].astype(np.int32)
    qty = df["quantity"].to_numpy(dtype="float64")[order].astype(np.float32)
    meta = pd.DataFrame({"i": icode, "cat": df["category"].to_numpy(), "price": df["unit_price"].to_numpy(dtype="float64"),
                         "name": df["product_name"].to_numpy()})
    per_item = meta.groupby("i", sort=True).agg(cat=("cat", "max"), price=("price", "median"), name=("name", "max"))
    per_item = per_item.reindex(np.arange(len(items)))
    cat = per_item["cat"].astype(object).where(per_item["cat"].notna(), "")
    ccode, categories = pd.factorize(cat.to_numpy(), sort=True)
    names = per_item["name"].astype(object).where(per_item["name"].notna(), pd.Series(np.asarray(items, dtype=object)))
    return History(
        customers=np.asarray(customers, dtype=object), items=np.asarray(items, dtype=object),
        item_category=ccode.astype(np.int32), categories=np.asarray(categories, dtype=object),
        item_price=per_item["price"].to_numpy(dtype="float64"), item_name=names.to_numpy(dtype=object),
        user=user, item=item, day=day, qty=qty, as_of_day=int(as_of_day))


def load_history(lines: Any, as_of: Any = None) -> History:
    """Aggregate and code order lines on or before ``as_of`` (default: the last order date)."""
    end = None if as_of is None else to_day(as_of)
    df = aggregate_lines(lines, end=end)
    if len(df) == 0:
        if end is not None:
            raise MissingDataError(key="err.no_orders_before_day", day=str(from_day(end)))
        raise MissingDataError(key="err.no_orders")
    as_of_day = int(df["day"].max()) if end is None else end
    return encode(df, as_of_day)

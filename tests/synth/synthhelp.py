"""Shared checks on generated shops."""

from __future__ import annotations

import pandas as pd


def rhythm_gap_ratios(shop) -> pd.Series:
    """Each rhythm buyer's gap between two purchases of their rhythm item, over quantity x the item's cycle."""
    t = shop.truth[shop.truth["rhythm"]].set_index("customer_key")
    lines = pd.concat([shop.order_lines, shop.holdout_lines])
    lines = lines[lines["customer_key"].isin(t.index)]
    lines = lines[lines["sku"].astype(str).to_numpy() == t.loc[lines["customer_key"], "rhythm_sku"].to_numpy()]
    lines = lines.sort_values(["customer_key", "ordered_at"])
    gap = lines.groupby("customer_key")["ordered_at"].diff().dt.total_seconds() / 86400
    cycle = shop.catalog.set_index("sku")["cycle_days"]
    per = cycle.loc[lines["sku"].astype(str)].to_numpy() * t.loc[lines["customer_key"], "rhythm_quantity"].to_numpy()
    return (gap / per).dropna()


def next_order_rates(lines: pd.DataFrame, x: str, y: str) -> tuple[float, float]:
    """P(next order holds y | this order holds x) and P(next order holds y | it does not)."""
    sku = lines["sku"].astype(str)
    flags = pd.DataFrame({"order_id": lines["order_id"], "customer_key": lines["customer_key"],
                          "ordered_at": lines["ordered_at"], "x": sku == x, "y": sku == y})
    orders = flags.groupby("order_id").agg(customer_key=("customer_key", "first"),
                                           ordered_at=("ordered_at", "first"), x=("x", "any"), y=("y", "any"))
    orders = orders.sort_values(["customer_key", "ordered_at"])
    prev_x = orders.groupby("customer_key")["x"].shift()
    has_prev = prev_x.notna()
    after_x = prev_x[has_prev].astype(bool)
    nxt_y = orders.loc[has_prev, "y"]
    return nxt_y[after_x].mean(), nxt_y[~after_x].mean()

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

"""A small synthetic shop with known replenishment cycles and item affinities (for tests and the benchmark).

Each customer has a few "staple" consumables re-bought on a personal cycle (item cycle × a personal factor,
with jitter and a chance to stop after every purchase), plus occasional explore purchases of popular items.
Every purchase of an item triggers its partner item (another category) within 0–14 days with a fixed chance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

START = dt.date(2023, 1, 1)


@dataclass
class SimShop:
    order_lines: pd.DataFrame
    as_of: dt.date  # the cut: the last ``horizon_days`` are the holdout
    horizon_days: int
    item_cycle: pd.Series  # sku -> true cycle in days (NaN for durables)
    partner: pd.Series  # sku -> partner sku

    @property
    def holdout(self) -> pd.DataFrame:
        return self.order_lines[self.order_lines["order_date"] > pd.Timestamp(self.as_of)]


def simulate_shop(customers: int = 1500, *, seed: int = 0, n_items: int = 400, n_categories: int = 20,
                  days: int = 540, horizon_days: int = 60, staples_mean: float = 1.5, stop_prob: float = 0.05,
                  explore_per_90d: float = 1.0, partner_prob: float = 0.3,
                  cycles: tuple[int, ...] = (14, 21, 30, 45, 60, 90, 120, 180)) -> SimShop:
    rng = np.random.default_rng(seed)
    cat = rng.integers(0, n_categories, n_items)
    price = np.round(np.exp(rng.normal(7.0, 0.5, n_categories))[cat] * np.exp(rng.normal(0, 0.3, n_items)))
    pop = 1.0 / (np.arange(n_items) + 10.0)
    pop = rng.permutation(pop)
    pop /= pop.sum()
    consumable = rng.random(n_items) < 0.6
    cycle = np.where(consumable, rng.choice(cycles, n_items), np.nan)
    partner = (np.arange(n_items) + rng.integers(1, n_items, n_items)) % n_items

    start = rng.integers(0, int(days * 0.8), customers)
    # staples
    n_st = 1 + rng.poisson(staples_mean - 1 if staples_mean > 1 else 0.0, customers)
    cons_idx = np.flatnonzero(consumable)
    cp = pop[cons_idx] / pop[cons_idx].sum()
    su = np.repeat(np.arange(customers), n_st)
    si = cons_idx[rng.choice(len(cons_idx), len(su), p=cp)]
    pcycle = cycle[si] * np.exp(rng.normal(0, 0.15, len(su)))
    m = int(np.ceil(days / 10)) + 1
    gaps = pcycle[:, None] * np.exp(rng.normal(0, 0.1, (len(su), m)))
    gaps[:, 0] = rng.uniform(0, 45, len(su))
    t = start[su][:, None] + np.cumsum(gaps, axis=1)
    alive = rng.geometric(stop_prob, len(su))
    mask = (np.arange(m)[None, :] < alive[:, None]) & (t < days)
    eu = np.broadcast_to(su[:, None], t.shape)[mask]
    ei = np.broadcast_to(si[:, None], t.shape)[mask]
    et = t[mask]
    # explore purchases of popular items
    active = days - start
    n_ex = rng.poisson(explore_per_90d * active / 90.0)
    xu = np.repeat(np.arange(customers), n_ex)
    xt = start[xu] + rng.uniform(0, 1, len(xu)) * active[xu]
    xi = rng.choice(n_items, len(xu), p=pop)
    bu, bi, bt = np.r_[eu, xu], np.r_[ei, xi], np.r_[et, xt]
    # partner purchases
    trig = rng.random(len(bu)) < partner_prob
    pt = bt[trig] + rng.integers(0, 15, trig.sum())
    keep = pt < days
    u = np.r_[bu, bu[trig][keep]]
    i = np.r_[bi, partner[bi[trig][keep]]]
    d = np.floor(np.r_[bt, pt[keep]]).astype(np.int64)
    df = pd.DataFrame({"u": u, "i": i, "d": d}).drop_duplicates().sort_values(["u", "d", "i"])
    order_no = df.groupby(["u", "d"], sort=False).ngroup()
    line_no = df.groupby(["u", "d"], sort=False).cumcount() + 1
    base = np.datetime64(START)
    dates = (base + df["d"].to_numpy().astype("timedelta64[D]")).astype("datetime64[s]")
    skus = np.array([f"S{j:04d}" for j in range(n_items)], dtype=object)
    lines = pd.DataFrame({
        "source": "sim",
        "order_id": np.char.add("o", order_no.to_numpy().astype(str)),
        "line_no": line_no.to_numpy().astype(np.int32),
        "customer_key": np.char.add("c", df["u"].to_numpy().astype(str)),
        "ordered_at": pd.to_datetime(dates).as_unit("us"),
        "order_date": pd.to_datetime(dates).normalize().as_unit("s"),
        "sku": skus[df["i"].to_numpy()],
        "product_name": np.char.add("Item ", df["i"].to_numpy().astype(str)),
        "category": np.char.add("cat", cat[df["i"].to_numpy()].astype(str)),
        "quantity": np.int32(1),
        "unit_price": price[df["i"].to_numpy()].astype(np.int64),
        "line_amount": price[df["i"].to_numpy()].astype(np.int64),
        "shop_coupon": np.int64(0),
        "mall_coupon": np.int64(0),
        "points_used": np.int64(0),
        "shipping_fee": np.int64(0),
        "status": "ordered",
    })
    as_of = START + dt.timedelta(days=days - horizon_days - 1)
    return SimShop(lines.reset_index(drop=True), as_of, horizon_days, pd.Series(cycle, index=skus),
                   pd.Series(skus[partner], index=skus))

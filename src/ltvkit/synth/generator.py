"""Generate a synthetic Japanese mall shop with known truth (vectorised numpy, deterministic by seed).

The generative story, per customer (see docs/synth.md):

1. Acquisition time over the observation period, denser inside campaign windows and growing over time;
   acquisition channel (mall search, mall ads, Super SALE, own site, LINE) depends on whether the customer arrived
   in a campaign; each channel has a cost per new customer.
2. Type: *point-driven* customers (more likely from ads and Super SALE) buy on a campaign-weighted clock and use
   points and mall coupons; *loyal* customers buy on their own clock.
3. Buy-till-you-die (Pareto/NBD): purchase rate ``lambda ~ Gamma(r, alpha)`` per day, lifetime
   ``tau ~ Exp(mu)`` with ``mu ~ Gamma(s, beta)``; being acquired in a campaign multiplies ``mu``
   (point-acquired cohorts really are worth less). A loyal customer whose rate fits a consumable's cycle buys it
   on rhythm (gap = quantity x cycle x lognormal noise) instead of at exponential gaps.
4. Spend level ``~ Gamma`` (mean 1) scales basket size and quantities.
5. What is bought: the first order is often a trial size for ad and Super SALE customers; later orders upgrade
   trial -> full size, follow cross-sell affinities (a row-stochastic next-item matrix) or re-buy the rhythm item.
6. Subscriptions (定期購入): an order of a subscribable item may start one; deliveries every cycle until a
   cancellation (hazard by delivery count) or the customer's dropout. Orders are cancelled or returned at small
   rates.

Everything after ``observation_end`` (up to ``holdout_days`` later) is returned apart as the holdout.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..calendar import CampaignCalendar
from ..exceptions import InputError
from ._catalog import CATALOGS, CHANNEL_COST_YEN, CHANNELS, load_catalog
from ._clock import HOUR_PROFILE, WeightedClock, sample_time_of_day
from ._names import make_contacts
from .shop import SyntheticShop

__all__ = ["DEFAULT_PARAMS", "MALLS", "generate_shop"]

MALLS = ("rakuten", "yahoo", "shopify")

DEFAULT_PARAMS: dict[str, Any] = {
    # buy-till-you-die mixing distributions (rates per day)
    "r": 0.6, "alpha": 120.0,           # purchase rate lambda ~ Gamma(shape r, rate alpha): mean r/alpha per day
    "s": 0.7, "beta": 150.0,            # dropout rate mu ~ Gamma(shape s, rate beta)
    "campaign_dropout_factor": 2.0,     # mu multiplier for customers acquired inside a campaign
    "spend_shape": 4.0,                 # spend level ~ Gamma(shape, 1/shape): mean 1
    # point-driven customers
    "point_driven_share": {"mall_search": 0.30, "mall_ads": 0.35, "super_sale": 0.65, "own_site": 0.05, "line": 0.10},
    "campaign_weight": 8.0,             # intensity multiplier inside campaigns on the point-driven clock
    # acquisition
    "acquisition_growth": 1.0,          # arrivals at the end of the period are (1 + growth) x those at the start
    "acquisition_window_boost": 2.0,    # arrivals in marathon / Super SALE windows
    "acquisition_day_boost": 1.5,       # arrivals on day-rule campaign days
    # rhythm and items
    "rhythm_share": 0.8,                # share of loyal customers with a fitting consumable who buy it on rhythm
    "rhythm_sigma": 0.15,               # lognormal noise of the rhythm gap
    "rhythm_item_prob": 0.9,            # a rhythm order contains the rhythm item
    "trial_first_share": 0.35,          # first order is a trial size (ads / Super SALE customers)
    "upgrade_prob": {"loyal": 0.55, "point_driven": 0.2},
    "extra_lines_rate": 0.45,           # Poisson mean of extra lines per order (times spend level)
    # subscriptions
    "subscription_start_prob": {"loyal": 0.10, "point_driven": 0.02},
    "subscription_cancel_hazard": [0.30, 0.20, 0.12, 0.08, 0.05],
    # money and status
    "free_shipping_from": 3980, "shipping_fee": 550,
    "cancel_rate": 0.02, "return_rate": 0.01,
}

_ACQ_CHANNEL_P = {  # window, day rule, ordinary hour
    "window": [0.20, 0.25, 0.50, 0.02, 0.03],
    "day": [0.45, 0.30, 0.00, 0.10, 0.15],
    "base": [0.50, 0.25, 0.00, 0.12, 0.13],
    "own": [0.00, 0.00, 0.00, 0.55, 0.45],
}
_SHOP_NO = {"rakuten": "383920", "yahoo": "ltv-demo", "shopify": ""}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in override.items():
        if k not in base:
            raise InputError(f"Unknown generator parameter {k!r}; see ltvkit.synth.DEFAULT_PARAMS for the names.")
        out[k] = {**base[k], **v} if isinstance(base[k], dict) and isinstance(v, dict) else v
    return out


def _sample_rows(cum: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one column index per row of a row-stochastic matrix (given as row-wise cumulative sums)."""
    u = rng.random(len(rows))
    out = np.empty(len(rows), dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    srows = rows[order]
    present = np.flatnonzero(np.diff(srows, prepend=-1))  # first position of each row that occurs
    ends = np.r_[present[1:], len(srows)]
    for lo, hi in zip(present.tolist(), ends.tolist(), strict=True):
        sl = order[lo:hi]
        out[sl] = np.minimum(np.searchsorted(cum[srows[lo]], u[sl], side="right"), cum.shape[1] - 1)
    return out


def _sample_weighted(p: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    cdf = np.cumsum(p) / np.sum(p)
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(p) - 1)


def _allocate(amount: np.ndarray, order_of_line: np.ndarray, line_amount: np.ndarray,
              order_total: np.ndarray) -> np.ndarray:
    """Split order-level amounts over lines in proportion to line amounts (integer largest remainder).

    Lines are sorted by order and line number; ties in the remainder go to the earlier line.
    """
    amt = amount[order_of_line].astype(np.int64)
    tot = order_total[order_of_line].astype(np.int64)
    safe = np.where(tot > 0, tot, 1)
    num = amt * line_amount
    share = np.where(tot > 0, num // safe, 0)
    left = amount - np.bincount(order_of_line, weights=share, minlength=len(amount)).astype(np.int64)
    lines = np.flatnonzero(left[order_of_line] > 0)  # only orders with a remainder to hand out
    if len(lines):
        frac = (num % safe)[lines]
        orders = order_of_line[lines]
        idx = np.lexsort((lines, -frac, orders))
        o_sorted = orders[idx]
        rank = np.arange(len(lines)) - np.searchsorted(o_sorted, o_sorted, side="left")
        share[lines[idx]] += (rank < left[o_sorted]).astype(np.int64)
    return share


def generate_shop(
    customers: int = 20_000,
    seed: int = 0,
    start: dt.date = dt.date(2023, 4, 1),
    observation_end: dt.date = dt.date(2025, 12, 31),
    holdout_days: int = 180,
    mall: str = "rakuten",
    *,
    calendar: CampaignCalendar | None = None,
    params: dict[str, Any] | None = None,
    catalog: str = "demo",
) -> SyntheticShop:
    """Generate a synthetic shop with known truth.

    Parameters
    ----------
    customers
        Number of customers acquired between ``start`` and ``observation_end``.
    seed
        Random seed; the same arguments and seed give identical data.
    start, observation_end
        The observation period (both dates inclusive). Customers are acquired only inside it.
    holdout_days
        Days after ``observation_end`` whose orders are returned apart in ``holdout_lines``.
    mall
        ``rakuten``, ``yahoo`` (mall campaigns, points and mall coupons apply) or ``shopify`` (own site).
    calendar
        The campaign calendar (default :meth:`CampaignCalendar.default`); the analytics must use the same.
    params
        Overrides of :data:`DEFAULT_PARAMS` (nested dicts are merged key by key).
    catalog
        ``demo`` (28 hand-written SKUs, easy to read) or ``wide`` (about 360 SKUs built from product lines ×
        variants × sizes, Zipf-like popularity, regimen and cross-category cross-sell pairs; see docs/synth.md).

    Returns
    -------
    SyntheticShop

    Examples
    --------
    >>> shop = generate_shop(customers=200, seed=1)
    >>> bool(shop.truth["type"].isin(["point_driven", "loyal"]).all())
    True
    """
    if mall not in MALLS:
        raise InputError(f"Unknown mall {mall!r}; use one of {', '.join(MALLS)}.")
    if customers < 1:
        raise InputError("customers must be at least 1.")
    if observation_end <= start:
        raise InputError("observation_end must be after start.")
    if holdout_days < 0:
        raise InputError("holdout_days must be 0 or more.")
    if catalog not in CATALOGS:
        raise InputError(f"Unknown catalog {catalog!r}; use one of {', '.join(CATALOGS)}.")
    p = _merge(DEFAULT_PARAMS, params or {})
    cal = calendar if calendar is not None else CampaignCalendar.default()
    seeds = np.random.SeedSequence(seed).spawn(6)
    rng_acq, rng_cust, rng_proc, rng_lines, rng_money, rng_names = (np.random.default_rng(s) for s in seeds)

    catalog_name = catalog
    catalog, affinity, trans = load_catalog(catalog_name)
    n_items = len(catalog)
    trans_cum = np.cumsum(trans, axis=1)
    cycle = catalog["cycle_days"].to_numpy(np.int64)
    role = catalog["role"].to_numpy()
    is_trial = role == "trial"
    upgrade_idx = pd.Index(catalog["sku"]).get_indexer(catalog["upgrade_to"])  # -1 where there is none
    subscribable = catalog["subscribable"].to_numpy(bool)
    pop = catalog["popularity"].to_numpy(float)

    # -- the hourly grid and campaign flags ---------------------------------------------------------------
    obs_days = (observation_end - start).days + 1
    horizon = obs_days + holdout_days
    n_hours = horizon * 24
    start_ts = np.datetime64(dt.datetime.combine(start, dt.time()), "us")
    hour_starts = start_ts + np.arange(n_hours).astype("timedelta64[h]")
    has_campaigns = mall in ("rakuten", "yahoo")
    camp_mall = mall if has_campaigns else "__none__"
    flag = cal.flag_array(hour_starts, camp_mall) if has_campaigns else np.zeros(n_hours, bool)
    in_window = np.zeros(n_hours, bool)
    if has_campaigns:
        end_date = start + dt.timedelta(days=horizon)
        for w in cal.windows_between(start, end_date, mall):
            lo = np.datetime64(w.start, "us")
            hi = np.datetime64(w.end, "us")
            in_window |= (hour_starts >= lo) & (hour_starts < hi)
    hod = HOUR_PROFILE[np.arange(n_hours) % 24]
    loyal_clock = WeightedClock(hod)
    pd_clock = WeightedClock(hod * np.where(flag, p["campaign_weight"], 1.0))

    # -- acquisition --------------------------------------------------------------------------------------
    n = customers
    obs_hours = obs_days * 24
    dens = hod[:obs_hours] * (1.0 + p["acquisition_growth"] * np.arange(obs_hours) / obs_hours)
    dens = dens * np.where(in_window[:obs_hours], p["acquisition_window_boost"],
                           np.where(flag[:obs_hours], p["acquisition_day_boost"], 1.0))
    acq_hour = np.sort(_sample_weighted(dens, n, rng_acq))
    acq_t = (acq_hour + rng_acq.random(n)) / 24.0
    acq_in_campaign = flag[acq_hour]
    kind = np.where(in_window[acq_hour], 0, np.where(flag[acq_hour], 1, 2)) if has_campaigns else np.full(n, 3)
    ch_p = np.array([_ACQ_CHANNEL_P[k] for k in ("window", "day", "base", "own")])
    ch_cum = np.cumsum(ch_p, axis=1) / ch_p.sum(axis=1, keepdims=True)
    channel = _sample_rows(ch_cum, kind, rng_acq)

    # -- customer-level latent traits ---------------------------------------------------------------------
    pd_share = np.array([p["point_driven_share"][c] for c in CHANNELS]) if has_campaigns else np.zeros(len(CHANNELS))
    point_driven = rng_cust.random(n) < pd_share[channel]
    lam = rng_cust.gamma(p["r"], 1.0 / p["alpha"], n)
    mu = rng_cust.gamma(p["s"], 1.0 / p["beta"], n) * np.where(acq_in_campaign, p["campaign_dropout_factor"], 1.0)
    tau = rng_cust.exponential(1.0, n) / mu
    death = acq_t + tau
    spend = rng_cust.gamma(p["spend_shape"], 1.0 / p["spend_shape"], n)
    consumables = np.flatnonzero((cycle > 0) & ~is_trial)
    main_item = consumables[_sample_weighted(pop[consumables], n, rng_cust)]
    raw_qty = 1.0 / (lam * cycle[main_item])
    rhythm = (~point_driven & (raw_qty >= 0.75) & (raw_qty < 3.5) & (rng_cust.random(n) < p["rhythm_share"]))
    rhythm_qty = np.clip(np.rint(raw_qty), 1, 3).astype(np.int64)
    sigma = p["rhythm_sigma"]
    rate = np.where(rhythm, 1.0 / (rhythm_qty * cycle[main_item] * np.exp(sigma**2 / 2)), lam)
    end_t = np.minimum(death, horizon)
    upgrade_p = np.where(point_driven, p["upgrade_prob"]["point_driven"], p["upgrade_prob"]["loyal"])
    sub_p = np.where(point_driven, p["subscription_start_prob"]["point_driven"], p["subscription_start_prob"]["loyal"])

    # -- first orders -------------------------------------------------------------------------------------
    trials = np.flatnonzero(is_trial)
    trial_first = np.isin(channel, [CHANNELS.index("mall_ads"), CHANNELS.index("super_sale")]) & (
        rng_proc.random(n) < p["trial_first_share"])
    first = _sample_weighted(pop * ~is_trial, n, rng_proc)
    first = np.where(trial_first, trials[_sample_weighted(pop[trials], n, rng_proc)], first)
    first = np.where(rhythm, main_item, first)

    o_cust: list[np.ndarray] = []
    o_t: list[np.ndarray] = []
    o_item: list[np.ndarray] = []
    o_qty: list[np.ndarray] = []
    o_subscribe: list[np.ndarray] = []
    subscribed = np.zeros(n, bool)

    def _record(cust: np.ndarray, t: np.ndarray, item: np.ndarray) -> None:
        qty = np.where(rhythm[cust] & (item == main_item[cust]), rhythm_qty[cust],
                       1 + rng_proc.poisson(0.15 * spend[cust]))
        qty = np.where(is_trial[item], 1, qty)
        start_sub = (~subscribed[cust] & ~rhythm[cust] & subscribable[item] & (rng_proc.random(len(cust)) < sub_p[cust]))
        subscribed[cust[start_sub]] = True
        o_cust.append(cust)
        o_t.append(t)
        o_item.append(item)
        o_qty.append(qty)
        o_subscribe.append(start_sub)

    cust = np.arange(n)
    _record(cust, acq_t, first)
    t = acq_t.copy()
    last = first.copy()
    while len(cust):
        # next order time: rhythm gap, or exponential gap in busy time of the customer's clock
        nxt = np.empty(len(cust))
        rh = rhythm[cust]
        if rh.any():
            c = cust[rh]
            gap = rhythm_qty[c] * cycle[main_item[c]] * rng_proc.lognormal(0.0, sigma, len(c))
            nxt[rh] = sample_time_of_day(t[rh] + gap, rng_proc)
        pdm = ~rh & point_driven[cust]
        lym = ~rh & ~point_driven[cust]
        for mask, clock in ((pdm, pd_clock), (lym, loyal_clock)):
            if mask.any():
                c = cust[mask]
                e = rng_proc.exponential(1.0, len(c)) / lam[c]
                nxt[mask] = clock.inverse(clock.busy(t[mask]) + e)
        keep = nxt < end_t[cust]
        cust, t, last = cust[keep], nxt[keep], last[keep]
        if not len(cust):
            break
        item = _sample_rows(trans_cum, last, rng_proc)
        up = is_trial[last] & (rng_proc.random(len(cust)) < upgrade_p[cust])
        item = np.where(up, upgrade_idx[np.maximum(last, 0)], item)
        rh_item = rhythm[cust] & (rng_proc.random(len(cust)) < p["rhythm_item_prob"])
        item = np.where(rh_item, main_item[cust], item)
        _record(cust, t, item)
        last = item

    oc = np.concatenate(o_cust)
    ot = np.concatenate(o_t)
    oi = np.concatenate(o_item)
    oq = np.concatenate(o_qty)
    osub = np.concatenate(o_subscribe)
    n_reg = len(oc)

    # -- subscriptions: delivery 1 is the order that started it -------------------------------------------
    sub_orders = np.flatnonzero(osub)
    n_sub = len(sub_orders)
    sub_cust = oc[sub_orders]
    sub_item = oi[sub_orders]
    sub_t0 = ot[sub_orders]
    sub_cycle = cycle[sub_item]
    hazard = np.asarray(p["subscription_cancel_hazard"], float)
    sub_deliveries = np.ones(n_sub, dtype=np.int64)
    sub_cancelled_after = np.zeros(n_sub, dtype=np.int64)  # delivery count after which it was cancelled (0 = not)
    sub_end_reason = np.full(n_sub, "active", dtype=object)
    d_cust, d_t, d_item, d_sub, d_count = [], [], [], [], []
    live = np.arange(n_sub)
    k = 1
    while len(live):
        # delivery k + 1 is due one cycle later: the customer's dropout ends the subscription, the horizon
        # censors it, otherwise it is cancelled after delivery k with the hazard of k
        tk = sub_t0[live] + k * sub_cycle[live]
        dead = tk >= death[sub_cust[live]]
        sub_end_reason[live[dead & (tk < horizon)]] = "dropout"
        ok = tk < end_t[sub_cust[live]]
        live, tk = live[ok], tk[ok]
        h = hazard[min(k - 1, len(hazard) - 1)]
        cancel = rng_proc.random(len(live)) < h
        sub_cancelled_after[live[cancel]] = k
        sub_end_reason[live[cancel]] = "cancelled"
        live, tk = live[~cancel], tk[~cancel]
        k += 1
        sub_deliveries[live] = k
        d_cust.append(sub_cust[live])
        d_t.append(tk)
        d_item.append(sub_item[live])
        d_sub.append(live)
        d_count.append(np.full(len(live), k))
    dc = np.concatenate(d_cust) if d_cust else np.zeros(0, np.int64)
    all_cust = np.concatenate([oc, dc])
    all_t = np.concatenate([ot, np.concatenate(d_t) if d_t else np.zeros(0)])
    all_item = np.concatenate([oi, np.concatenate(d_item) if d_item else np.zeros(0, np.int64)])
    all_qty = np.concatenate([oq, np.ones(len(dc), np.int64)])
    all_sub = np.full(len(all_cust), -1, np.int64)
    all_sub[sub_orders] = np.arange(n_sub)
    all_sub[n_reg:] = np.concatenate(d_sub) if d_sub else np.zeros(0, np.int64)
    all_count = np.zeros(len(all_cust), np.int64)
    all_count[sub_orders] = 1
    all_count[n_reg:] = np.concatenate(d_count) if d_count else np.zeros(0, np.int64)
    is_delivery = np.zeros(len(all_cust), bool)
    is_delivery[n_reg:] = True
    for chunks in (o_cust, o_t, o_item, o_qty, o_subscribe, d_cust, d_t, d_item, d_sub, d_count):
        chunks.clear()
    del oc, ot, oi, oq, osub, dc

    # order times to whole seconds (exports carry seconds), then sort orders by time
    secs = np.floor(all_t * 86400.0).astype(np.int64)
    order = np.lexsort((all_cust, secs))
    del all_t
    secs, all_cust, all_item, all_qty = secs[order], all_cust[order], all_item[order], all_qty[order]
    all_sub, all_count, is_delivery = all_sub[order], all_count[order], is_delivery[order]
    n_orders = len(secs)
    first_order = np.zeros(n_orders, bool)
    _, first_pos = np.unique(all_cust, return_index=True)
    first_order[first_pos] = True
    order_hour = np.minimum(secs // 3600, n_hours - 1)
    order_campaign = flag[order_hour]

    # -- lines: primary line + cross-sell extras ------------------------------------------------------------
    n_extra = np.where(is_delivery | (all_sub >= 0), 0,
                       np.minimum(rng_lines.poisson(p["extra_lines_rate"] * spend[all_cust]), 3))
    ex_order = np.repeat(np.arange(n_orders), n_extra)
    ex_item = _sample_rows(trans_cum, all_item[ex_order], rng_lines)
    ex_pos = np.arange(len(ex_order)) - np.repeat(np.cumsum(n_extra) - n_extra, n_extra) + 1
    l_order = np.concatenate([np.arange(n_orders), ex_order])
    l_item = np.concatenate([all_item, ex_item])
    l_pos = np.concatenate([np.zeros(n_orders, np.int64), ex_pos])
    l_qty = np.concatenate([all_qty, np.ones(len(ex_order), np.int64)])
    key = l_order * n_items + l_item
    srt = np.lexsort((l_pos, l_order))
    key_s = key[srt]
    # drop an extra line that repeats an item already in the order (keep the earliest position)
    _, uniq_first = np.unique(key_s, return_index=True)
    keep = np.zeros(len(key_s), bool)
    keep[uniq_first] = True
    srt = srt[keep]
    l_order, l_item, l_qty = l_order[srt], l_item[srt], l_qty[srt]
    n_lines = len(l_order)
    line_start = np.searchsorted(l_order, np.arange(n_orders))
    line_no = (np.arange(n_lines) - line_start[l_order] + 1).astype(np.int32)
    del n_extra, ex_order, ex_item, ex_pos, l_pos, key, srt, key_s, keep, uniq_first, line_start

    price = catalog["price"].to_numpy(np.int64)
    sub_price = catalog["subscription_price"].to_numpy(np.int64)
    unit_cost = catalog["unit_cost"].to_numpy(np.int64)
    on_sub = all_sub[l_order] >= 0
    unit_price = np.where(on_sub, sub_price[l_item], price[l_item])
    line_amount = unit_price * l_qty
    line_cost = unit_cost[l_item] * l_qty
    items_total = np.bincount(l_order, weights=line_amount, minlength=n_orders).astype(np.int64)

    # -- order-level money: shipping, coupons, points ----------------------------------------------------
    oc_pd = point_driven[all_cust]
    shipping = np.where((items_total >= p["free_shipping_from"]) | (all_sub >= 0), 0, p["shipping_fee"])
    coupon_values = np.array([300, 500, 1000])
    if has_campaigns:
        p_mall = np.where(oc_pd, np.where(order_campaign, 0.40, 0.12), 0.03)
        mall_coupon = np.where(rng_money.random(n_orders) < p_mall,
                               coupon_values[rng_money.integers(0, 3, n_orders)], 0)
        mall_coupon = np.where(is_delivery, 0, np.minimum(mall_coupon, items_total // 2))
    else:
        mall_coupon = np.zeros(n_orders, np.int64)
    p_shop = np.where(first_order, 0.15, 0.05)
    shop_coupon = np.where(rng_money.random(n_orders) < p_shop, np.where(first_order, 500, 300), 0)
    shop_coupon = np.where(is_delivery, 0, np.minimum(shop_coupon, items_total // 4))
    if has_campaigns:
        p_points = np.where(oc_pd, 0.55, 0.12)
        wanted = np.rint(rng_money.gamma(1.5, np.where(oc_pd, 900.0, 400.0))).astype(np.int64)
        points = np.where(rng_money.random(n_orders) < p_points, wanted, 0)
        points = np.minimum(points, np.maximum(items_total - mall_coupon - shop_coupon, 0))
    else:
        points = np.zeros(n_orders, np.int64)
    u = rng_money.random(n_orders)
    cancel_rate = p["cancel_rate"] * np.where(oc_pd, 1.5, 1.0)
    status_code = np.where(u < cancel_rate, 1, np.where(u < cancel_rate + p["return_rate"], 2, 0))
    status_code = np.where(is_delivery & (status_code == 2), 0, status_code)

    if mall == "rakuten":
        in_camp_line = order_campaign[l_order]
        boosted = in_camp_line & (rng_money.random(n_lines) < 0.25)
        point_rate = np.where(boosted, np.where(rng_money.random(n_lines) < 0.5, 5.0, 10.0), 1.0)
    else:
        point_rate = np.full(n_lines, np.nan)

    # repeat orders' channel: LINE brings back some loyal customers; the rest come through search / own site
    rep_channel = np.where(has_campaigns, CHANNELS.index("mall_search"), CHANNELS.index("own_site"))
    line_back = ~oc_pd & (rng_money.random(n_orders) < 0.2)
    o_channel = np.where(first_order, channel[all_cust],
                         np.where(line_back, CHANNELS.index("line"), rep_channel))

    # -- assemble frames ------------------------------------------------------------------------------------
    rev = np.bincount(l_order, weights=np.where(status_code[l_order] == 0, line_amount, 0), minlength=n_orders)
    order_ts = start_ts + (secs * 1_000_000).astype("timedelta64[us]")
    order_ids = _order_ids(mall, order_ts, n_orders)
    cust_keys = _customer_keys(n)
    sub_ids = _subscription_ids(n_sub)
    status_names = np.array(["ordered", "cancelled", "returned"])
    line_sub = all_sub[l_order]
    sub_id_col = pa.array(np.where(line_sub >= 0, sub_ids.take(np.maximum(line_sub, 0)).to_numpy(zero_copy_only=False), None),
                          pa.string()) if n_sub else pa.nulls(n_lines, pa.string())
    deliv = all_count[l_order]
    cat_sku = pd.Categorical.from_codes(l_item, categories=catalog["sku"])
    cat_names = sorted(catalog["category"].unique())
    cat_code = catalog["category"].map({c: i for i, c in enumerate(cat_names)}).to_numpy(np.int64)
    lines = pd.DataFrame({
        "source": pd.Categorical.from_codes(np.zeros(n_lines, np.int8), categories=[mall]),
        "order_id": order_ids.take(pa.array(l_order)).to_pandas(),
        "line_no": line_no,
        "customer_key": cust_keys.take(pa.array(all_cust[l_order])).to_pandas(),
        "ordered_at": order_ts[l_order],
        "sku": cat_sku,
        "product_name": pd.Categorical.from_codes(l_item, categories=catalog["product_name"]),
        "category": pd.Categorical.from_codes(cat_code[l_item], categories=cat_names),
        "quantity": l_qty.astype(np.int32),
        "unit_price": unit_price,
        "line_amount": line_amount,
        "shop_coupon": _allocate(np.asarray(shop_coupon, np.int64), l_order, line_amount, items_total),
        "mall_coupon": _allocate(np.asarray(mall_coupon, np.int64), l_order, line_amount, items_total),
        "points_used": _allocate(np.asarray(points, np.int64), l_order, line_amount, items_total),
        "point_rate": point_rate,
        "shipping_fee": _allocate(np.asarray(shipping, np.int64), l_order, line_amount, items_total),
        "cost": line_cost,
        "channel": pd.Categorical.from_codes(o_channel[l_order], categories=list(CHANNELS)),
        "status": pd.Categorical.from_codes(status_code[l_order], categories=list(status_names)),
        "subscription_id": sub_id_col.to_pandas(),
        "delivery_count": pd.arrays.IntegerArray(deliv.astype(np.int32), deliv == 0),
    })
    # orders are sorted by time, so the holdout is the tail of the lines
    split = int(np.searchsorted(secs[l_order], obs_days * 86400, side="left"))
    del l_order, l_item, l_qty, unit_price, line_amount, line_cost, point_rate, line_no, deliv, cat_sku, sub_id_col
    del shop_coupon, mall_coupon, points, shipping, order_ids, order_ts
    order_lines = lines.iloc[:split]
    holdout_lines = lines.iloc[split:].reset_index(drop=True)

    # -- truth --------------------------------------------------------------------------------------------
    obs_mask = secs < obs_days * 86400
    orders_obs = np.bincount(all_cust[obs_mask], minlength=n)
    orders_hold = np.bincount(all_cust[~obs_mask], minlength=n)
    reg_obs = np.bincount(all_cust[obs_mask & ~is_delivery], minlength=n)
    revenue_hold = np.bincount(all_cust[~obs_mask], weights=rev[~obs_mask], minlength=n).astype(np.int64)
    contacts = make_contacts(n, rng_names)
    hold_lo = float(obs_days)
    alive_hold = np.clip(np.minimum(death, float(horizon)) - np.maximum(acq_t, hold_lo), 0.0, None)
    to_ts = lambda d: start_ts + np.rint(np.minimum(d, 1e5) * 86400 * 1e6).astype("timedelta64[us]")  # noqa: E731
    truth = pd.DataFrame({
        "customer_key": cust_keys.to_pandas(),
        "customer_no": np.arange(n, dtype=np.int64),
        "type": pd.Categorical.from_codes(point_driven.astype(np.int8), categories=["loyal", "point_driven"]),
        "acquisition_channel": pd.Categorical.from_codes(channel, categories=list(CHANNELS)),
        "acquired_at": to_ts(acq_t),
        "acquired_in_campaign": acq_in_campaign,
        "purchase_rate": rate,
        "latent_rate": lam,
        "dropout_rate": mu,
        "dropout_at": to_ts(death),
        "alive_at_observation_end": death >= obs_days,
        "spend_level": spend,
        "rhythm": rhythm,
        "rhythm_sku": pd.Categorical.from_codes(np.where(rhythm, main_item, -1), categories=catalog["sku"]),
        "rhythm_quantity": np.where(rhythm, rhythm_qty, 0),
        "subscribed": subscribed,
        "orders_observed": orders_obs,
        "repeat_orders_observed": np.maximum(reg_obs - 1, 0),
        "orders_holdout": orders_hold,
        "revenue_holdout": revenue_hold,
        "expected_holdout_orders": rate * alive_hold,
        **{c: contacts[c] for c in contacts.columns},
    })
    subs = pd.DataFrame({
        "subscription_id": sub_ids.to_pandas(),
        "customer_key": cust_keys.take(pa.array(sub_cust, pa.int64())).to_pandas() if n_sub else pd.Series([], dtype="str"),
        "sku": catalog["sku"].to_numpy()[sub_item],
        "cycle_days": sub_cycle,
        "started_at": to_ts(sub_t0),
        "deliveries": sub_deliveries,
        "cancelled_after": sub_cancelled_after,
        "end_reason": sub_end_reason.astype(str),
    })
    acq_costs = _acquisition_costs(truth, start, observation_end, rng_money)
    return SyntheticShop(
        order_lines=order_lines, holdout_lines=holdout_lines, truth=truth, catalog=catalog,
        affinity=affinity, subscriptions=subs, acquisition_costs=acq_costs, calendar=cal,
        mall=mall, start=start, observation_end=observation_end, holdout_days=holdout_days, seed=seed, params=p,
        catalog_name=catalog_name,
        campaign_share_expected={
            "point_driven": pd_clock.share(flag[: obs_days * 24]) if has_campaigns else 0.0,
            "loyal": loyal_clock.share(flag[: obs_days * 24]) if has_campaigns else 0.0,
        },
    )


def _customer_keys(n: int) -> pa.Array:
    nums = pa.array(np.arange(n, dtype=np.int64)).cast(pa.string())
    return pc.binary_join_element_wise("C", pc.utf8_lpad(nums, 7, "0"), "")


def _subscription_ids(n: int) -> pa.Array:
    nums = pa.array(np.arange(1, n + 1, dtype=np.int64)).cast(pa.string())
    return pc.binary_join_element_wise("S", pc.utf8_lpad(nums, 8, "0"), "")


def _order_ids(mall: str, ts: np.ndarray, n: int) -> pa.Array:
    """Order numbers in the source's own format (Rakuten ``shop-YYYYMMDD-serial``, Yahoo ``store-number``)."""
    serial = pa.array(np.arange(1, n + 1, dtype=np.int64))
    if mall == "rakuten":
        days = ts.astype("datetime64[D]")
        years = days.astype("datetime64[Y]")
        months = days.astype("datetime64[M]")
        ymd = ((years.astype(np.int64) + 1970) * 10_000 + (months - years).astype(np.int64) * 100 + 100
               + (days - months).astype(np.int64) + 1)
        day = pa.array(ymd).cast(pa.string())
        return pc.binary_join_element_wise(_SHOP_NO[mall], day, pc.utf8_lpad(serial.cast(pa.string()), 9, "0"), "-")
    if mall == "yahoo":
        num = pc.add(serial, 10_000_000).cast(pa.string())
        return pc.binary_join_element_wise(_SHOP_NO[mall], num, "-")
    return pc.binary_join_element_wise("#", pc.add(serial, 1000).cast(pa.string()), "")


def _acquisition_costs(truth: pd.DataFrame, start: dt.date, end: dt.date, rng: np.random.Generator) -> pd.DataFrame:
    """Acquisition spend per channel over the observation period, in the layout ``ltv cac --costs`` reads.

    Columns ``channel, spend, start, end, customers, cac`` (``cac`` = the true cost per new customer).
    """
    counts = truth["acquisition_channel"].value_counts().reindex(list(CHANNELS), fill_value=0)
    unit = np.array([CHANNEL_COST_YEN[c] for c in CHANNELS], float)
    spend = np.rint(counts.to_numpy() * unit).astype(np.int64)
    return pd.DataFrame({
        "channel": list(CHANNELS), "spend": spend, "start": start, "end": end,
        "customers": counts.to_numpy(np.int64), "cac": unit.astype(np.int64),
    })

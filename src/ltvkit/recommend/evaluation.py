"""Offline evaluation with a global time cut: fit on everything up to as-of, score the following window.

Target: the distinct items each customer buys in ``(as_of, as_of + horizon_days]``. Only customers with a
purchase before the cut and at least one in the window are scored (the others cannot be judged). Items never
seen before the cut stay in the target (nobody can hit them), so recall is not flattered. Every statistic a
model uses (popularity, co-purchase, neighbours, intervals) comes from data before the cut only.

Metrics (means over scored customers): Recall@k = hits / target items; NDCG@k with the ideal DCG over
min(k, target items); hit rate = share with at least one hit; the same recall split into *repeat* items
(bought by the customer before the cut) and *explore* items (new to the customer); and the repeat share of the
recommended lists.
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import InputError, MissingDataError
from ._base import BaseRecommender
from ._data import History, aggregate_lines, encode, from_day, to_day
from .baselines import ALSRecommender, PopularityRecommender, PTopFreqRecommender, als_available
from .nextbasket import NextBasketRecommender
from .replenishment import ReplenishmentModel

TARGETS = ("window", "next_basket")

__all__ = ["TimeSplit", "evaluate_recommenders", "evaluate_replenishment", "ranking_metrics", "time_split"]


@dataclass
class TimeSplit:
    """History up to the cut and the target purchases in the following window."""

    history: History
    target_user: np.ndarray  # user codes of target rows (customers known before the cut)
    target_item: np.ndarray  # item codes, -1 for items first sold after the cut
    target_day: np.ndarray  # first day the customer bought the item in the window
    horizon_days: int


def time_split(lines: Any, as_of: Any, horizon_days: int = 60, target: str = "window") -> TimeSplit:
    """Split order lines at ``as_of``: history on or before it, targets in the next ``horizon_days`` days.

    ``target="window"``: every item the customer buys in the window; ``"next_basket"``: the items of her
    first basket (day) in the window, as in the next-basket literature.
    """
    if horizon_days < 1:
        raise InputError(f"horizon_days must be at least 1, not {horizon_days!r}.")
    if target not in TARGETS:
        raise InputError(f"Unknown target {target!r}; use one of {', '.join(TARGETS)}.")
    cut = to_day(as_of)
    df = aggregate_lines(lines, end=cut + int(horizon_days))
    h = encode(df, cut)
    fut = df[df["day"] > cut]
    if target == "next_basket":
        fut = fut[fut["day"] == fut.groupby("customer_key")["day"].transform("min")]
    u = pd.Index(h.customers).get_indexer(fut["customer_key"].to_numpy(dtype=object))
    i = pd.Index(h.items).get_indexer(fut["sku"].to_numpy(dtype=object))
    keep = u >= 0
    t = pd.DataFrame({"u": u[keep], "i": i[keep], "sku": fut["sku"].to_numpy(dtype=object)[keep],
                      "d": fut["day"].to_numpy()[keep]})
    t = t.groupby(["u", "sku"], sort=True).agg(i=("i", "first"), d=("d", "min")).reset_index()
    return TimeSplit(h, t["u"].to_numpy(np.int64), t["i"].to_numpy(np.int64), t["d"].to_numpy(np.int64),
                     int(horizon_days))


def ranking_metrics(split: TimeSplit, items: np.ndarray) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Recall, NDCG, hit rate and repeat/explore recall of top-k lists (customers × k item codes, -1 empty).

    Returns the metrics, the scored customers' codes and their per-customer recall (for paired comparisons).
    """
    h = split.history
    ni = h.n_items
    k = items.shape[1]
    users = np.unique(split.target_user)
    if not len(users):
        raise MissingDataError(key="err.no_repeat_in_window")
    rec_u = np.repeat(np.arange(items.shape[0]), k)
    rec_i = items.ravel()
    rec_r = np.tile(np.arange(k), items.shape[0])
    ok = rec_i >= 0
    rkey = rec_u[ok].astype(np.int64) * ni + rec_i[ok]
    order = np.argsort(rkey)
    rkey, rrank = rkey[order], rec_r[ok][order]
    hist_key = np.unique(h.user.astype(np.int64) * ni + h.item)

    tu, ti = split.target_user, split.target_item
    tkey = tu * ni + np.maximum(ti, 0)
    pos = np.minimum(np.searchsorted(rkey, tkey), max(len(rkey) - 1, 0))
    hit = (ti >= 0) & (len(rkey) > 0) & (rkey[pos] == tkey) if len(rkey) else np.zeros(len(tu), bool)
    rank = np.where(hit, rrank[pos] if len(rkey) else 0, 0)
    hpos = np.minimum(np.searchsorted(hist_key, tkey), len(hist_key) - 1)
    repeat = (ti >= 0) & (hist_key[hpos] == tkey)

    nu = h.n_users
    n_t = np.bincount(tu, minlength=nu).astype(np.float64)
    n_hit = np.bincount(tu, weights=hit, minlength=nu)
    dcg = np.bincount(tu, weights=np.where(hit, 1.0 / np.log2(rank + 2.0), 0.0), minlength=nu)
    disc = np.cumsum(1.0 / np.log2(np.arange(k) + 2.0))
    idcg = disc[np.minimum(n_t, k).astype(np.int64) - 1]
    n_rep = np.bincount(tu, weights=repeat, minlength=nu)
    hit_rep = np.bincount(tu, weights=hit & repeat, minlength=nu)
    n_exp = n_t - n_rep
    hit_exp = n_hit - hit_rep
    recall = n_hit[users] / n_t[users]
    rep_users = users[n_rep[users] > 0]
    exp_users = users[n_exp[users] > 0]
    # repeat share of the lists shown to scored customers
    lk = items[users]
    lkey = users[:, None].astype(np.int64) * ni + np.maximum(lk, 0)
    lpos = np.minimum(np.searchsorted(hist_key, lkey), len(hist_key) - 1)
    in_hist = (lk >= 0) & (hist_key[lpos] == lkey)
    shown = np.maximum((lk >= 0).sum(axis=1), 1)
    metrics = {
        "recall": float(recall.mean()),
        "recall_ci95": float(1.96 * recall.std(ddof=1) / np.sqrt(len(users))) if len(users) > 1 else float("nan"),
        "ndcg": float((dcg[users] / idcg[users]).mean()),
        "hit_rate": float((n_hit[users] > 0).mean()),
        "recall_repeat": float((hit_rep[rep_users] / n_rep[rep_users]).mean()) if len(rep_users) else float("nan"),
        "recall_explore": float((hit_exp[exp_users] / n_exp[exp_users]).mean()) if len(exp_users) else float("nan"),
        "repeat_share": float((in_hist.sum(axis=1) / shown).mean()),
        "customers": int(len(users)),
    }
    return metrics, users, recall


def default_models(horizon_days: int = 60, include_als: bool | None = None) -> dict[str, BaseRecommender]:
    """The ltvkit recommender and the baselines it is compared with."""
    models: dict[str, BaseRecommender] = {
        "ltvkit": NextBasketRecommender(horizon_days=horizon_days),
        "P-TopFreq": PTopFreqRecommender(),
        "GP-TopFreq": PTopFreqRecommender(fill_popular=True),
        "Popularity": PopularityRecommender(),
    }
    if include_als or (include_als is None and als_available()):
        models["ALS (implicit)"] = ALSRecommender()
    return models


def evaluate_recommenders(lines: Any, as_of: Any, *, horizon_days: int = 60, k: int = 10,
                          models: dict[str, BaseRecommender] | None = None, include_als: bool | None = None,
                          measure_memory: bool = False, target: str = "window") -> pd.DataFrame:
    """Fit every model on the history before ``as_of`` and compare their top-``k`` on the next window.

    Parameters
    ----------
    lines
        Canonical order lines (Ibis table or pandas DataFrame).
    as_of
        The cut date.
    horizon_days
        Length of the target window after the cut.
    k
        List length.
    models
        Name -> unfitted recommender; default: ltvkit's next-basket recommender, P-TopFreq, GP-TopFreq,
        popularity and, when ``implicit`` is importable (extra ``als``), ALS.
    include_als
        Force ALS in (``True``; error if missing) or out (``False``) of the default models.
    measure_memory
        Also report the peak Python-tracked memory of fit + recommend (slower).
    target
        ``"window"``: score every item bought in the window; ``"next_basket"``: only each customer's first
        basket in it.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model, recall, recall_ci95, ndcg, hit_rate, recall_repeat, recall_explore,
        repeat_share, customers, vs_ptopfreq`` (relative recall difference to P-TopFreq),
        ``p_vs_ptopfreq`` (paired t-test p-value), ``seconds`` (fit + top-k). ``attrs["selection"]`` holds,
        per model that chooses its blend (ltvkit's), the chosen settings and their validation scores
        (:attr:`NextBasketRecommender.selection_`).
    """
    from scipy import stats

    split = time_split(lines, as_of, horizon_days, target)
    models = models if models is not None else default_models(horizon_days, include_als)
    rows, per_user = [], {}
    for name, model in models.items():
        if measure_memory:
            tracemalloc.start()
        t0 = time.perf_counter()
        model._fit_history(split.history)
        items, _, _, _ = model._topk(k)
        secs = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if measure_memory else None
        if measure_memory:
            tracemalloc.stop()
        m, users, rec = ranking_metrics(split, items)
        per_user[name] = rec
        rows.append({"model": name, **m, "seconds": secs, **({"peak_mib": peak} if measure_memory else {})})
    out = pd.DataFrame(rows)
    # how each adaptive model chose its blend (on the history before as-of only)
    out.attrs["selection"] = {name: model.selection_ for name, model in models.items() if hasattr(model, "selection_")}
    if "P-TopFreq" in per_user:
        base = per_user["P-TopFreq"]
        out["vs_ptopfreq"] = out["recall"] / max(float(base.mean()), 1e-12) - 1.0
        pvals = []
        for name in out["model"]:
            d = per_user[name] - base
            pvals.append(float(stats.ttest_1samp(d, 0.0).pvalue) if np.any(d != 0) else 1.0)
        out["p_vs_ptopfreq"] = pvals
    return out


def evaluate_replenishment(lines: Any, as_of: Any, *, horizon_days: int = 60,
                           model: ReplenishmentModel | None = None, window_days: int = 7,
                           details: bool = False) -> dict[str, Any]:
    """How well next-need dates and re-buy probabilities match what customers did after the cut.

    Returns
    -------
    dict
        ``pairs`` (customer × items bought before the cut), ``rebought`` (bought again in the window),
        ``median_abs_error_days`` and ``mean_abs_error_days`` of ``next_need_date`` against the actual first
        re-buy date (re-bought pairs), ``within_window`` (share within ±``window_days``),
        ``mean_p_within`` against ``observed_rate`` (calibration of P(re-buy within the horizon)) and
        ``brier``. With ``details=True`` also ``rebought_pairs``: a DataFrame of ``customer_key, sku,
        next_need_date, rebought_on, error_days`` for the re-bought pairs.
    """
    split = time_split(lines, as_of, horizon_days)
    m = (model if model is not None else ReplenishmentModel())._fit_history(split.history)
    h = split.history
    ni = h.n_items
    pkey = m._pair_user.astype(np.int64) * ni + m._pair_item
    ok = split.target_item >= 0
    tkey = split.target_user[ok] * ni + split.target_item[ok]
    tday = split.target_day[ok]
    o = np.argsort(tkey)
    tkey, tday = tkey[o], tday[o]
    pos = np.minimum(np.searchsorted(tkey, pkey), max(len(tkey) - 1, 0))
    rebought = (tkey[pos] == pkey) if len(tkey) else np.zeros(len(pkey), bool)
    p = m._pair_probability(horizon_days)
    need = m._pair_next_need()
    err = np.abs(need[rebought] - tday[pos[rebought]]) if rebought.any() else np.array([])
    extra: dict[str, Any] = {}
    if details:
        extra["rebought_pairs"] = pd.DataFrame({
            "customer_key": h.customers[m._pair_user[rebought]], "sku": h.items[m._pair_item[rebought]],
            "next_need_date": pd.to_datetime(from_day(need[rebought].astype(np.int64))).date,
            "rebought_on": pd.to_datetime(from_day(tday[pos[rebought]])).date,
            "error_days": (need[rebought] - tday[pos[rebought]]).astype(np.int64)})
    return {
        **extra,
        "as_of": from_day(h.as_of_day),
        "horizon_days": horizon_days,
        "pairs": int(len(pkey)),
        "rebought": int(rebought.sum()),
        "median_abs_error_days": float(np.median(err)) if len(err) else float("nan"),
        "mean_abs_error_days": float(err.mean()) if len(err) else float("nan"),
        "within_window": float((err <= window_days).mean()) if len(err) else float("nan"),
        "mean_p_within": float(p.mean()),
        "observed_rate": float(rebought.mean()),
        "brier": float(((p - rebought) ** 2).mean()),
    }

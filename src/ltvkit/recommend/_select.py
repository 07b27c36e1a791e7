"""Choosing the next-basket blend per shop on a time split of the shop's own history.

The history up to as-of is cut again ``validation_days`` (default: the horizon) earlier. Every candidate blend
is fitted on the part before that inner cut and scored (Recall@k) on what the customers bought after it, up to
as-of: the evaluation period after as-of is never looked at. P-TopFreq is scored on the same customers; a blend
is only chosen when it beats it, otherwise the recommender falls back to P-TopFreq and says so. The best blend
replaces the default blend only when its gain over it, paired per validation customer, is at least
``CLEAR_GAIN_SE`` standard errors: the best score of hundreds of blends on a few hundred customers is biased
upwards, and a noise-sized gain chosen there was measured to lose on the later evaluation window.

Candidates: the decay of the customer's own frequency (per basket, or TIFU-KNN's groups of baskets), the share
of the neighbours (alpha), the weight of the re-buy timing and the share of the explore parts (co-purchase,
category next steps, popularity) against the re-buy parts. The parts are computed once per validation
customer; each blend is scored on the union of every part's strongest items (a few hundred per customer), so
a grid of a few hundred blends costs about as much as two fits.
"""

from __future__ import annotations

import inspect
import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import _reasons as R
from ._data import History, from_day

if TYPE_CHECKING:  # pragma: no cover
    from .nextbasket import NextBasketRecommender

OWN_VARIANTS = ((1, 1.0, 1.0), (1, 0.9, 1.0), (1, 0.7, 1.0), (3, 0.9, 0.7), (7, 0.9, 0.7))
ALPHAS = (1.0, 0.9, 0.7, 0.5)
REPEAT_WEIGHTS = (0.0, 0.3, 1.0)
EXPLORE_SCALES = (0.0, 0.03, 0.1, 0.3, 1.0)
_TOP_CANDIDATES = 30
CLEAR_GAIN_SE = 2.0  # a blend replaces the default when its paired gain is this many standard errors


def restrict(h: History, cut_day: int) -> History:
    """The same history (same customer and item codes) up to ``cut_day``."""
    keep = h.day <= cut_day
    return History(customers=h.customers, items=h.items, item_category=h.item_category, categories=h.categories,
                   item_price=h.item_price, item_name=h.item_name, user=h.user[keep], item=h.item[keep],
                   day=h.day[keep], qty=h.qty[keep], as_of_day=int(cut_day))


def inner_split(h: History, cut_day: int, target: str) -> tuple[History, np.ndarray, np.ndarray]:
    """History up to ``cut_day`` and the (customer, item) targets after it, up to ``h``'s as-of.

    Only customers with a purchase on or before the cut are targets; ``target="next_basket"`` keeps only
    each one's first day after the cut.
    """
    hv = restrict(h, cut_day)
    has_hist = np.bincount(hv.user, minlength=h.n_users) > 0
    fut = (h.day > cut_day) & has_hist[h.user]
    fu, fi, fd = h.user[fut], h.item[fut], h.day[fut]
    if target == "next_basket" and len(fu):
        first = np.full(h.n_users, np.iinfo(np.int32).max)
        np.minimum.at(first, fu, fd)
        keep = fd == first[fu]
        fu, fi = fu[keep], fi[keep]
    return hv, fu, fi


def list_recall(items: np.ndarray, users: np.ndarray, fu: np.ndarray, fi: np.ndarray, n_items: int) -> np.ndarray:
    """Per-customer recall of top-k lists (``items``: one row per customer of ``users``, -1 where empty)."""
    t_keys = np.unique(fu.astype(np.int64) * n_items + fi)
    counts = np.bincount((t_keys // n_items).astype(np.int64), minlength=int(users.max()) + 1)[users]
    p_keys = users[:, None].astype(np.int64) * n_items + np.maximum(items, 0)
    pos = np.minimum(np.searchsorted(t_keys, p_keys), len(t_keys) - 1)
    hit = (t_keys[pos] == p_keys) & (items >= 0)
    return hit.sum(axis=1) / np.maximum(counts, 1)


def _topc_mask(mask: np.ndarray, block: np.ndarray, c: int) -> None:
    """Mark each row's ``c`` largest positive entries of ``block`` in ``mask`` (in place)."""
    if block.shape[0] == 1 and mask.shape[0] > 1:
        block = np.broadcast_to(block, mask.shape)
    c = min(c, block.shape[1])
    idx = np.argpartition(-block, c - 1, axis=1)[:, :c]
    val = np.take_along_axis(block, idx, axis=1)
    r = np.repeat(np.arange(block.shape[0]), c).reshape(idx.shape)
    mask[r[val > 0], idx[val > 0]] = True


def _rows_only(m: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """``m`` with every row but ``rows`` (sorted, distinct) empty; the kept rows are exactly as in ``m``."""
    lens = np.zeros(m.shape[0], dtype=np.int64)
    lens[rows] = np.diff(m.indptr)[rows]
    sub = m[rows]
    return sp.csr_matrix((sub.data, sub.indices, np.r_[0, np.cumsum(lens)]), shape=m.shape)


def _default_result(params: dict[str, Any], status: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "params": dict(params), "message": message, **extra}


def select_blend(model: NextBasketRecommender, h: History) -> dict[str, Any]:
    """Choose ``model``'s blend on the last ``validation_days`` of ``h``; see the module docstring."""
    from .baselines import PTopFreqRecommender
    from .nextbasket import NextBasketRecommender

    base = model._init_params()
    vd = int(model.validation_days or model.horizon_days)
    k = int(model.validation_k)
    cut_v = h.as_of_day - vd
    hv, fu, fi = inner_split(h, cut_v, model.target)
    nu, ni = h.n_users, h.n_items
    users = np.unique(fu)
    where = f"the {vd} days before {from_day(h.as_of_day)}"
    if len(users) < max(int(model.min_validation_customers), 2):
        return _default_result(base, "default", f"kept the default blend: only {len(users)} customers with a "
                               f"history bought in {where}, too few to validate (need "
                               f"{model.min_validation_customers})", validation={"customers": int(len(users))})
    rng = np.random.default_rng(model.random_state)
    if len(users) > model.validation_customers:
        users = np.sort(rng.choice(users, int(model.validation_customers), replace=False))
    tgt = sp.csr_matrix((np.ones(len(fu), dtype=np.float32), (fu, fi)), shape=(nu, ni))
    tgt.sum_duplicates()
    tgt.data[:] = 1.0
    n_t = np.diff(tgt.indptr)[users].astype(np.float64)

    # P-TopFreq on the same split and customers
    pt = PTopFreqRecommender()._fit_history(hv)
    pt_items = pt._topk_of(users, k)[0]
    pt_recall = list_recall(pt_items, users, fu, fi, ni)
    del pt, pt_items

    # every part fitted once on the inner history, each own-frequency variant kept
    settings = {name: getattr(model, name) for name in inspect.signature(type(model).__init__).parameters
                if name != "self"}
    settings["tune"] = False
    v = NextBasketRecommender(**settings)
    unit = dict(base, alpha=0.5, frequency_weight=2.0, repeat_weight=1.0, together_weight=1.0,
                category_weight=1.0, popularity_weight=1.0)
    v._fit_parts(hv, unit, everything=True)
    def norm(gs: int, bd: float, gd: float) -> tuple[int, float, float]:
        return (int(gs), float(bd), float(gd) if int(gs) > 1 else 1.0)  # one group: no group decay

    variants = list(dict.fromkeys([norm(base["group_size"], base["basket_decay"], base["group_decay"]),
                                   *(norm(*o) for o in OWN_VARIANTS)]))
    states = []
    for gs, bd, gd in variants:
        v._set_own(hv, dict(unit, group_size=gs, basket_decay=bd, group_decay=gd))
        # only the validation customers' rows are scored: keep those (the pool's structures are whole)
        states.append((_rows_only(v._own, users), _rows_only(v._own_l2, users), getattr(v, "_pool_l2_t", None),
                       getattr(v, "_pool_own", None)))
    v._own, v._own_l2 = states[-1][:2]  # the whole matrices go (the parts without "own" ignore them)
    alphas = list(dict.fromkeys([*ALPHAS, float(base["alpha"])]))
    reps = list(dict.fromkeys([*REPEAT_WEIGHTS, float(base["repeat_weight"])]))
    explores = list(dict.fromkeys([*EXPLORE_SCALES, 1.0]))
    grid = list(itertools.product(range(len(variants)), alphas, reps, explores))
    tw, cw, pw, fw = (float(base[x]) for x in ("together_weight", "category_weight", "popularity_weight",
                                                "frequency_weight"))
    sums = np.zeros(len(grid))
    default_j = grid.index((0, float(base["alpha"]), float(base["repeat_weight"]), 1.0))
    diff_sq = np.zeros(len(grid))  # per-customer (blend - default blend) recall differences, squared and summed
    no_own = dict(unit, frequency_weight=0.0)
    chunk = int(max(16, min(512, 1_000_000 // max(ni, 1))))
    for start in range(0, len(users), chunk):
        rows = users[start:start + chunk]
        nr = len(rows)
        shared = v._components(rows, no_own)
        own_nb = []
        for st in states:
            v._own, v._own_l2, v._pool_l2_t, v._pool_own = st
            c = v._components(rows, dict(unit, repeat_weight=0.0, together_weight=0.0, category_weight=0.0))
            own_nb.append((c[R.FREQUENT], c[R.SIMILAR]))
        mask = own_nb[0][0] > 0
        for part in (R.TOGETHER, R.CATEGORY_NEXT, R.POPULAR):
            _topc_mask(mask, shared[part], _TOP_CANDIDATES)
        for _, nb in own_nb:
            _topc_mask(mask, nb, _TOP_CANDIDATES)
        counts = mask.sum(axis=1)
        width = max(int(counts.max()), k)
        valid = np.arange(width)[None, :] < counts[:, None]
        cand = np.zeros((nr, width), dtype=np.int64)
        cand[valid] = np.nonzero(mask)[1]
        r_ix = np.arange(nr)[:, None]

        def gather(block: np.ndarray, cand: np.ndarray = cand, r_ix: np.ndarray = r_ix) -> np.ndarray:
            if block.shape[0] == 1:
                return block[0][cand]
            return block[r_ix, cand]

        g_rep = gather(shared[R.REPURCHASE])
        g_exp = (tw * gather(shared[R.TOGETHER]) + cw * gather(shared[R.CATEGORY_NEXT])
                 + pw * gather(shared[R.POPULAR]))
        g_tie = v._pop[cand]
        g_own = [(gather(o), gather(n)) for o, n in own_nb]
        tg = np.asarray(tgt[rows].toarray(), dtype=bool)[r_ix, cand] & valid
        denom = n_t[start:start + nr]

        def recall_of(j: int, g_own: list = g_own, g_rep: np.ndarray = g_rep, g_exp: np.ndarray = g_exp,
                      g_tie: np.ndarray = g_tie, valid: np.ndarray = valid, tg: np.ndarray = tg,
                      denom: np.ndarray = denom) -> np.ndarray:
            vi, a, rw, es = grid[j]
            o, n = g_own[vi]
            total = fw * (a * o + (1.0 - a) * n) + rw * g_rep + es * g_exp + g_tie
            total[~valid] = -np.inf
            top = np.argpartition(-total, k - 1, axis=1)[:, :k]
            return np.take_along_axis(tg, top, axis=1).sum(axis=1) / denom

        r_default = recall_of(default_j)
        for j in range(len(grid)):
            r = r_default if j == default_j else recall_of(j)
            sums[j] += r.sum()
            diff_sq[j] += float(((r - r_default) ** 2).sum())
    scores = sums / len(users)
    table = pd.DataFrame([{"group_size": variants[vi][0], "basket_decay": variants[vi][1],
                           "group_decay": variants[vi][2], "alpha": a, "repeat_weight": rw, "explore_scale": es}
                          for vi, a, rw, es in grid])
    table["recall"] = scores
    nv = len(users)
    gain = scores - scores[default_j]
    gain_se = np.sqrt(np.maximum(diff_sq / nv - gain ** 2, 0.0) / max(nv - 1, 1))
    table["gain_vs_default"] = gain
    table["gain_se"] = gain_se
    best = int(np.argmax(scores))
    vi, a, rw, es = grid[best]
    chosen = dict(base, group_size=variants[vi][0], basket_decay=variants[vi][1], group_decay=variants[vi][2],
                  alpha=a, repeat_weight=rw, together_weight=tw * es, category_weight=cw * es,
                  popularity_weight=pw * es)
    ptf = float(pt_recall.mean())
    validation = {"as_of": from_day(cut_v).isoformat(), "days": vd, "target": model.target, "k": k,
                  "customers": int(len(users)), "candidates": len(grid), "recall": float(scores[best]),
                  "recall_ptopfreq": ptf, "recall_default": float(scores[default_j]),
                  "explore_scale": es}
    model.validation_scores_ = table.sort_values("recall", ascending=False, kind="stable").reset_index(drop=True)
    validation.update(gain_vs_default=float(gain[best]), gain_se=float(gain_se[best]))
    if scores[best] <= ptf:
        return _default_result(base, "fallback", f"fell back to P-TopFreq: no blend beat it on {where} "
                               f"(best Recall@{k} {scores[best]:.3f} vs P-TopFreq {ptf:.3f}, "
                               f"{len(users):,} customers)", validation=validation)
    if gain[best] < CLEAR_GAIN_SE * gain_se[best] and scores[default_j] > ptf:
        # the best of hundreds of blends looks better than it is (the maximum of noisy scores): it replaces
        # the default only when its gain clearly exceeds the noise of the validation customers
        validation.update(recall=float(scores[default_j]), explore_scale=1.0)
        return _default_result(base, "kept", f"kept the default blend: on {where} the best blend's Recall@{k} "
                               f"{scores[best]:.3f} beat the default's {scores[default_j]:.3f} by "
                               f"{gain[best] / max(gain_se[best], 1e-12):.1f} standard errors (needs "
                               f"{CLEAR_GAIN_SE:g}); P-TopFreq {ptf:.3f}, {len(users):,} customers",
                               validation=validation)
    return _default_result(chosen, "tuned", f"blend chosen on {where}: Recall@{k} {scores[best]:.3f} vs P-TopFreq "
                           f"{ptf:.3f} ({scores[best] / max(ptf, 1e-12) - 1:+.1%}) and the default blend "
                           f"{scores[default_j]:.3f}, {len(users):,} customers", validation=validation)

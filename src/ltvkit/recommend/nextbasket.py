"""Next-basket recommender: timing-aware re-buys + TIFU-KNN frequency + cross-sell + category next steps.

Score of item j for customer u is a sum of parts that each lie in [0, 1]:

``repeat_weight·P(re-buy j within horizon)
+ frequency_weight·(alpha·own(j) + (1-alpha)·neighbours(j))
+ together_weight·co(j) + category_weight·cat(j) + popularity_weight·pop(j)``

* ``P(re-buy)``: the :class:`ReplenishmentModel` chance of buying j again within ``horizon_days``.
* ``own``: the customer's time-decayed purchase frequency (share of baskets holding j, basket i from the end
  weighted ``basket_decay**i``), as in TIFU-KNN (Hu et al., SIGIR 2020).
* ``neighbours``: the mean ``own`` vector of the customer's ``n_neighbors`` most similar customers (cosine),
  searched among the ``neighbor_pool`` customers with the most baskets.
* ``co``: confidence of rules "bought A, then B within ``window_days`` (or in the next order)", lift > 1 and at
  least ``min_customers`` customers, triggered by the customer's recent purchases (fading over the window)
  and latest order; zero for items the customer bought lately.
* ``cat``: what customers whose first order held the same categories bought in their next order, weighted by
  the customer's involvement in each category; this is also the cold-start answer for one-order customers.
* ``pop``: share of the customers active in the last ``horizon_days`` who bought j.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from ..exceptions import InputError
from . import _reasons as R
from ._base import BaseRecommender, topk_dense
from ._copurchase import confidence_matrix, count_pairs, sorted_unique
from ._data import History
from .replenishment import ReplenishmentModel
from .tifuknn import tifu_basket_weights

__all__ = ["NextBasketRecommender"]

# the settings that make up the blend (chosen per shop when tune=True)
# customers whose similarities to the pool are ranked at once (rows x pool floats, and an index array of that size)
_NEIGHBOUR_ROWS = 1024
BLEND_PARAMS = ("group_size", "basket_decay", "group_decay", "alpha", "frequency_weight", "repeat_weight",
                "together_weight", "category_weight", "popularity_weight")


def _row_normalize(m: sp.csr_matrix, norm: str = "l1") -> sp.csr_matrix:
    m = m.tocsr().astype(np.float32)
    if norm == "l1":
        s = np.asarray(abs(m).sum(axis=1)).ravel()
    else:
        s = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    inv = np.divide(1.0, s, out=np.zeros_like(s, dtype=np.float64), where=s > 0).astype(np.float32)
    return sp.diags(inv) @ m


class NextBasketRecommender(BaseRecommender):
    """Recommend what each customer needs next: re-buys on time, plus cross-sell and category next steps.

    Parameters
    ----------
    horizon_days
        The window the recommendations are for (and the replenishment probability's window).
    alpha
        Weight of the customer's own decayed frequency against the neighbours' (TIFU-KNN's alpha).
    basket_decay
        Weight ratio between a basket and the one after it (TIFU-KNN's r_b).
    n_neighbors, neighbor_pool
        Neighbours per customer, searched among this many most active customers.
    repeat_weight
        Weight of the replenishment probability.
    frequency_weight
        Weight of the TIFU-KNN part (own + neighbours).
    together_weight, category_weight, popularity_weight
        Weights of the co-purchase, the category-next and the recent-popularity (explore) scores.
    window_days
        Co-purchase window: B counts as bought with A when bought within this many days after A.
    next_order
        Also count B bought in the customer's next order after A, however late, and let the items of each
        customer's latest order trigger such rules whatever their age.
    min_customers
        Customers a co-purchase rule or a category-next share needs before it is used.
    due_probability
        An item bought before gets the reason "repurchase due" when its re-buy chance within the horizon is at
        least this, else "one of your regular items".
    replenishment
        A :class:`ReplenishmentModel` to use (default settings when ``None``); it is fitted on the same data.
    group_size, group_decay
        TIFU-KNN's groups for the own frequency: ``group_size`` baskets per group (``basket_decay`` between the
        baskets of a group, ``group_decay`` between groups); 1 = plain per-basket decay.
    tune
        Choose the blend (decays, alpha, re-buy weight, explore share) on the last ``validation_days`` of the
        history before as-of, falling back to P-TopFreq when no blend beats it there; ``False`` uses the
        settings as given. See docs/recommend.md.
    target
        What the validation scores: ``"window"`` (every item bought in the validation period) or
        ``"next_basket"`` (each customer's first basket in it).
    validation_days, validation_k, validation_customers, min_validation_customers
        Length of the validation period (default ``horizon_days``), list length scored, customers sampled at
        most, and customers needed at least (else the given settings are kept).
    random_state
        Seed of the sample of validation customers.

    Attributes
    ----------
    as_of_ : datetime.date
    n_customers_, n_items_ : int
    replenishment_ : ReplenishmentModel
        The fitted timing model.
    copurchase_ : scipy.sparse.csr_matrix
        Confidence of item i -> item j rules used for cross-sell.
    category_next_ : numpy.ndarray
        Share of first-order buyers of each category who bought each item in their next order.
    popularity_ : numpy.ndarray
        Share of recently active customers who bought each item.
    selection_ : dict
        How the blend was chosen: ``status`` (``tuned``, ``kept`` the default blend when the best one was not
        clearly better, ``fallback`` to P-TopFreq, ``default`` when too few customers could be validated,
        ``fixed`` with ``tune=False``), ``params``, ``message`` and ``validation`` (cut, customers, Recall@k of
        the chosen blend, of P-TopFreq and of the default blend, the best blend's gain over the default and its
        standard error).
    params_ : dict
        The blend in use.
    validation_scores_ : pandas.DataFrame
        Validation Recall@k of every candidate blend, best first (only when a validation ran).

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"customer_key": ["a", "a", "b"], "sku": ["tea", "tea", "tea"],
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"])})
    >>> rec = NextBasketRecommender().fit(lines, as_of="2024-02-20")
    >>> rec.recommend(k=1)[["customer_key", "sku"]].values.tolist()
    [['a', 'tea'], ['b', 'tea']]

    References
    ----------
    Hu, He, Gao, Zhang (2020). Modeling Personalized Item Frequency Information for Next-basket
    Recommendation. SIGIR 2020.
    """

    def __init__(self, horizon_days: int = 60, alpha: float = 0.7, basket_decay: float = 0.9,
                 n_neighbors: int = 50, neighbor_pool: int = 1000, repeat_weight: float = 1.0,
                 frequency_weight: float = 1.0,
                 together_weight: float = 1.0, category_weight: float = 1.0, popularity_weight: float = 1.0,
                 window_days: int = 30, next_order: bool = True,
                 min_customers: int = 3, due_probability: float = 0.2,
                 replenishment: ReplenishmentModel | None = None, group_size: int = 1,
                 group_decay: float = 0.7, tune: bool = True, target: str = "window",
                 validation_days: int | None = None, validation_k: int = 10,
                 validation_customers: int = 2000, min_validation_customers: int = 50,
                 random_state: int | None = 0) -> None:
        self.horizon_days = horizon_days
        self.alpha = alpha
        self.basket_decay = basket_decay
        self.n_neighbors = n_neighbors
        self.neighbor_pool = neighbor_pool
        self.repeat_weight = repeat_weight
        self.frequency_weight = frequency_weight
        self.together_weight = together_weight
        self.category_weight = category_weight
        self.popularity_weight = popularity_weight
        self.window_days = window_days
        self.next_order = next_order
        self.min_customers = min_customers
        self.due_probability = due_probability
        self.replenishment = replenishment
        self.group_size = group_size
        self.group_decay = group_decay
        self.tune = tune
        self.target = target
        self.validation_days = validation_days
        self.validation_k = validation_k
        self.validation_customers = validation_customers
        self.min_validation_customers = min_validation_customers
        self.random_state = random_state

    # ------------------------------------------------------------------------------------------------
    def _init_params(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in BLEND_PARAMS}

    def _fit_history(self, h: History) -> NextBasketRecommender:
        if self.target not in ("window", "next_basket"):
            raise InputError(f"Unknown target {self.target!r}; use 'window' or 'next_basket'.")
        self._fallback = None
        if self.tune:
            from ._select import select_blend

            self.selection_ = select_blend(self, h)
            params = self.selection_["params"]
        else:
            params = self._init_params()
            self.selection_ = {"status": "fixed", "params": params,
                               "message": "settings as given (tune=False), not validated"}
        self.params_ = dict(params)
        if self.selection_["status"] == "fallback":
            from .baselines import PTopFreqRecommender

            self._fallback = PTopFreqRecommender()._fit_history(h)
        self._fit_parts(h, self.params_)
        return self

    def _set_own(self, h: History, p: dict[str, float]) -> None:
        """The customers' decayed frequency vectors (own) and the neighbour pool structures they imply."""
        nu, ni = h.n_users, h.n_items
        bid, b_user, _ = h.basket_id()
        if int(p["group_size"]) <= 1:
            n_b = np.bincount(b_user, minlength=nu)
            rev = (np.cumsum(n_b) - 1)[b_user] - np.arange(len(b_user))
            w_b = np.power(float(p["basket_decay"]), rev).astype(np.float64)
        else:
            w_b = tifu_basket_weights(b_user, nu, int(p["group_size"]), float(p["basket_decay"]),
                                      float(p["group_decay"]))
        own = sp.csr_matrix((w_b[bid], (h.user, h.item)), shape=(nu, ni))
        tot = np.bincount(b_user, weights=w_b, minlength=nu)
        self._own = (sp.diags(1.0 / np.maximum(tot, 1e-12)) @ own).tocsr().astype(np.float32)
        self._own_l2 = _row_normalize(self._own, "l2")
        if p["alpha"] < 1.0 and p["frequency_weight"] > 0:
            pool_t = self._own_l2[self._pool].T.tocsr()
            # a dense pool matrix makes the similarity a sparse x dense product (fast) when it fits in ~64 MB
            self._pool_l2_t = pool_t.toarray() if ni * len(self._pool) <= 16_000_000 else pool_t
            self._pool_own = self._own[self._pool]

    def _fit_parts(self, h: History, p: dict[str, float], *, everything: bool = False) -> None:
        """Fit the score parts for blend ``p`` (parts of zero weight are skipped unless ``everything``)."""
        self._remember(h)
        self._p = dict(p)
        nu, ni = h.n_users, h.n_items
        bid, b_user, b_day = h.basket_id()
        n_b = np.bincount(b_user, minlength=nu)
        last_b = np.cumsum(n_b) - 1  # baskets are numbered per user in time order
        rev = last_b[b_user] - np.arange(len(b_user))  # 0 = the customer's latest basket
        w_b = np.power(float(p["basket_decay"]), rev).astype(np.float64)
        # neighbour pool: the customers with the most baskets (at least two)
        pool = np.argsort(-n_b, kind="stable")[: self.neighbor_pool]
        pool = pool[n_b[pool] >= 2]
        self._pool = np.sort(pool)
        self._set_own(h, p)

        rep = (self.replenishment if self.replenishment is not None else ReplenishmentModel())
        rep = rep._fit_history(h)
        self.replenishment_ = rep
        pr = rep._pair_probability(self.horizon_days)
        self._rep = sp.csr_matrix((pr.astype(np.float32), (rep._pair_user, rep._pair_item)), shape=(nu, ni))
        del pr  # each step frees its per-line arrays before the next makes its own: the fit's memory peak

        # cross-sell: rules i -> j within the window, triggered by recent purchases
        if everything or p["together_weight"] > 0:
            first_of_user = last_b - n_b + 1
            ordinal = (np.arange(len(b_user)) - first_of_user[b_user])[bid] if self.next_order else None
            pc = count_pairs(h.user, h.item, h.day, ni, self.window_days, ordinal=ordinal)
            self.copurchase_ = confidence_matrix(pc, ni, self.min_customers, 1.0)
            del pc, ordinal
        else:
            self.copurchase_ = sp.csr_matrix((ni, ni), dtype=np.float32)
        age = (h.as_of_day - h.day).astype(np.float64)
        trig = np.clip(1.0 - age / max(self.window_days, 1), 0.0, 1.0) if self.window_days > 0 else (age == 0) * 1.0
        if self.next_order:
            trig = np.maximum(trig, (rev[bid] == 0) * 1.0)
        recent = trig > 0
        tm = sp.csr_matrix((trig[recent], (h.user[recent], h.item[recent])), shape=(nu, ni))
        tm.sum_duplicates()
        tm.data = np.minimum(tm.data, 1.0)
        self._trig = tm.astype(np.float32)
        del age, trig, recent, tm
        c = self.copurchase_.tocoo()
        self._co_keys = c.row.astype(np.int64) * ni + c.col
        order = np.argsort(self._co_keys)
        self._co_keys, self._co_vals = self._co_keys[order], c.data[order]
        del c, order

        # category involvement and what first buyers of a category buy next
        nc = max(len(h.categories), 1)
        bcat = h.item_category[h.item]
        inv = sp.csr_matrix((np.ones(len(bid)), (bid, bcat)), shape=(len(b_user), nc))
        inv.data[:] = 1.0
        inv = sp.diags(w_b) @ inv
        user_of_b = sp.csr_matrix((np.ones(len(b_user)), (b_user, np.arange(len(b_user)))), shape=(nu, len(b_user)))
        self._inv = _row_normalize(user_of_b @ inv)
        del user_of_b, bcat
        if everything or p["category_weight"] > 0:
            first_b = last_b - n_b + 1
            u2 = np.flatnonzero(n_b >= 2)
            bi = sp.csr_matrix((np.ones(len(bid)), (bid, h.item)), shape=(len(b_user), ni))
            bi.data[:] = 1.0
            f_cat = (inv[first_b[u2]] > 0).astype(np.float32)
            s_items = bi[first_b[u2] + 1].astype(np.float32)
            counts = np.asarray(f_cat.sum(axis=0)).ravel()
            nxt = (f_cat.T @ s_items).toarray()
            nxt[counts < self.min_customers] = 0.0
            self.category_next_ = (nxt / np.maximum(counts, 1)[:, None]).astype(np.float32)
            del bi, f_cat, s_items, nxt
        else:
            self.category_next_ = np.zeros((nc, ni), dtype=np.float32)
        del inv, bid, rev, w_b

        # popularity (customers in the last horizon window, then all time) breaks ties and fills lists
        cust = np.bincount(sorted_unique(h.user.astype(np.int64) * ni + h.item) % ni, minlength=ni).astype(np.float64)
        lately = h.day > h.as_of_day - max(self.horizon_days, 30)
        rec_c = np.bincount(sorted_unique(h.user[lately].astype(np.int64) * ni + h.item[lately]) % ni, minlength=ni)
        active = max(len(sorted_unique(h.user[lately])), 1)
        self.popularity_ = (rec_c / active).astype(np.float32)
        tie = cust / (cust.max() + 1.0)
        self._pop = (1e-6 * tie).astype(np.float32)

    # ------------------------------------------------------------------------------------------------
    def _neighbours(self, rows: np.ndarray) -> np.ndarray:
        k = min(self.n_neighbors, len(self._pool) - 1)
        if k <= 0 or self._p["alpha"] >= 1.0 or self._p["frequency_weight"] <= 0:
            return np.zeros((len(rows), self.n_items_), dtype=np.float32)
        if len(rows) > _NEIGHBOUR_ROWS:  # a customer's neighbours depend on that customer only
            return np.vstack([self._neighbours(rows[s:s + _NEIGHBOUR_ROWS])
                              for s in range(0, len(rows), _NEIGHBOUR_ROWS)])
        sim = self._own_l2[rows] @ self._pool_l2_t
        sim = np.asarray(sim.toarray() if sp.issparse(sim) else sim, dtype=np.float32)
        pos = np.searchsorted(self._pool, rows)
        inpool = (pos < len(self._pool)) & (self._pool[np.minimum(pos, len(self._pool) - 1)] == rows)
        sim[np.flatnonzero(inpool), pos[inpool]] = -1.0
        nb = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        nb_sim = np.take_along_axis(sim, nb, axis=1)
        wts = (nb_sim > 0).astype(np.float32) / k
        w = sp.csr_matrix((wts.ravel(), (np.repeat(np.arange(len(rows)), k), nb.ravel())),
                          shape=(len(rows), len(self._pool)))
        out = w @ self._pool_own
        return np.asarray(out.toarray() if sp.issparse(out) else out, dtype=np.float32)

    def _components(self, rows: np.ndarray, p: dict[str, float] | None = None) -> dict[int, np.ndarray]:
        """Weighted score parts for a block of customers (dense float32; popularity as one row).

        With ``p`` (a blend whose weights are all 1 or 0), the parts come unweighted; a part of zero weight is
        a zero block (the neighbours' and co-purchase products are skipped).
        """
        p = self._p if p is None else p
        nr, ni = len(rows), self.n_items_
        fw = float(p["frequency_weight"])
        own = self._own[rows].toarray()
        own *= np.float32(fw * p["alpha"])
        if fw > 0 and p["alpha"] < 1.0:
            nb = self._neighbours(rows)
            nb *= np.float32(fw * (1.0 - p["alpha"]))
        else:
            nb = np.zeros((nr, ni), dtype=np.float32)
        rep = self._rep[rows].toarray()
        rep *= np.float32(p["repeat_weight"])
        trig = self._trig[rows]
        if p["together_weight"] > 0 and self.copurchase_.nnz:
            co = np.asarray((trig @ self.copurchase_).toarray(), dtype=np.float32)
            np.minimum(co, 1.0, out=co)
            r_idx = np.repeat(np.arange(nr), np.diff(trig.indptr))
            co[r_idx, trig.indices] = 0.0  # bought lately: the rule has fired already
            co *= np.float32(p["together_weight"])
        else:
            co = np.zeros((nr, ni), dtype=np.float32)
        if p["category_weight"] > 0:
            cat = np.asarray(self._inv[rows] @ self.category_next_, dtype=np.float32)
            cat *= np.float32(p["category_weight"])
        else:
            cat = np.zeros((nr, ni), dtype=np.float32)
        pop = (np.float32(p["popularity_weight"]) * self.popularity_)[None, :]
        return {R.REPURCHASE: rep, R.FREQUENT: own, R.SIMILAR: nb, R.TOGETHER: co, R.CATEGORY_NEXT: cat,
                R.POPULAR: pop}

    def _related(self, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        """For (customer, item) pairs: the recent purchase with the strongest rule towards the item."""
        out = np.full(len(rows), -1, dtype=np.int64)
        if not len(rows) or not len(self._co_keys):
            return out
        t = self._trig[rows]
        lens = np.diff(t.indptr)
        pair = np.repeat(np.arange(len(rows)), lens)
        trig_item = t.indices
        key = trig_item.astype(np.int64) * self.n_items_ + items[pair]
        pos = np.minimum(np.searchsorted(self._co_keys, key), len(self._co_keys) - 1)
        hit = self._co_keys[pos] == key
        val = np.where(hit, self._co_vals[pos] * t.data, -1.0)
        if not len(val):
            return out
        order = np.lexsort((-val, pair))
        first = np.ones(len(order), dtype=bool)
        first[1:] = pair[order][1:] != pair[order][:-1]
        best = order[first]
        good = val[best] > 0
        out[pair[best][good]] = trig_item[best][good]
        return out

    def _topk(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._fallback is not None:
            return self._fallback._topk(k)
        return self._topk_rows(0, self.n_customers_, k)

    def _topk_blocks(self, k: int, size: int) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
        if self._fallback is not None:
            yield from self._fallback._topk_blocks(k, size)
            return
        for start in range(0, self.n_customers_, size):  # each customer's list depends on that customer only
            yield start, self._topk_rows(start, min(self.n_customers_, start + size), k)

    def _block_rows(self) -> int:
        """Customers scored together (a dense customers × items block of about 2M scores)."""
        return int(max(64, min(4096, 2_000_000 // max(self.n_items_, 1))))

    def _topk_rows(self, first: int, stop: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Top-k item codes, scores, reason codes and related items of the customers ``first`` to ``stop - 1``."""
        nu, ni = stop - first, self.n_items_
        items = np.full((nu, k), -1, dtype=np.int64)
        scores = np.zeros((nu, k), dtype=np.float32)
        codes = np.full((nu, k), R.POPULAR, dtype=np.int64)
        related = np.full((nu, k), -1, dtype=np.int64)
        chunk = self._block_rows()
        for start in range(first, stop, chunk):
            rows = np.arange(start, min(stop, start + chunk))
            comp = self._components(rows)
            keys = list(comp)
            total = comp[R.REPURCHASE].copy()
            for c in keys[1:]:
                total += comp[c]
            total += self._pop[None, :]
            idx, val = topk_dense(total, k)
            del total
            safe = np.maximum(idx, 0)
            parts = np.stack([np.take_along_axis(np.broadcast_to(comp[c], (len(rows), ni)), safe, axis=1)
                              for c in keys])
            best = np.asarray(keys)[np.argmax(parts, axis=0)]
            best = np.where(parts.max(axis=0) > 0, best, R.POPULAR)
            # items bought before: "repurchase due" when the re-buy chance is real, else "one of your regulars"
            own_part = parts[keys.index(R.FREQUENT)]
            # the re-buy chance itself, also when the chosen blend gives the timing no weight in the score
            rep_p = np.take_along_axis(self._rep[rows].toarray(), safe, axis=1)
            best = np.where(own_part > 0, np.where(rep_p >= self.due_probability, R.REPURCHASE, R.FREQUENT), best)
            sl = slice(start - first, start - first + len(rows))
            items[sl], scores[sl], codes[sl] = idx, val, np.where(idx >= 0, best, R.POPULAR)
            tog_r, tog_c = np.nonzero((best == R.TOGETHER) & (idx >= 0))
            rel = self._related(rows[tog_r], idx[tog_r, tog_c])
            related[sl][tog_r, tog_c] = rel
            codes[sl][tog_r[rel < 0], tog_c[rel < 0]] = R.SIMILAR
        return items, scores, codes, related

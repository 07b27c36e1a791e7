"""Baselines every recommender must beat: global popularity, personal top-frequency, implicit's ALS."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..exceptions import InputError
from . import _reasons as R
from ._base import BaseRecommender
from ._data import History

__all__ = ["ALSRecommender", "PTopFreqRecommender", "PopularityRecommender", "als_available"]


def _basket_counts(h: History) -> sp.csr_matrix:
    """Customers × items: number of days (baskets) on which the customer bought the item."""
    return sp.csr_matrix((np.ones(len(h.user), dtype=np.float32), (h.user, h.item)), shape=(h.n_users, h.n_items))


class PopularityRecommender(BaseRecommender):
    """G-TopFreq: the same best-sellers (most baskets) for everyone.

    Parameters
    ----------
    recent_days
        Count only baskets of the last ``recent_days`` before as-of (``None``: all history).

    Attributes
    ----------
    popularity_ : numpy.ndarray
        Baskets per item.
    """

    def __init__(self, recent_days: int | None = None) -> None:
        self.recent_days = recent_days

    def _fit_history(self, h: History) -> PopularityRecommender:
        self._remember(h)
        keep = np.ones(len(h.day), bool) if self.recent_days is None else h.day > h.as_of_day - self.recent_days
        self.popularity_ = np.bincount(h.item[keep], minlength=h.n_items).astype(np.float64)
        return self

    def _topk(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        order = np.argsort(-self.popularity_, kind="stable")[:k]
        order = order[self.popularity_[order] > 0]
        row = np.full(k, -1, dtype=np.int64)
        row[: len(order)] = order
        sc = np.zeros(k, dtype=np.float32)
        sc[: len(order)] = self.popularity_[order] / max(self.popularity_.sum(), 1)
        n = self.n_customers_
        return (np.tile(row, (n, 1)), np.tile(sc, (n, 1)), np.full((n, k), R.POPULAR),
                np.full((n, k), -1, dtype=np.int64))


class PTopFreqRecommender(BaseRecommender):
    """P-TopFreq: each customer's own most frequently bought items (ties: most recent first).

    Parameters
    ----------
    fill_popular
        Fill short lists with global best-sellers (GP-TopFreq).

    Attributes
    ----------
    counts_ : scipy.sparse.csr_matrix
        Baskets per customer × item.
    """

    def __init__(self, fill_popular: bool = False) -> None:
        self.fill_popular = fill_popular

    def _fit_history(self, h: History) -> PTopFreqRecommender:
        self._remember(h)
        self.counts_ = _basket_counts(h)
        last = sp.csr_matrix(((h.day - h.day.min() + 1).astype(np.float64), (h.user, h.item)),
                             shape=(h.n_users, h.n_items))
        last.sum_duplicates()
        # sum of days is monotone in recency only for equal counts, which is when ties matter
        self._tiebreak = last
        self._pop = np.bincount(h.item, minlength=h.n_items).astype(np.float64)
        return self

    def _topk(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self._lists(self.counts_, self._tiebreak, k)

    def _topk_of(self, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The rows ``rows`` of :meth:`_topk`, computed for those customers only."""
        return self._lists(self.counts_[rows], self._tiebreak[rows], k)

    def _lists(self, c: sp.csr_matrix, t: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Top-k lists of the customers of ``c`` (basket counts) and ``t`` (their tie-breaks), rows of the same
        customers."""
        n = c.shape[0]
        items = np.full((n, k), -1, dtype=np.int64)
        scores = np.zeros((n, k), dtype=np.float32)
        codes = np.full((n, k), R.FREQUENT, dtype=np.int64)
        lens = np.diff(c.indptr)
        u = np.repeat(np.arange(n), lens)
        cnt = c.data
        tb = t.data / max(self._tiebreak.data.max(), 1.0) / (1.0 + cnt)  # one scale for every customer
        order = np.lexsort((-tb, -cnt, u))
        u_s, i_s, v_s = u[order], c.indices[order], cnt[order]
        rank = np.arange(len(order)) - np.repeat(c.indptr[:-1], lens)
        keep = rank < k
        items[u_s[keep], rank[keep]] = i_s[keep]
        scores[u_s[keep], rank[keep]] = v_s[keep]
        if self.fill_popular:
            pop_order = np.argsort(-self._pop, kind="stable")[: 2 * k]
            for r in np.flatnonzero(lens < k):
                have = set(items[r, : lens[r]].tolist())
                fill = [i for i in pop_order if i not in have][: k - lens[r]]
                items[r, lens[r]: lens[r] + len(fill)] = fill
                codes[r, lens[r]: lens[r] + len(fill)] = R.POPULAR
        return items, scores, codes, np.full((n, k), -1, dtype=np.int64)


def als_available() -> bool:
    """Whether the optional ``implicit`` package (extra ``als``) can be imported."""
    try:
        import implicit  # noqa: F401
    except Exception:
        return False
    return True


class ALSRecommender(BaseRecommender):
    """implicit's alternating least squares on BM25-weighted basket counts (needs the ``als`` extra).

    Parameters
    ----------
    factors, iterations, regularization
        Passed to ``implicit.als.AlternatingLeastSquares``.
    bm25
        Weight counts with ``implicit.nearest_neighbours.bm25_weight`` first.
    random_state
        Seed of the factor initialisation.

    Attributes
    ----------
    model_ : implicit.cpu.als.AlternatingLeastSquares
    """

    def __init__(self, factors: int = 64, iterations: int = 15, regularization: float = 0.05, bm25: bool = True,
                 random_state: int = 0) -> None:
        self.factors = factors
        self.iterations = iterations
        self.regularization = regularization
        self.bm25 = bm25
        self.random_state = random_state

    def _fit_history(self, h: History) -> ALSRecommender:
        if not als_available():
            raise InputError("implicit is not installed; install the extra with `pip install ltvkit[als]`.")
        from implicit.als import AlternatingLeastSquares
        from implicit.nearest_neighbours import bm25_weight

        self._remember(h)
        ui = _basket_counts(h)
        self._ui = ui
        weighted = bm25_weight(ui, K1=100, B=0.8).tocsr() if self.bm25 else ui
        self.model_ = AlternatingLeastSquares(factors=self.factors, iterations=self.iterations,
                                              regularization=self.regularization, random_state=self.random_state,
                                              calculate_training_loss=False)
        self.model_.fit(weighted.astype(np.float32), show_progress=False)
        return self

    def _topk(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = self.n_customers_
        ids, sc = self.model_.recommend(np.arange(n), self._ui, N=k, filter_already_liked_items=False)
        ids = np.where(sc > -np.inf, ids, -1).astype(np.int64)
        codes = np.full((n, k), R.SIMILAR, dtype=np.int64)
        return ids, sc.astype(np.float32), codes, np.full((n, k), -1, dtype=np.int64)

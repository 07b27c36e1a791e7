"""TIFU-KNN (Hu, He, Gao, Zhang, SIGIR 2020), written from the paper's description.

Each customer's baskets (one basket = customer × day), oldest first, are cut into groups of ``group_size``
baskets counted from the latest one (the oldest group holds the remainder). A group's vector is the mean of its
basket vectors (0/1 per item), basket i from the group's end weighted ``within_decay**i``; the customer's
vector is the mean of her group vectors, group j from the end weighted ``group_decay**j``. The score of an item
is ``alpha·own + (1-alpha)·mean of the k nearest customers' vectors`` (Euclidean distance between the vectors,
the customer herself left out).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _reasons as R
from ._base import BaseRecommender, topk_dense
from ._data import History

__all__ = ["TIFUKNNRecommender", "tifu_basket_weights"]


def tifu_basket_weights(b_user: np.ndarray, n_users: int, group_size: int, within_decay: float,
                        group_decay: float) -> np.ndarray:
    """Weight of each basket in its customer's TIFU vector (baskets sorted by customer, then time).

    ``group_size=1`` gives ``group_decay**i / n`` for the basket i from the end (plain per-basket decay).
    """
    n_b = np.bincount(b_user, minlength=n_users)
    last_b = np.cumsum(n_b) - 1
    rev = last_b[b_user] - np.arange(len(b_user))  # 0 = the customer's latest basket
    m = max(int(group_size), 1)
    grp = rev // m  # 0 = latest group
    pos = rev % m  # 0 = latest basket of its group
    n_groups = -(-n_b // m)  # ceil
    full = n_b - (n_groups - 1) * m  # size of the oldest group
    size = np.where(grp < n_groups[b_user] - 1, m, full[b_user]).astype(np.float64)
    w = np.power(float(within_decay), pos) / size
    w *= np.power(float(group_decay), grp) / n_groups[b_user]
    return w


def tifu_vectors(h: History, group_size: int, within_decay: float, group_decay: float) -> sp.csr_matrix:
    """Customers × items TIFU vectors (float32, CSR)."""
    bid, b_user, _ = h.basket_id()
    w = tifu_basket_weights(b_user, h.n_users, group_size, within_decay, group_decay)
    m = sp.csr_matrix((w[bid], (h.user, h.item)), shape=(h.n_users, h.n_items))
    m.sum_duplicates()
    return m.astype(np.float32)


def knn_mean(vec: sp.csr_matrix, rows: np.ndarray, pool: np.ndarray, k: int, metric: str = "euclidean",
             pool_t: np.ndarray | sp.csr_matrix | None = None) -> np.ndarray:
    """Mean vector of the ``k`` nearest pool customers of each customer in ``rows`` (dense, float32).

    ``metric`` is ``"euclidean"`` (TIFU-KNN) or ``"cosine"``; a customer is never her own neighbour.
    """
    k = min(int(k), len(pool) - 1)
    ni = vec.shape[1]
    if k <= 0 or not len(rows):
        return np.zeros((len(rows), ni), dtype=np.float32)
    q = vec[rows]
    pv = vec[pool]
    if metric == "cosine":
        qn = np.sqrt(np.asarray(q.multiply(q).sum(axis=1)).ravel())
        pn = np.sqrt(np.asarray(pv.multiply(pv).sum(axis=1)).ravel())
        q = sp.diags(1.0 / np.maximum(qn, 1e-12)) @ q
        pv_n = sp.diags(1.0 / np.maximum(pn, 1e-12)) @ pv
        pt = pool_t if pool_t is not None else pv_n.T.tocsr()
        sim = q @ pt
        score = np.asarray(sim.toarray() if sp.issparse(sim) else sim, dtype=np.float64)
    else:
        pt = pool_t if pool_t is not None else pv.T.tocsr()
        dot = q @ pt
        dot = np.asarray(dot.toarray() if sp.issparse(dot) else dot, dtype=np.float64)
        qs = np.asarray(q.multiply(q).sum(axis=1)).ravel()
        ps = np.asarray(pv.multiply(pv).sum(axis=1)).ravel()
        score = -(qs[:, None] + ps[None, :] - 2.0 * dot)  # higher = nearer
    pos = np.searchsorted(pool, rows)
    inpool = (pos < len(pool)) & (pool[np.minimum(pos, len(pool) - 1)] == rows)
    score[np.flatnonzero(inpool), pos[inpool]] = -np.inf
    nb = np.argpartition(-score, k - 1, axis=1)[:, :k]
    w = sp.csr_matrix((np.full(nb.size, 1.0 / k, dtype=np.float32), (np.repeat(np.arange(len(rows)), k), nb.ravel())),
                      shape=(len(rows), len(pool)))
    out = w @ pv
    return np.asarray(out.toarray() if sp.issparse(out) else out, dtype=np.float32)


class TIFUKNNRecommender(BaseRecommender):
    """TIFU-KNN: time-decayed personal item frequency mixed with the nearest customers' (SIGIR 2020).

    Parameters
    ----------
    n_neighbors
        Nearest customers averaged (the paper's k).
    within_decay, group_decay
        The paper's r_b (decay between baskets of a group) and r_g (decay between groups).
    group_size
        Baskets per group (the paper's m).
    alpha
        Weight of the customer's own vector against the neighbours' mean.
    neighbor_pool
        Search neighbours among this many customers with the most baskets (``None``: all customers).

    Attributes
    ----------
    vectors_ : scipy.sparse.csr_matrix
        The customers' TIFU vectors.

    References
    ----------
    Hu, He, Gao, Zhang (2020). Modeling Personalized Item Frequency Information for Next-basket
    Recommendation. SIGIR 2020. Defaults: the paper's Ta-Feng settings (k=300, r_b=0.9, r_g=0.7, alpha=0.7,
    m=7).
    """

    def __init__(self, n_neighbors: int = 300, within_decay: float = 0.9, group_decay: float = 0.7,
                 group_size: int = 7, alpha: float = 0.7, neighbor_pool: int | None = None) -> None:
        self.n_neighbors = n_neighbors
        self.within_decay = within_decay
        self.group_decay = group_decay
        self.group_size = group_size
        self.alpha = alpha
        self.neighbor_pool = neighbor_pool

    def _fit_history(self, h: History) -> TIFUKNNRecommender:
        self._remember(h)
        self.vectors_ = tifu_vectors(h, self.group_size, self.within_decay, self.group_decay)
        _, b_user, _ = h.basket_id()
        n_b = np.bincount(b_user, minlength=h.n_users)
        pool = np.argsort(-n_b, kind="stable")
        if self.neighbor_pool is not None:
            pool = pool[: self.neighbor_pool]
        self._pool = np.sort(pool)
        self._pool_t = self.vectors_[self._pool].T.tocsr()
        return self

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        own = self.vectors_[rows].toarray()
        own *= np.float32(self.alpha)
        if self.alpha < 1.0:
            nb = knn_mean(self.vectors_, rows, self._pool, self.n_neighbors, "euclidean", self._pool_t)
            own += np.float32(1.0 - self.alpha) * nb
        return own

    def _topk(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        nu, ni = self.n_customers_, self.n_items_
        items = np.full((nu, k), -1, dtype=np.int64)
        scores = np.zeros((nu, k), dtype=np.float32)
        chunk = int(max(32, min(2048, 2_000_000 // max(ni, 1))))
        for start in range(0, nu, chunk):
            rows = np.arange(start, min(nu, start + chunk))
            idx, val = topk_dense(self._scores(rows), k)
            items[rows], scores[rows] = idx, val
        codes = np.where(items >= 0, R.FREQUENT, R.POPULAR)
        return items, scores, codes, np.full((nu, k), -1, dtype=np.int64)

"""Counting co-purchases: ordered item pairs bought by the same customer within N days (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class PairCounts:
    """Distinct-customer counts of ordered pairs (i then j within the window; same day counts both ways)."""

    i: np.ndarray
    j: np.ndarray
    n_ij: np.ndarray  # customers who bought i and then j within the window
    n_i: np.ndarray  # customers who bought each code at all (length n_codes)
    n_customers: int

    def support(self) -> np.ndarray:
        return self.n_ij / max(self.n_customers, 1)

    def confidence(self) -> np.ndarray:
        return self.n_ij / np.maximum(self.n_i[self.i], 1)

    def lift(self) -> np.ndarray:
        return self.confidence() / np.maximum(self.n_i[self.j] / max(self.n_customers, 1), 1e-12)


def dedupe_rows(user: np.ndarray, code: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by (user, day, code) with one row per user × code × day."""
    o = np.lexsort((code, day, user))
    u, c, d = user[o], code[o], day[o]
    keep = np.ones(len(u), dtype=bool)
    keep[1:] = (u[1:] != u[:-1]) | (d[1:] != d[:-1]) | (c[1:] != c[:-1])
    return u[keep], c[keep], d[keep]


def count_pairs(user: np.ndarray, code: np.ndarray, day: np.ndarray, n_codes: int, window_days: int,
                max_lag: int = 60, ordinal: np.ndarray | None = None) -> PairCounts:
    """Count, per ordered pair of codes, the customers who bought the second within ``window_days`` of the first.

    Rows must be sorted by (user, day, code) with one row per user × code × day (see :func:`dedupe_rows`).
    ``window_days=0`` means the same day (the same basket). A customer's later purchase is paired with at most
    ``max_lag`` following rows, which bounds the work for very heavy buyers. With ``ordinal`` (the customer's
    order number of each row), B also counts when it is in the customer's next order, however late.
    """
    n = len(user)
    keys = []
    mult = np.int64(n_codes)
    for lag in range(1, min(max_lag, max(n - 1, 0)) + 1):
        # row a and row b = a + lag, compared through shifted views (no index arrays of every row)
        close = day[lag:] - day[:-lag] <= window_days
        if ordinal is not None:
            close |= ordinal[lag:] - ordinal[:-lag] <= 1
        ok = (user[lag:] == user[:-lag]) & close
        del close
        if not ok.any():
            break
        a = np.flatnonzero(ok)
        b = a + lag
        del ok
        diff = code[a] != code[b]
        a, b = a[diff], b[diff]
        u = user[a].astype(np.int64)
        keys.append((u * mult + code[a]) * mult + code[b])
        sameday = day[b] == day[a]
        keys.append((u[sameday] * mult + code[b][sameday]) * mult + code[a][sameday])
    first = np.ones(n, dtype=bool)
    first[1:] = user[1:] != user[:-1]
    n_customers = int(first.sum())
    uc = sorted_unique(user.astype(np.int64) * mult + code)
    n_i = np.bincount((uc % mult).astype(np.int64), minlength=n_codes)
    if not keys:
        e = np.zeros(0, dtype=np.int64)
        return PairCounts(e, e, e, n_i, n_customers)
    allk = np.concatenate(keys)
    keys.clear()
    allk = sorted_unique(allk)  # one key per customer and pair
    pair, n_ij = np.unique(allk % (mult * mult), return_counts=True)  # customers per pair, by (i, j)
    del allk
    return PairCounts(i=pair // mult, j=pair % mult, n_ij=n_ij.astype(np.int64), n_i=n_i, n_customers=n_customers)


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """Distinct values of an integer array, sorted (a plain sort: faster than hashing for large arrays)."""
    a = np.sort(a)
    if len(a) < 2:
        return a
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def confidence_matrix(pc: PairCounts, n_codes: int, min_customers: int = 3, min_lift: float = 1.0) -> sp.csr_matrix:
    """Sparse matrix of confidence(i -> j) for pairs with enough customers and lift above ``min_lift``."""
    keep = (pc.n_ij >= min_customers) & (pc.lift() > min_lift)
    return sp.csr_matrix((pc.confidence()[keep].astype(np.float32), (pc.i[keep], pc.j[keep])),
                         shape=(n_codes, n_codes))

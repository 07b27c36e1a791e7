"""Shared shape of every recommender: fit on order lines up to an as-of date, then top-k per customer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..exceptions import InputError, NotFittedError
from ..i18n import is_lang
from ._data import History, from_day, load_history
from ._reasons import REASON_CODES, reason_text

OUTPUT_COLUMNS = ["customer_key", "rank", "sku", "score", "reason", "reason_code", "related_sku"]


class BaseRecommender:
    """Base class: ``fit(lines, as_of)`` returns self; ``recommend(k)`` gives a per-customer top-k frame.

    Subclasses implement ``_fit_history(history)`` and ``_topk(k)``, which returns four arrays of shape
    (customers, k): item codes (-1 where empty), scores, reason codes and related item codes (-1 if none).
    """

    def fit(self, lines: Any, as_of: Any = None) -> BaseRecommender:
        """Learn from canonical order lines on or before ``as_of`` (default: the last order date).

        Parameters
        ----------
        lines
            An Ibis table (``ws.orders()``) or a pandas DataFrame with ``customer_key``, ``sku``,
            ``order_date`` (or ``ordered_at``) and optionally ``category``, ``quantity``, ``unit_price``,
            ``product_name`` and ``status`` (only ``ordered`` lines are used).
        as_of
            Date to look from; later lines are ignored.
        """
        return self._fit_history(load_history(lines, as_of))

    def _fit_history(self, h: History) -> BaseRecommender:  # pragma: no cover - abstract
        raise NotImplementedError  # abstract: each concrete class defines it

    def _topk(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError  # abstract: each concrete class defines it

    def _remember(self, h: History) -> None:
        self.as_of_ = from_day(h.as_of_day)
        self.n_customers_ = h.n_users
        self.n_items_ = h.n_items
        self._customers, self._items, self._item_name = h.customers, h.items, h.item_name
        self._categories, self._item_category = h.categories, h.item_category

    def _check(self) -> None:
        if not hasattr(self, "as_of_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with order lines first.")

    def _topk_blocks(self, k: int, size: int) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
        """:meth:`_topk` for blocks of ``size`` customers in code order: (first customer code, arrays).

        The default computes every list at once and slices it; a recommender whose lists are computed per
        customer overrides it so that only a block's lists exist at a time.
        """
        arrays = self._topk(k)
        for start in range(0, self.n_customers_, size):
            yield start, tuple(a[start:start + size] for a in arrays)

    def _check_k_lang(self, k: Any, lang: str) -> None:
        self._check()
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"k must be a whole number of at least 1, not {k!r}.")
        if not is_lang(lang):
            raise InputError(key="err.unknown_language", value=lang)

    def recommend(self, k: int = 10, *, lang: str = "en", customers: Any = None) -> pd.DataFrame:
        """Top-``k`` items per customer with a reason a customer would accept.

        Parameters
        ----------
        k
            Items per customer.
        lang
            Language of ``reason``: ``"en"`` or ``"ja"``.
        customers
            Only these customer keys (default: every customer seen before as-of).

        Returns
        -------
        pandas.DataFrame
            ``customer_key, rank, sku, score, reason, reason_code, related_sku`` (the item a
            "bought together with X" reason refers to, else empty), best first per customer.
        """
        self._check_k_lang(k, lang)
        if customers is None:
            table = pa.concat_tables(self.iter_recommend(int(k), lang=lang))
        else:
            items, scores, codes, related = self._topk(int(k))
            wanted = pd.Index(np.asarray(list(customers), dtype=object))
            pos = pd.Index(self._customers).get_indexer(wanted)
            rows = pos[pos >= 0]
            table = self._table(rows, items[rows], scores[rows], codes[rows], related[rows], lang)
        return table.to_pandas() if table.num_rows else empty_frame()

    def iter_recommend(self, k: int = 10, *, lang: str = "en",
                       chunk_customers: int = 50_000) -> Iterator[pa.Table]:
        """:meth:`recommend` for every customer as Arrow tables of about ``chunk_customers`` customers each.

        The tables, in customer order, hold the rows of ``recommend(k, lang=lang)`` (same columns, as Arrow
        strings); only one chunk's lists exist at a time, so memory does not grow with the number of customers.
        """
        self._check_k_lang(k, lang)
        for start, (items, scores, codes, related) in self._topk_blocks(int(k), max(int(chunk_customers), 1)):
            rows = np.arange(start, start + len(items))
            yield self._table(rows, items, scores, codes, related, lang)

    def _table(self, rows: np.ndarray, items: np.ndarray, scores: np.ndarray, codes: np.ndarray,
               related: np.ndarray, lang: str) -> pa.Table:
        """The output rows of top-k arrays whose row ``r`` is customer ``rows[r]``, as an Arrow table.

        The text columns are taken from the distinct values (one reason per distinct reason code, related item
        and category), so no Python string is made per row.
        """
        valid = items >= 0
        r_idx, c_idx = np.nonzero(valid)
        it = items[valid]
        rel = related[valid]
        cod = codes[valid]
        ni, nc = len(self._items), max(len(self._categories), 1)
        key = (cod.astype(np.int64) * (ni + 1) + (rel + 1)) * nc + self._item_category[it]
        uniq, inverse = np.unique(key, return_inverse=True)
        u_cat, u_rel, u_cod = uniq % nc, (uniq // nc) % (ni + 1) - 1, uniq // nc // (ni + 1)
        texts = [reason_text(int(c), lang, related=self._item_name[r] if r >= 0 else "", category=self._categories[g])
                 for c, r, g in zip(u_cod, u_rel, u_cat, strict=True)]
        skus = pa.array(self._items, type=pa.string())
        return pa.table({
            "customer_key": pa.array(self._customers[rows], type=pa.string()).take(r_idx),
            "rank": pa.array((c_idx + 1).astype(np.int32)),
            "sku": skus.take(it),
            "score": pa.array(scores[valid].astype(np.float64)),
            "reason": pa.array(texts, type=pa.string()).take(inverse.reshape(-1)),
            "reason_code": pa.array(list(REASON_CODES), type=pa.string()).take(cod),
            "related_sku": skus.take(pa.array(np.maximum(rel, 0), mask=rel < 0)),
        })


def empty_frame() -> pd.DataFrame:
    """The frame :meth:`BaseRecommender.recommend` gives when no customer has a list (pandas' empty dtypes)."""
    return pd.DataFrame({
        "customer_key": np.array([], dtype=object), "rank": np.array([], dtype=np.int32),
        "sku": np.array([], dtype=object), "score": np.array([], dtype=np.float64), "reason": [],
        "reason_code": np.array([], dtype=object), "related_sku": np.array([], dtype=object)}, columns=OUTPUT_COLUMNS)


def topk_dense(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-k of a dense score block (columns by descending score; -1 where the score is not > 0)."""
    n, m = scores.shape
    kk = min(k, m)
    if kk == 0:
        return np.full((n, k), -1, dtype=np.int64), np.zeros((n, k), dtype=np.float32)
    part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk] if kk < m else np.tile(np.arange(m), (n, 1))
    ps = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-ps, axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1)
    val = np.take_along_axis(ps, order, axis=1)
    idx = np.where(val > 0, idx, -1)
    if kk < k:
        idx = np.hstack([idx, np.full((n, k - kk), -1, dtype=idx.dtype)])
        val = np.hstack([val, np.zeros((n, k - kk), dtype=val.dtype)])
    return idx.astype(np.int64), val.astype(np.float32)

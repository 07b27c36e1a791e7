"""Shared shape of every recommender: fit on order lines up to an as-of date, then top-k per customer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

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
        self._check()
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise InputError(f"k must be a whole number of at least 1, not {k!r}.")
        if not is_lang(lang):
            raise InputError(key="err.unknown_language", value=lang)
        items, scores, codes, related = self._topk(int(k))
        rows = np.arange(items.shape[0])
        if customers is not None:
            wanted = pd.Index(np.asarray(list(customers), dtype=object))
            pos = pd.Index(self._customers).get_indexer(wanted)
            rows = pos[pos >= 0]
        items, scores, codes, related = items[rows], scores[rows], codes[rows], related[rows]
        valid = items >= 0
        r_idx, c_idx = np.nonzero(valid)
        it = items[valid]
        rel = related[valid]
        cod = codes[valid]
        rel_name = np.where(rel >= 0, self._item_name[np.maximum(rel, 0)], "")
        cat_name = self._categories[self._item_category[it]]
        reason = [reason_text(int(c), lang, related=rn, category=cn) for c, rn, cn in zip(cod, rel_name, cat_name, strict=True)]
        return pd.DataFrame({
            "customer_key": self._customers[rows[r_idx]],
            "rank": (c_idx + 1).astype(np.int32),
            "sku": self._items[it],
            "score": scores[valid].astype(np.float64),
            "reason": reason,
            "reason_code": np.asarray(REASON_CODES, dtype=object)[cod],
            "related_sku": np.where(rel >= 0, self._items[np.maximum(rel, 0)], None),
        }, columns=OUTPUT_COLUMNS)


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

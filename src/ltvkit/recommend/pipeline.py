"""Run the recommender on a workspace and store the per-customer lists for reports and messages."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._data import to_day
from .nextbasket import NextBasketRecommender

__all__ = ["recommend_workspace"]


def recommend_workspace(ws: Any, *, as_of: Any = None, k: int = 10, horizon_days: int = 60, lang: str = "en",
                        store: bool = True, model: NextBasketRecommender | None = None) -> pd.DataFrame:
    """Top-``k`` recommendations for every customer of the workspace, stored as ``result_recommendations``.

    Parameters
    ----------
    ws
        A :class:`ltvkit.Workspace` holding order lines.
    as_of
        Recommend as of this date (default: the last order date); later orders are ignored.
    k, horizon_days, lang
        List length, the window the lists are for, and the language of ``reason``.
    store
        Write the result into the workspace.
    model
        An unfitted recommender to use instead of the default :class:`NextBasketRecommender`.

    Returns
    -------
    pandas.DataFrame
        ``customer_key, rank, sku, score, reason, reason_code, related_sku``.
    """
    ws.require_orders()
    rec = model if model is not None else NextBasketRecommender(horizon_days=horizon_days)
    rec.fit(ws.orders(), as_of=as_of)
    df = rec.recommend(k=k, lang=lang)
    if store:
        ws.write_result("recommendations", df, kind="recommendations", as_of=rec.as_of_,
                        params={"k": k, "horizon_days": horizon_days, "lang": lang,
                                "model": type(rec).__name__, "as_of_day": to_day(rec.as_of_),
                                "blend": getattr(rec, "selection_", None)})
    return df

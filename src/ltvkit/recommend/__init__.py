"""What each customer needs next: replenishment timing, next-basket recommendations, cross-sell and upsell.

Everything takes canonical order lines (an Ibis table from ``ws.orders()`` or a pandas DataFrame) and an
as-of date; estimators follow the scikit-learn contract (``fit`` returns ``self``, learned attributes end in
``_``). :func:`ltvkit.pipeline.recommend_workspace` runs it on a workspace and stores ``result_recommendations``.
"""

from __future__ import annotations

from .baselines import ALSRecommender, PopularityRecommender, PTopFreqRecommender, als_available
from .evaluation import evaluate_recommenders, evaluate_replenishment, ranking_metrics, time_split
from .nextbasket import NextBasketRecommender
from .replenishment import ReplenishmentModel
from .rules import association_rules, bundle_candidates, upsell_candidates
from .tifuknn import TIFUKNNRecommender

__all__ = [
    "als_available",
    "ALSRecommender",
    "association_rules",
    "bundle_candidates",
    "evaluate_recommenders",
    "evaluate_replenishment",
    "NextBasketRecommender",
    "PopularityRecommender",
    "PTopFreqRecommender",
    "ranking_metrics",
    "ReplenishmentModel",
    "TIFUKNNRecommender",
    "time_split",
    "upsell_candidates",
]

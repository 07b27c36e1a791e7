"""Customer-base models (buy-till-you-die): fit on per-customer summaries, predict purchases, P(alive) and CLV.

Models follow scikit-learn's contract (``__init__`` stores settings, ``fit`` returns ``self``, learned
attributes end in ``_``) and lifetimes' argument order, so a lifetimes user switches by changing the import.
"""

from __future__ import annotations

from ._base import BaseModel, check_is_fitted
from .beta_geo import BetaGeoModel
from .beta_geo_beta_binom import BetaGeoBetaBinomModel
from .clv import customer_lifetime_value, discounted_expected_transactions
from .gamma_gamma import GammaGammaModel
from .modified_beta_geo import ModifiedBetaGeoModel
from .pareto_nbd import ParetoNBDModel
from .shifted_beta_geo import ShiftedBetaGeoModel
from .validation import (
    calibration_by_frequency,
    compare_models,
    cumulative_tracking,
    decile_lift,
    gini,
    holdout_errors,
)

__all__ = [
    "BaseModel",
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "calibration_by_frequency",
    "check_is_fitted",
    "compare_models",
    "cumulative_tracking",
    "customer_lifetime_value",
    "decile_lift",
    "discounted_expected_transactions",
    "GammaGammaModel",
    "gini",
    "holdout_errors",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
]

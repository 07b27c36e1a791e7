"""Customer-base models (buy-till-you-die): fit on per-customer summaries, predict purchases, P(alive) and CLV.

Models follow scikit-learn's contract (``__init__`` stores settings, ``fit`` returns ``self``, learned
attributes end in ``_``) and lifetimes' argument order, so a lifetimes user switches by changing the import.
"""

from __future__ import annotations

from ._base import BaseModel, check_is_fitted
from .beta_geo import BetaGeoModel
from .beta_geo_beta_binom import BetaGeoBetaBinomModel
from .clv import customer_lifetime_value, discounted_expected_transactions
from .covariates import CovariateBetaGeoModel, CovariateParetoNBDModel, likelihood_ratio_test
from .gamma_gamma import GammaGammaModel
from .modified_beta_geo import ModifiedBetaGeoModel
from .pareto_nbd import ParetoNBDModel
from .regularity import RegularBetaGeoModel, interpurchase_stats
from .shifted_beta_geo import ShiftedBetaGeoModel
from .spend import NetValueSpendModel, ReturnAdjustedSpendModel, contribution_per_order, margin_clv
from .timing import HORIZONS_DAYS, next_purchase_cdf, next_purchase_timing
from .timing_validation import calibration_by_decile, timing_accuracy, timing_validation_table
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
    "calibration_by_decile",
    "calibration_by_frequency",
    "check_is_fitted",
    "compare_models",
    "contribution_per_order",
    "CovariateBetaGeoModel",
    "CovariateParetoNBDModel",
    "cumulative_tracking",
    "customer_lifetime_value",
    "decile_lift",
    "discounted_expected_transactions",
    "GammaGammaModel",
    "gini",
    "holdout_errors",
    "HORIZONS_DAYS",
    "interpurchase_stats",
    "likelihood_ratio_test",
    "margin_clv",
    "ModifiedBetaGeoModel",
    "NetValueSpendModel",
    "next_purchase_cdf",
    "next_purchase_timing",
    "ParetoNBDModel",
    "RegularBetaGeoModel",
    "ReturnAdjustedSpendModel",
    "ShiftedBetaGeoModel",
    "timing_accuracy",
    "timing_validation_table",
]

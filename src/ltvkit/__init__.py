"""ltvkit: customer lifetime value for e-commerce shops.

Import mall order exports into one canonical order store (:class:`Workspace`), measure cohort LTV and point
dependence, predict CLV with buy-till-you-die models, and recommend what each customer needs next.
"""

from __future__ import annotations

from ._version import __version__ as __version__
from .calendar import CampaignCalendar
from .exceptions import (
    ConvergenceError,
    InputError,
    LtvkitError,
    MappingError,
    MigrationError,
    MissingDataError,
    NotFittedError,
    SettingsError,
    StatisticalWarning,
    StoreError,
    UnknownFormatError,
)
from .features import (
    CpmSettings,
    MarginSettings,
    PointSettings,
    cac_table,
    cohort_table,
    f2_table,
    golden_time,
    point_dependence,
    retention_ltv,
    rfm_summary,
    segment_customers,
    shop_summary,
    textbook_ltv,
)
from .ingest import ImportResult, import_orders
from .models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    CovariateBetaGeoModel,
    CovariateParetoNBDModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    NetValueSpendModel,
    ParetoNBDModel,
    RegularBetaGeoModel,
    ReturnAdjustedSpendModel,
    ShiftedBetaGeoModel,
    customer_lifetime_value,
    next_purchase_timing,
)
from .pipeline import recommend_workspace
from .recommend import NextBasketRecommender, ReplenishmentModel, evaluate_recommenders
from .synth import SyntheticShop, generate_shop
from .workspace import Workspace

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "cac_table",
    "CampaignCalendar",
    "cohort_table",
    "ConvergenceError",
    "CovariateBetaGeoModel",
    "CovariateParetoNBDModel",
    "CpmSettings",
    "customer_lifetime_value",
    "evaluate_recommenders",
    "f2_table",
    "GammaGammaModel",
    "generate_shop",
    "golden_time",
    "import_orders",
    "ImportResult",
    "InputError",
    "LtvkitError",
    "MappingError",
    "MarginSettings",
    "MigrationError",
    "MissingDataError",
    "ModifiedBetaGeoModel",
    "NetValueSpendModel",
    "next_purchase_timing",
    "NextBasketRecommender",
    "NotFittedError",
    "ParetoNBDModel",
    "point_dependence",
    "PointSettings",
    "recommend_workspace",
    "RegularBetaGeoModel",
    "ReplenishmentModel",
    "retention_ltv",
    "ReturnAdjustedSpendModel",
    "rfm_summary",
    "segment_customers",
    "SettingsError",
    "ShiftedBetaGeoModel",
    "shop_summary",
    "StatisticalWarning",
    "StoreError",
    "SyntheticShop",
    "textbook_ltv",
    "UnknownFormatError",
    "Workspace",
]

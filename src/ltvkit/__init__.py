"""ltvkit: customer lifetime value for e-commerce shops.

Import mall order exports into one canonical order store (:class:`Workspace`), measure cohort LTV and point
dependence, predict CLV with buy-till-you-die models, and recommend what each customer needs next.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__
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

# Everything else is imported on first use (PEP 562), so that ``import ltvkit`` and every ``ltv`` command
# start without loading the parts they do not need (recommenders, importers, the synthetic shop).
_LAZY = {
    "BetaGeoBetaBinomModel": ".models",
    "BetaGeoModel": ".models",
    "CampaignCalendar": ".calendar",
    "CovariateBetaGeoModel": ".models",
    "CovariateParetoNBDModel": ".models",
    "CpmSettings": ".features",
    "GammaGammaModel": ".models",
    "ImportResult": ".ingest",
    "MarginSettings": ".features",
    "ModifiedBetaGeoModel": ".models",
    "NetValueSpendModel": ".models",
    "NextBasketRecommender": ".recommend",
    "ParetoNBDModel": ".models",
    "PointSettings": ".features",
    "RegularBetaGeoModel": ".models",
    "ReplenishmentModel": ".recommend",
    "ReturnAdjustedSpendModel": ".models",
    "ShiftedBetaGeoModel": ".models",
    "SyntheticShop": ".synth",
    "Workspace": ".workspace",
    "cac_table": ".features",
    "cohort_table": ".features",
    "customer_lifetime_value": ".models",
    "evaluate_recommenders": ".recommend",
    "f2_table": ".features",
    "generate_shop": ".synth",
    "golden_time": ".features",
    "import_orders": ".ingest",
    "next_purchase_timing": ".models",
    "point_dependence": ".features",
    "recommend_workspace": ".pipeline",
    "retention_ltv": ".features",
    "rfm_summary": ".features",
    "segment_customers": ".features",
    "shop_summary": ".features",
    "textbook_ltv": ".features",
}

if TYPE_CHECKING:
    from .calendar import (
        CampaignCalendar,
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
    from .ingest import (
        ImportResult,
        import_orders,
    )
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
    from .pipeline import (
        recommend_workspace,
    )
    from .recommend import (
        NextBasketRecommender,
        ReplenishmentModel,
        evaluate_recommenders,
    )
    from .synth import (
        SyntheticShop,
        generate_shop,
    )
    from .workspace import (
        Workspace,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

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

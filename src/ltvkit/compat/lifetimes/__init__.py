"""lifetimes' names and signatures over ltvkit's models: change ``lifetimes`` to ``ltvkit.compat.lifetimes``.

>>> from ltvkit.compat.lifetimes import BetaGeoFitter          # was: from lifetimes import BetaGeoFitter
>>> from ltvkit.compat.lifetimes.utils import summary_data_from_transaction_data
>>> from ltvkit.compat.lifetimes.plotting import plot_period_transactions   # needs matplotlib (ltvkit[plot])

The fitters are ltvkit models (:class:`ltvkit.models.BetaGeoModel` and its siblings) with lifetimes' constructor
(``penalizer_coef``, the same L2 penalty on the parameters), ``fit`` arguments, the ``summary`` property,
``data``, ``predict`` and ``probability_of_n_purchases_up_to_time(t, n)``; every ltvkit method stays available.
Written from lifetimes' documented behaviour; see docs/models.md for what differs.
"""

from __future__ import annotations

from .fitters import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)

__all__ = [
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
]

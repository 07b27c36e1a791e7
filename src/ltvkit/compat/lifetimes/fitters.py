"""lifetimes' fitter classes as thin subclasses of ltvkit's models."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ...models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)
from ...models import customer_lifetime_value as _clv

__all__ = [
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
]

# lifetimes' fit options that choose how it optimises; ltvkit's optimiser needs none of them
_IGNORED_FIT_OPTIONS = ("initial_params", "verbose", "tol", "index", "q_constraint", "iterative_fitting",
                        "fit_method", "maxiter")


def _series(values: Any, name: str) -> pd.Series:
    return values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=float), name=name)


class _Fitter:
    """What every lifetimes fitter shares: ``penalizer_coef``, ``summary`` as a property, ``data``, the repr.

    The penalty is lifetimes': ``penalizer_coef × Σ params²`` added to the mean negative log-likelihood.
    """

    _columns: ClassVar[tuple[str, ...]] = ()

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        super().__init__(penalizer=0.0)  # type: ignore[call-arg]
        self.penalizer_coef = penalizer_coef

    def _objective(self, data: Any, w: np.ndarray, tf: Any) -> Any:
        base = super()._objective(data, w, tf)  # type: ignore[misc]
        coef = float(self.penalizer_coef)
        if not coef:
            return base

        def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = base(x)
            if value >= 1e300:
                return value, grad
            params = tf.natural(x)
            return value + coef * float(params @ params), grad + 2 * coef * params * tf.jacobian(params)

        return objective

    def _keep_data(self, *columns: Any) -> None:
        self.data = pd.DataFrame({name: np.asarray(c, dtype=float) for name, c in zip(self._columns, columns,
                                                                                       strict=True)})
        first = columns[0]
        if isinstance(first, pd.Series):
            self.data.index = first.index

    @property
    def summary(self) -> pd.DataFrame:  # type: ignore[override]
        """Parameters with ``coef``, ``se(coef)``, ``lower 95% bound`` and ``upper 95% bound`` (lifetimes' columns)."""
        frame = super().summary()  # type: ignore[misc]
        out = frame[["coef", "se(coef)"]].copy()
        bounds = [c for c in frame.columns if c not in ("coef", "se(coef)")]
        if len(bounds) == 2:
            out["lower 95% bound"] = frame[bounds[0]]
            out["upper 95% bound"] = frame[bounds[1]]
        out.index.name = None
        out.attrs.update(frame.attrs)
        return out

    def __repr__(self) -> str:
        name = type(self).__name__
        if getattr(self, "params_", None) is None:
            return f"<ltvkit.compat.lifetimes.{name}>"
        params = ", ".join(f"{k}: {v:.2f}" for k, v in sorted(self.params_.items()))
        n = getattr(self, "n_customers_", None)
        return f"<ltvkit.compat.lifetimes.{name}: fitted with {n:.0f} subjects, {params}>"


class _RFMFitter(_Fitter):
    _columns = ("frequency", "recency", "T")

    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any = None, **options: Any) -> Any:
        """Fit on ``frequency``, ``recency`` and ``T`` (lifetimes' optimiser options are accepted and ignored)."""
        _drop_options(options)
        super().fit(frequency, recency, T, weights=weights)  # type: ignore[misc]
        self._keep_data(frequency, recency, T)
        return self

    def predict(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """Alias of ``conditional_expected_number_of_purchases_up_to_time``."""
        return self.conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T)  # type: ignore[attr-defined]

    def probability_of_n_purchases_up_to_time(self, t: Any, n: Any) -> Any:
        """P(a new customer makes exactly ``n`` repeat purchases in ``(0, t]``) — lifetimes' order: ``t`` first."""
        return self.probability_of_purchases(n, t)  # type: ignore[attr-defined]

    def conditional_probability_alive_matrix(self, max_frequency: int | None = None,
                                             max_recency: int | None = None) -> np.ndarray:
        """P(alive) of a customer aged ``max_recency`` for every recency (rows) and frequency (columns); cells
        with no repeat purchase but a positive recency are NaN."""
        max_frequency = int(max_frequency or self.data["frequency"].max())
        max_recency = int(max_recency or self.data["T"].max())
        r, f = np.meshgrid(np.arange(max_recency + 1, dtype=float), np.arange(max_frequency + 1, dtype=float),
                           indexing="ij")
        ok = (f > 0) | (r == 0)  # no repeat purchase but a positive recency: no customer, left empty (NaN)
        z = np.full(r.shape, np.nan)
        z[ok] = np.asarray(self.conditional_probability_alive(  # type: ignore[attr-defined]
            f[ok], r[ok], np.full(int(ok.sum()), float(max_recency))), dtype=float)
        return z

    def generate_new_data(self, size: int = 1, T: Any = 1.0) -> pd.DataFrame:
        """Customers drawn from the fitted model (``frequency``, ``recency``, ``T``)."""
        ages = np.broadcast_to(np.asarray(T, dtype=float), (size,)) if np.ndim(T) == 0 else np.asarray(T, dtype=float)
        return self.simulate(ages)  # type: ignore[attr-defined]


def _drop_options(options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - set(_IGNORED_FIT_OPTIONS))
    if unknown:
        raise TypeError(f"fit() got unexpected keyword argument(s) {', '.join(unknown)}.")


class BetaGeoFitter(_RFMFitter, BetaGeoModel):
    """lifetimes' ``BetaGeoFitter``: the BG/NBD model (:class:`ltvkit.models.BetaGeoModel`)."""


class ModifiedBetaGeoFitter(_RFMFitter, ModifiedBetaGeoModel):
    """lifetimes' ``ModifiedBetaGeoFitter``: the MBG/NBD model (:class:`ltvkit.models.ModifiedBetaGeoModel`)."""


class ParetoNBDFitter(_RFMFitter, ParetoNBDModel):
    """lifetimes' ``ParetoNBDFitter``: the Pareto/NBD model (:class:`ltvkit.models.ParetoNBDModel`)."""


class BetaGeoBetaBinomFitter(_Fitter, BetaGeoBetaBinomModel):
    """lifetimes' ``BetaGeoBetaBinomFitter``: the BG/BB model for discrete opportunities."""

    _columns = ("frequency", "recency", "n_periods")

    def fit(self, frequency: Any, recency: Any, n_periods: Any, weights: Any = None,
            **options: Any) -> BetaGeoBetaBinomFitter:
        """Fit on ``frequency``, ``recency`` and ``n_periods`` (``weights``: customers per row)."""
        _drop_options(options)
        super().fit(frequency, recency, n_periods, weights=weights)
        self._keep_data(frequency, recency, n_periods)
        return self

    def expected_number_of_transactions_in_first_n_periods(self, n: Any) -> Any:
        """Expected transactions of a new customer in the first ``n`` periods."""
        return self.expected_purchases_new_customer(n)

    def expected_number_of_purchases_up_to_time(self, t: Any) -> Any:
        return self.expected_purchases_new_customer(t)

    def probability_of_n_purchases_up_to_time(self, t: Any, n: Any) -> Any:
        return self.probability_of_purchases(n, t)


class GammaGammaFitter(_Fitter, GammaGammaModel):
    """lifetimes' ``GammaGammaFitter``: spend per transaction (:class:`ltvkit.models.GammaGammaModel`)."""

    _columns = ("frequency", "monetary_value")

    def fit(self, frequency: Any, monetary_value: Any, weights: Any = None, **options: Any) -> GammaGammaFitter:
        """Fit on repeat customers' ``frequency`` and ``monetary_value`` (both > 0)."""
        _drop_options(options)
        super().fit(frequency, monetary_value, weights=weights)
        self._keep_data(frequency, monetary_value)
        return self

    def conditional_expected_average_profit(self, frequency: Any = None, monetary_value: Any = None) -> Any:
        """Expected average spend per transaction given each history (the fitted data when none is given)."""
        if frequency is None:
            frequency = self.data["frequency"]
        if monetary_value is None:
            monetary_value = self.data["monetary_value"]
        return self.expected_spend(frequency, monetary_value)

    def customer_lifetime_value(self, transaction_prediction_model: Any, frequency: Any, recency: Any, T: Any,
                                monetary_value: Any, time: int = 12, discount_rate: float = 0.01,
                                freq: str = "D") -> Any:
        """Discounted CLV over ``time`` months: the transaction model's expected purchases month by month times
        the expected spend, discounted at ``discount_rate`` per month. ``freq`` is the time unit of ``recency``
        and ``T`` (D: 30 per month, W: 4.345, M: 1, H: 720)."""
        out = _clv(transaction_prediction_model, self, frequency, recency, T, monetary_value, time=time,
                   discount_rate=discount_rate, freq=freq)
        if isinstance(out, pd.Series):
            out = out.rename("clv")
        return out

"""sBG: shifted-beta-geometric retention model for subscriptions (Fader & Hardie 2007)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import special

from ..exceptions import InputError
from ._base import BaseModel, _describe, as_float_array, check_is_fitted, wrap_output

__all__ = ["ShiftedBetaGeoModel"]


def _check(duration: Any, churned: Any) -> tuple[np.ndarray, np.ndarray]:
    d = as_float_array("duration", duration)
    c = np.asarray(churned, dtype=float).reshape(-1) if np.ndim(churned) else np.array([float(churned)])
    try:
        d, c = np.broadcast_arrays(d, c)
    except ValueError:
        raise InputError("duration and churned must have the same length.") from None
    if (d != np.round(d)).any() or (d < 1).any():
        raise InputError(_describe("duration", (d != np.round(d)) | (d < 1), "are not whole numbers >= 1"))
    if not np.isin(c, (0.0, 1.0)).all():
        raise InputError(_describe("churned", ~np.isin(c, (0.0, 1.0)), "are not True/False"))
    return d, c


class ShiftedBetaGeoModel(BaseModel):
    """sBG model of subscription (定期購入) retention by delivery count.

    Each period an active subscriber cancels with probability ``theta ~ Beta(alpha, beta)``; heterogeneity makes
    retention rates rise with tenure, as observed in real subscription cohorts.

    ``fit(duration, churned)``: ``duration`` is the number of deliveries (periods) a subscriber has received;
    ``churned`` is True when the subscription was cancelled after that delivery and False while it is running.

    Parameters
    ----------
    penalizer, tol, maxiter, random_state
        See :class:`BetaGeoModel`.

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta``.
    log_likelihood_, AIC_, BIC_, variance_matrix_, standard_errors_, confidence_intervals_
        As for every model.

    Examples
    --------
    >>> from ltvkit.models import ShiftedBetaGeoModel
    >>> m = ShiftedBetaGeoModel.from_params({"alpha": 0.704, "beta": 1.182})
    >>> round(float(m.survival_function(1)), 3)
    0.627

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention. Journal of Interactive
    Marketing, 21(1), 76-90.
    """

    _param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta")

    def fit(self, duration: Any, churned: Any, weights: Any = None) -> ShiftedBetaGeoModel:
        """Fit on subscriber durations.

        Parameters
        ----------
        duration : array-like
            Deliveries received (>= 1).
        churned : array-like of bool
            Cancelled after ``duration`` deliveries (True) or still active (False).
        weights : array-like, optional
            Subscribers per row.

        Returns
        -------
        self
        """
        d, c = _check(duration, churned)
        return self._fit((d, c), weights)

    def _loglik_grad(self, params, data):
        a, b = params
        d, c = data
        b_ab = special.betaln(a, b)
        # churned at period d: B(a+1, b+d-1)/B(a,b); still active after d: B(a, b+d)/B(a,b)
        l_churn = special.betaln(a + 1, b + d - 1) - b_ab
        l_alive = special.betaln(a, b + d) - b_ab
        ll = np.where(c > 0, l_churn, l_alive)
        dab = special.digamma(a + b)
        g = np.empty((len(d), 2))
        s_churn = special.digamma(a + b + d)
        g[:, 0] = np.where(c > 0, special.digamma(a + 1) - s_churn, special.digamma(a) - s_churn) - special.digamma(a) + dab
        g[:, 1] = np.where(c > 0, special.digamma(b + d - 1), special.digamma(b + d)) - s_churn - special.digamma(b) + dab
        return ll, g

    def _loglik(self, params, data):
        return self._loglik_grad(params, data)[0]

    def survival_function(self, t: Any) -> Any:
        """Share of a new cohort still subscribed after ``t`` periods."""
        check_is_fitted(self)
        a, b = self._params()
        tt = as_float_array("t", t)
        return wrap_output(np.exp(special.betaln(a, b + tt) - special.betaln(a, b)), t)

    def retention_rate(self, t: Any) -> Any:
        """Share of those active at period ``t - 1`` who renew for period ``t`` (rises with ``t``)."""
        check_is_fitted(self)
        a, b = self._params()
        tt = as_float_array("t", t)
        return wrap_output((b + tt - 1) / (a + b + tt - 1), t)

    def p_renew(self, duration: Any) -> Any:
        """Probability that an active subscriber with ``duration`` deliveries renews once more."""
        check_is_fitted(self)
        a, b = self._params()
        d = as_float_array("duration", duration)
        return wrap_output((b + d) / (a + b + d), duration)

    def expected_remaining_periods(self, duration: Any, discount_rate: float = 0.0, horizon: int = 1000) -> Any:
        """Expected (discounted) further renewals of an active subscriber: DERL of Fader & Hardie (2010).

        Sums ``P(alive at d + k | alive at d) / (1 + discount_rate)^k`` for k = 1..``horizon``.
        """
        check_is_fitted(self)
        a, b = self._params()
        d = as_float_array("duration", duration)
        k = np.arange(1, horizon + 1, dtype=float)
        log_s = special.betaln(a, b + d[:, None] + k[None, :]) - special.betaln(a, b + d[:, None])
        out = np.exp(log_s - k[None, :] * np.log1p(discount_rate)).sum(axis=1)
        return wrap_output(out, duration)

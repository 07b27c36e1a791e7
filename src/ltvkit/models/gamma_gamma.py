"""Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005; Fader & Hardie 2013)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import special

from ..exceptions import InputError
from ._base import BaseModel, _describe, as_float_array, check_is_fitted, wrap_output

__all__ = ["GammaGammaModel"]


def _check(frequency: Any, monetary_value: Any, *, fitting: bool) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array("frequency", frequency)
    m = as_float_array("monetary_value", monetary_value, allow_negative=True)
    try:
        x, m = np.broadcast_arrays(x, m)
    except ValueError:
        raise InputError("frequency and monetary_value must have the same length.") from None
    if fitting:
        if (x <= 0).any():
            raise InputError(_describe("frequency", x <= 0, "are 0; fit Gamma-Gamma on repeat customers only "
                                       "(frequency > 0)"))
        if (m <= 0).any():
            raise InputError(_describe("monetary_value", m <= 0, "are not positive; Gamma-Gamma needs positive "
                                       "spend (drop those customers or model returns separately)"))
    return x, m


def _gg_loglik_grad(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood of ``x`` repeat transactions with mean value ``m`` per row, and its gradient in (p, q, v)."""
    p, q, v = params
    px = p * x
    lxm = np.log(x * m)
    lvxm = np.log(v + x * m)
    ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
          + (px - 1) * lxm + np.log(x) - (px + q) * lvxm)
    g = np.empty((len(x), 3))
    dpq = special.digamma(px + q)
    g[:, 0] = x * (dpq - special.digamma(px) + lxm - lvxm)
    g[:, 1] = dpq - special.digamma(q) + np.log(v) - lvxm
    g[:, 2] = q / v - (px + q) / (v + x * m)
    return ll, g


class GammaGammaModel(BaseModel):
    """Gamma-Gamma spend model: a customer's transaction values are Gamma(p, nu) with ``nu ~ Gamma(q, v)``.

    Fit on customers with at least one repeat purchase; predict the expected average spend of any customer.

    Parameters
    ----------
    penalizer, tol, maxiter, random_state
        See :class:`BetaGeoModel`.

    Attributes
    ----------
    params_ : pandas.Series
        ``p``, ``q``, ``v`` (``v`` is the papers' gamma).
    log_likelihood_, AIC_, BIC_, variance_matrix_, standard_errors_, confidence_intervals_
        As for every model.

    Examples
    --------
    >>> from ltvkit.models import GammaGammaModel
    >>> m = GammaGammaModel.from_params({"p": 6.25, "q": 3.74, "v": 15.44})
    >>> round(float(m.expected_spend(0, 0)), 2)
    35.22

    References
    ----------
    Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using iso-value curves for customer base
    analysis. Journal of Marketing Research, 42(4), 415-430.
    """

    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v")

    def fit(self, frequency: Any, monetary_value: Any, weights: Any = None) -> GammaGammaModel:
        """Fit on repeat customers.

        Parameters
        ----------
        frequency : array-like
            Repeat purchase periods (> 0).
        monetary_value : array-like
            Mean value of those repeat purchases (> 0).
        weights : array-like, optional
            Customers per row.

        Returns
        -------
        self
        """
        x, m = _check(frequency, monetary_value, fitting=True)
        return self._fit((x, m), weights)

    def _initial_params(self, data, weights):
        mean = float(np.average(data[1], weights=weights))
        return np.array([1.0, 2.0, mean])

    def _loglik_grad(self, params, data):
        return _gg_loglik_grad(params, *data)

    def _loglik(self, params, data):
        return self._loglik_grad(params, data)[0]

    def expected_spend(self, frequency: Any, monetary_value: Any) -> Any:
        """Expected mean transaction value given each customer's history (population mean when frequency=0)."""
        check_is_fitted(self)
        x, m = _check(frequency, monetary_value, fitting=False)
        p, q, v = self._params()
        out = (p * v + p * x * m) / (p * x + q - 1)
        return wrap_output(out, frequency, monetary_value)

    def conditional_expected_average_profit(self, frequency: Any, monetary_value: Any) -> Any:
        """Alias of :meth:`expected_spend` (lifetimes' name)."""
        return self.expected_spend(frequency, monetary_value)

    def population_mean_spend(self) -> float:
        """``p v / (q - 1)``: the mean spend of a customer with no history."""
        p, q, v = self._params()
        return float(p * v / (q - 1)) if q > 1 else float("inf")

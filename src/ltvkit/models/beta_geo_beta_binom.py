"""BG/BB: beta-geometric / beta-binomial model for discrete transaction opportunities (Fader, Hardie & Shang 2010)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import special

from ..exceptions import InputError
from ._base import BaseModel, _describe, as_float_array, check_is_fitted, wrap_output

__all__ = ["BetaGeoBetaBinomModel"]


def _check(frequency: Any, recency: Any, n_periods: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = as_float_array("frequency", frequency)
    t_x = as_float_array("recency", recency)
    n = as_float_array("n_periods", n_periods)
    try:
        x, t_x, n = np.broadcast_arrays(x, t_x, n)
    except ValueError:
        raise InputError("frequency, recency and n_periods must have the same length.") from None
    for name, arr in (("frequency", x), ("recency", t_x), ("n_periods", n)):
        if (arr != np.round(arr)).any():
            raise InputError(_describe(name, arr != np.round(arr), "are not whole numbers of periods"))
    if (x > t_x).any():
        raise InputError(_describe("frequency", x > t_x, "are larger than recency"))
    if (t_x > n).any():
        raise InputError(_describe("recency", t_x > n, "are larger than n_periods"))
    return x, t_x, n


class BetaGeoBetaBinomModel(BaseModel):
    """BG/BB model: each period a live customer transacts with probability ``p ~ Beta(alpha, beta)`` and then
    dies with probability ``theta ~ Beta(gamma, delta)``.

    For discrete opportunities (yearly donations, monthly events, weekly delivery slots).

    Parameters
    ----------
    penalizer, tol, maxiter, random_state
        See :class:`BetaGeoModel`.

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta``, ``gamma``, ``delta``.
    log_likelihood_, AIC_, BIC_, variance_matrix_, standard_errors_, confidence_intervals_
        As for every model.

    Examples
    --------
    >>> from ltvkit.models import BetaGeoBetaBinomModel
    >>> m = BetaGeoBetaBinomModel.from_params({"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783})
    >>> round(float(m.expected_purchases_new_customer(10)), 2)
    3.18

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Shang, J. (2010). Customer-base analysis in a discrete-time noncontractual
    setting. Marketing Science, 29(6), 1086-1108.
    """

    _param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")

    def fit(self, frequency: Any, recency: Any, n_periods: Any, weights: Any = None) -> BetaGeoBetaBinomModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency : array-like
            Number of periods with a repeat transaction.
        recency : array-like
            The period of the last transaction (0 when none).
        n_periods : array-like
            Number of transaction opportunities.
        weights : array-like, optional
            Customers per row (the donations data come as counts).

        Returns
        -------
        self
        """
        x, t_x, n = _check(frequency, recency, n_periods)
        return self._fit((x, t_x, n), weights)

    def _loglik(self, params, data):
        alpha, beta, gamma, delta = params
        x, t_x, n = data
        b_ab = special.betaln(alpha, beta)
        b_gd = special.betaln(gamma, delta)
        terms = [self._loglik_first(params, data)]
        for i in range(int((n - t_x).max())):
            valid = i < n - t_x
            term = (special.betaln(alpha + x, beta + t_x - x + i) - b_ab
                    + special.betaln(gamma + 1, delta + t_x + i) - b_gd)
            terms.append(np.where(valid, term, -np.inf))
        return special.logsumexp(np.vstack(terms), axis=0)

    def _loglik_grad(self, params, data):
        """The log-likelihood is a log-sum of terms, each a sum of log-beta functions; its gradient is the
        terms' gradients weighted by their shares of the sum."""
        alpha, beta, gamma, delta = params
        x, t_x, n = data
        dg = special.digamma
        ll = self._loglik(params, data)
        shares = [np.exp(self._loglik_first(params, data) - ll)]
        d = [np.stack([dg(alpha + x) - dg(alpha + beta + n), dg(beta + n - x) - dg(alpha + beta + n),
                       dg(gamma) - dg(gamma + delta + n), dg(delta + n) - dg(gamma + delta + n)])]
        for i in range(int((n - t_x).max())):
            valid = i < n - t_x
            term = (special.betaln(alpha + x, beta + t_x - x + i) - special.betaln(alpha, beta)
                    + special.betaln(gamma + 1, delta + t_x + i) - special.betaln(gamma, delta))
            shares.append(np.where(valid, np.exp(term - ll), 0.0))
            d.append(np.stack([dg(alpha + x) - dg(alpha + beta + t_x + i), dg(beta + t_x - x + i) - dg(alpha + beta + t_x + i),
                               dg(gamma + 1) - dg(gamma + delta + 1 + t_x + i), dg(delta + t_x + i) - dg(gamma + delta + 1 + t_x + i)]))
        g = sum(s_ * d_ for s_, d_ in zip(shares, d, strict=True)).T
        g -= np.array([dg(alpha) - dg(alpha + beta), dg(beta) - dg(alpha + beta),
                       dg(gamma) - dg(gamma + delta), dg(delta) - dg(gamma + delta)])
        return ll, g

    def _loglik_first(self, params, data):
        alpha, beta, gamma, delta = params
        x, t_x, n = data
        return (special.betaln(alpha + x, beta + n - x) - special.betaln(alpha, beta)
                + special.betaln(gamma, delta + n) - special.betaln(gamma, delta))

    def _initial_params(self, data, weights):
        return np.ones(4)

    def _data(self, frequency, recency, n_periods):
        check_is_fitted(self)
        return _check(frequency, recency, n_periods)

    def p_alive(self, frequency: Any, recency: Any, n_periods: Any, m_periods_in_future: Any = 0) -> Any:
        """Probability of being alive ``m_periods_in_future`` periods after the last opportunity (0 = now)."""
        x, t_x, n = self._data(frequency, recency, n_periods)
        alpha, beta, gamma, delta = self._params()
        m = as_float_array("m_periods_in_future", m_periods_in_future)
        log_l = self._loglik(self._params(), (x, t_x, n))
        num = (special.betaln(alpha + x, beta + n - x) - special.betaln(alpha, beta)
               + special.betaln(gamma, delta + n + m) - special.betaln(gamma, delta))
        return wrap_output(np.exp(num - log_l), frequency, recency, n_periods)

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, n_periods: Any) -> Any:
        """Expected transactions in the next ``t`` periods given each history."""
        x, t_x, n = self._data(frequency, recency, n_periods)
        alpha, beta, gamma, delta = self._params()
        tt = as_float_array("t", t)
        log_l = self._loglik(self._params(), (x, t_x, n))
        lead = (special.betaln(alpha + x + 1, beta + n - x) - special.betaln(alpha, beta)
                - log_l + special.gammaln(gamma + delta) - special.gammaln(1 + delta))
        bracket = (np.exp(special.gammaln(1 + delta + n) - special.gammaln(gamma + delta + n))
                   - np.exp(special.gammaln(1 + delta + n + tt) - special.gammaln(gamma + delta + n + tt)))
        return wrap_output(np.exp(lead) * delta / (gamma - 1) * bracket, frequency, recency, n_periods, t)

    def expected_purchases_new_customer(self, t: Any) -> Any:
        """Expected transactions of a new customer in the first ``t`` periods."""
        check_is_fitted(self)
        alpha, beta, gamma, delta = self._params()
        tt = as_float_array("t", t)
        log_ratio = (special.gammaln(gamma + delta) - special.gammaln(gamma + delta + tt)
                     + special.gammaln(1 + delta + tt) - special.gammaln(1 + delta))
        out = alpha / (alpha + beta) * delta / (gamma - 1) * (1 - np.exp(log_ratio))
        return wrap_output(out, t)

    def probability_of_purchases(self, n: Any, t: Any) -> Any:
        """P(a new customer makes exactly ``n`` transactions in the first ``t`` periods)."""
        check_is_fitted(self)
        alpha, beta, gamma, delta = self._params()
        xx, tt = np.broadcast_arrays(as_float_array("n", n), as_float_array("t", t))
        b_ab, b_gd = special.betaln(alpha, beta), special.betaln(gamma, delta)

        def log_comb(a, b):
            return special.gammaln(a + 1) - special.gammaln(b + 1) - special.gammaln(a - b + 1)

        with np.errstate(all="ignore"):
            first = (log_comb(tt, xx) + special.betaln(alpha + xx, beta + tt - xx) - b_ab
                     + special.betaln(gamma, delta + tt) - b_gd)
            terms = [np.where(xx <= tt, first, -np.inf)]
            for i in range(int(tt.max()) if tt.size else 0):
                term = (log_comb(i, xx) + special.betaln(alpha + xx, beta + i - xx) - b_ab
                        + special.betaln(gamma + 1, delta + i) - b_gd)
                terms.append(np.where((i >= xx) & (i < tt), term, -np.inf))
            out = np.exp(special.logsumexp(np.vstack([np.atleast_1d(t_) for t_ in terms]), axis=0))
        return wrap_output(out, n, t)

    def conditional_probability_alive(self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any) -> Any:
        """lifetimes' argument order for :meth:`p_alive`."""
        return self.p_alive(frequency, recency, n_periods, m_periods_in_future)

    def conditional_expected_number_of_purchases_up_to_time(self, m_periods_in_future: Any, frequency: Any,
                                                            recency: Any, n_periods: Any) -> Any:
        """Alias of :meth:`expected_purchases` (lifetimes' name)."""
        return self.expected_purchases(m_periods_in_future, frequency, recency, n_periods)

"""Spend per order when orders can be returned or refunded, and CLV on contribution margin.

Gamma-Gamma needs positive values, yet mall shops see returns, refunds and cancelled-after-shipping orders,
so the net value of an order can be zero or negative (lifetimes#172, CLVTools#225). Two models:

* :class:`ReturnAdjustedSpendModel` keeps Gamma-Gamma for the *gross* value of an order and adds a separate
  return process: each order of customer ``i`` has a refund with probability ``rho_i ~ Beta(c, d)`` (a
  beta-binomial across customers, so a customer's own return history shrinks towards the shop's rate), and a
  refund takes back a share ``psi`` of the order value on average. Expected net value of the next order:
  ``E[gross_i] * (1 - E[rho_i | history] * psi)``.
* :class:`NetValueSpendModel` models the net value directly: ``v_ij ~ Normal(m_i, sigma^2)``,
  ``m_i ~ Normal(mu, tau^2)``; values may be negative; the posterior mean shrinks a customer's average net value
  towards ``mu`` by her number of orders.

Both fit through :class:`~ltvkit.models.BaseModel`: maximum likelihood with analytic gradients, Hessian standard errors,
convergence checks, ``summary``, ``to_dict``/``from_dict``.

:func:`contribution_per_order` turns net value into contribution margin (margin rate, fulfilment cost per
order, handling cost per return), and :func:`margin_clv` multiplies by (discounted) expected purchases.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import special

from ..exceptions import InputError
from ._base import BaseModel, check_is_fitted
from .gamma_gamma import GammaGammaModel, _gg_loglik_grad

__all__ = ["NetValueSpendModel", "ReturnAdjustedSpendModel", "contribution_per_order", "margin_clv"]


def _orders(customer: Any, gross: Any, refunded: Any | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"customer": np.asarray(customer), "gross": np.asarray(gross, dtype=float)})
    frame["refunded"] = 0.0 if refunded is None else np.asarray(refunded, dtype=float)
    if not np.all(np.isfinite(frame[["gross", "refunded"]].to_numpy())):
        raise InputError("Order values must be finite numbers; drop or fill missing amounts first.")
    if (frame["gross"] < 0).any():
        raise InputError(f"Some gross order values are negative ({int((frame['gross'] < 0).sum())} orders); "
                         "pass refunds separately in refunded=, or use NetValueSpendModel.")
    if (frame["refunded"] < 0).any():
        raise InputError("refunded amounts must be zero or positive (the amount given back to the customer).")
    return frame


class ReturnAdjustedSpendModel(BaseModel):
    """Gamma-Gamma on gross order value plus a beta-binomial return process, fitted jointly by maximum likelihood.

    The log-likelihood is the Gamma-Gamma likelihood of repeat customers' mean gross value plus the beta-binomial
    likelihood of every customer's refunded orders; the two parts share no parameter, so the joint optimum is
    each part's own optimum, and the Hessian gives standard errors of all five parameters.

    Parameters
    ----------
    penalizer, tol, maxiter, random_state
        See :class:`~ltvkit.models.BetaGeoModel`.

    Attributes
    ----------
    params_ : pandas.Series
        ``p``, ``q``, ``v`` (Gamma-Gamma on gross value) and ``c``, ``d`` (Beta prior on the per-order refund
        probability).
    log_likelihood_, AIC_, BIC_, variance_matrix_, standard_errors_, confidence_intervals_
        As for every model (``n_customers_`` counts every customer, repeat or not).
    spend_model_ : GammaGammaModel
        The Gamma-Gamma part (``p``, ``q``, ``v`` with their standard errors; its log-likelihood and customers
        are those of the repeat customers).
    return_params_ : pandas.Series
        ``c``, ``d``.
    refund_share_ : float
        Average share of the order value given back when an order is refunded (refunded / gross over refunded
        orders; a ratio estimate, not a likelihood parameter).

    Examples
    --------
    >>> from ltvkit.models.spend import ReturnAdjustedSpendModel
    >>> m = ReturnAdjustedSpendModel().fit(["a", "a", "a", "b", "b", "c", "c", "c"],
    ...                                    [3000, 2500, 4000, 1200, 1500, 8000, 7000, 9000],
    ...                                    [0, 2500, 0, 0, 0, 0, 0, 9000])
    >>> round(m.refund_share_, 2)
    1.0
    """

    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v", "c", "d")
    _convergence_hints: ClassVar[tuple[str, ...]] = (
        "Check the amounts: gross is the order value before refunds and refunded the amount given back.",
        "Fit on more customers with repeat orders; the Gamma-Gamma part needs them.",
        "Try penalizer=0.001 to keep the parameters away from zero and infinity.",
    )

    def fit(self, customer: Any, gross: Any, refunded: Any = None) -> ReturnAdjustedSpendModel:
        """Fit on one row per order.

        Parameters
        ----------
        customer : array-like
            Customer key of each order (first orders included).
        gross : array-like
            Gross order value (before refunds), zero or positive.
        refunded : array-like, optional
            Amount refunded on the order (0 when none).

        Returns
        -------
        self
        """
        frame = _orders(customer, gross, refunded)
        per = self._per_customer(frame)
        x = per["frequency"].to_numpy(float)
        m = per["repeat_mean"].to_numpy(float)
        repeat = (x > 0) & (m > 0)
        if repeat.sum() < 2:
            raise InputError("The spend model needs at least two customers with repeat orders.")
        x, m = np.where(repeat, x, 0.0), np.where(repeat, m, 0.0)
        self._fit([x, m, per["n_orders"].to_numpy(float), per["n_refunds"].to_numpy(float)])
        refunded_orders = frame[frame["refunded"] > 0]
        gross_sum = float(refunded_orders["gross"].sum())
        self.refund_share_ = float(refunded_orders["refunded"].sum() / gross_sum) if gross_sum > 0 else 0.0
        gg = self.spend_model_
        gg.log_likelihood_ = float(_gg_loglik_grad(gg._params(), x[repeat], m[repeat])[0].sum())
        gg.n_customers_ = float(repeat.sum())
        gg.AIC_ = 2 * 3 - 2 * gg.log_likelihood_
        gg.BIC_ = 3 * math.log(gg.n_customers_) - 2 * gg.log_likelihood_
        return self

    def _prepare(self, data):
        return (*data[:4], data[0] > 0)

    def _initial_params(self, data, weights):
        x, m, n, k, repeat = data
        rate = max(float(weights @ k) / max(float(weights @ n), 1.0), 1e-4)
        return np.array([1.0, 2.0, float(np.average(m[repeat], weights=weights[repeat])), rate * 10, (1 - rate) * 10])

    def _loglik_grad(self, params, data):
        x, m, n, k, repeat = data
        c, d = params[3:]
        ll = np.zeros(len(n))
        g = np.zeros((len(n), 5))
        ll[repeat], g[repeat, :3] = _gg_loglik_grad(params[:3], x[repeat], m[repeat])
        ll += special.betaln(c + k, d + n - k) - special.betaln(c, d)
        common = special.digamma(c + d) - special.digamma(c + d + n)
        g[:, 3] = special.digamma(c + k) - special.digamma(c) + common
        g[:, 4] = special.digamma(d + n - k) - special.digamma(d) + common
        return ll, g

    def _loglik(self, params, data):
        return self._loglik_grad(params, data)[0]

    def _set_derived(self) -> None:
        self.return_params_ = self.params_[["c", "d"]].copy()
        names = ["p", "q", "v"]
        gg = GammaGammaModel.from_params(self.params_[names].to_dict(), **{
            k: getattr(self, k) for k in ("penalizer", "tol", "maxiter", "random_state")})
        if hasattr(self, "variance_matrix_"):
            gg._set_uncertainty(self.variance_matrix_.loc[names, names].to_numpy())
        self.spend_model_ = gg

    @classmethod
    def from_params(cls, params: Any, refund_share: float = 0.0, **kwargs: Any) -> ReturnAdjustedSpendModel:
        """A model with given ``p, q, v, c, d`` and refund share, ready to predict; no standard errors."""
        model = super().from_params(params, **kwargs)
        model.refund_share_ = float(refund_share)
        return model

    def _extra_to_dict(self) -> dict[str, Any]:
        return {"refund_share": self.refund_share_, "spend_model": self.spend_model_.to_dict()}

    def _extra_from_dict(self, extra: Any) -> None:
        self.refund_share_ = float(extra["refund_share"])

    @classmethod
    def from_dict(cls, data: Any) -> ReturnAdjustedSpendModel:
        model = super().from_dict(data)
        model.spend_model_ = GammaGammaModel.from_dict(data["extra"]["spend_model"])
        return model

    @staticmethod
    def _per_customer(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.reset_index(drop=True)
        first = frame.groupby("customer", sort=False).cumcount() == 0
        rep = frame[~first]
        per = frame.groupby("customer", sort=False).agg(n_orders=("gross", "size"),
                                                         n_refunds=("refunded", lambda s: int((s > 0).sum())))
        rep_stats = rep.groupby("customer", sort=False)["gross"].agg(["size", "mean"])
        per["frequency"] = rep_stats["size"].reindex(per.index).fillna(0).astype(float)
        per["repeat_mean"] = rep_stats["mean"].reindex(per.index).fillna(0.0)
        return per

    def refund_probability(self, n_orders: Any, n_refunds: Any) -> np.ndarray:
        """Posterior mean probability that a customer's next order is refunded."""
        check_is_fitted(self)
        c, d = self.return_params_
        n = np.asarray(n_orders, dtype=float)
        k = np.asarray(n_refunds, dtype=float)
        return (c + k) / (c + d + n)

    def expected_net_value(self, customer: Any, gross: Any, refunded: Any = None) -> pd.DataFrame:
        """Per customer: expected gross and net value of the next order and the refund probability.

        Parameters
        ----------
        customer, gross, refunded : array-like
            One row per past order, as in :meth:`fit`.

        Returns
        -------
        pandas.DataFrame
            Indexed by customer: ``expected_gross_value``, ``p_refund``, ``expected_net_value``.
        """
        check_is_fitted(self)
        per = self._per_customer(_orders(customer, gross, refunded))
        x = per["frequency"].to_numpy(float)
        m = np.where(x > 0, per["repeat_mean"].to_numpy(float), 0.0)
        p, q, v = self.spend_model_.params_
        exp_gross = (p * v + p * x * m) / (p * x + q - 1)
        p_ref = self.refund_probability(per["n_orders"], per["n_refunds"])
        return pd.DataFrame({"expected_gross_value": exp_gross, "p_refund": p_ref,
                             "expected_net_value": exp_gross * (1 - p_ref * self.refund_share_)}, index=per.index)


class NetValueSpendModel(BaseModel):
    """Normal-normal model of net order value (may be zero or negative), with shrinkage per customer.

    A customer's orders are ``Normal(m_i, sigma^2)`` with ``m_i ~ Normal(mu, tau^2)``; the marginal likelihood of
    her mean and sum of squares is maximised in ``mu`` (real line), ``log tau`` and ``log sigma``.

    Parameters
    ----------
    penalizer, tol, maxiter, random_state
        See :class:`~ltvkit.models.BetaGeoModel` (the penalty acts on ``mu`` in units of the data's spread).

    Attributes
    ----------
    params_ : pandas.Series
        ``mu`` (mean of customers' mean net value), ``tau`` (its spread across customers), ``sigma`` (spread of a
        customer's orders around her mean).
    log_likelihood_, AIC_, BIC_, variance_matrix_, standard_errors_, confidence_intervals_
        As for every model (the interval of ``mu`` is symmetric, those of ``tau`` and ``sigma`` on the log scale).

    Examples
    --------
    >>> from ltvkit.models.spend import NetValueSpendModel
    >>> m = NetValueSpendModel().fit(["a", "a", "b", "b", "c"], [3000, -500, 1200, 1500, 800])
    >>> sorted(m.params_.index)
    ['mu', 'sigma', 'tau']
    """

    _param_names: ClassVar[tuple[str, ...]] = ("mu", "tau", "sigma")
    _convergence_hints: ClassVar[tuple[str, ...]] = (
        "Fit on more customers with two or more orders; they separate tau from sigma.",
        "Check the values: one currency unit, refunds netted once, no totals mixed in.",
        "Try penalizer=0.001.",
    )

    def fit(self, customer: Any, net_value: Any) -> NetValueSpendModel:
        """Fit by maximum marginal likelihood on one row per order."""
        stats_ = self._stats(customer, net_value)
        n = stats_["n"].to_numpy(float)
        if len(n) < 2 or (n > 1).sum() < 1:
            raise InputError("NetValueSpendModel needs at least two customers and one with two or more orders.")
        return self._fit([n, stats_["mean"].to_numpy(float), stats_["ss"].to_numpy(float)])

    def _positive(self) -> np.ndarray:
        return np.array([False, True, True])

    @staticmethod
    def _spread(data, weights) -> float:
        n, mean, ss = data[:3]
        sd_means = math.sqrt(float(np.average((mean - np.average(mean, weights=weights)) ** 2, weights=weights)))
        return sd_means + math.sqrt(float(np.average(ss / np.maximum(n, 1), weights=weights))) + 1.0

    def _parameter_scale(self, data, weights):
        return np.array([self._spread(data, weights), 1.0, 1.0])

    def _initial_params(self, data, weights):
        spread = self._spread(data, weights)
        return np.array([float(np.average(data[1], weights=weights)), 0.5 * spread, 0.5 * spread])

    def _loglik_grad(self, params, data):
        mu, tau, sigma = params
        n, mean, ss = data
        tau2, sig2 = tau**2, sigma**2
        var_mean = tau2 + sig2 / n
        dev = mean - mu
        ll = -0.5 * (np.log(2 * np.pi * var_mean) + dev**2 / var_mean)
        ll += -0.5 * ((n - 1) * np.log(2 * np.pi * sig2) + ss / sig2) - 0.5 * np.log(n)
        d_var = -0.5 / var_mean + 0.5 * dev**2 / var_mean**2
        g = np.empty((len(n), 3))
        g[:, 0] = dev / var_mean
        g[:, 1] = d_var * 2 * tau
        g[:, 2] = d_var * 2 * sigma / n - (n - 1) / sigma + ss / sigma**3
        return ll, g

    def _loglik(self, params, data):
        return self._loglik_grad(params, data)[0]

    @staticmethod
    def _stats(customer: Any, net_value: Any) -> pd.DataFrame:
        frame = pd.DataFrame({"c": np.asarray(customer), "v": np.asarray(net_value, dtype=float)})
        if not np.all(np.isfinite(frame["v"])):
            raise InputError("net_value must be finite numbers; drop or fill missing amounts first.")
        g = frame.groupby("c", sort=False)["v"]
        out = pd.DataFrame({"n": g.size(), "mean": g.mean()})
        out["ss"] = g.apply(lambda s: float(((s - s.mean()) ** 2).sum()))
        return out

    def expected_net_value(self, customer: Any, net_value: Any) -> pd.Series:
        """Posterior mean net value of a customer's next order (indexed by customer)."""
        check_is_fitted(self)
        st = self._stats(customer, net_value)
        mu, tau, sigma = self.params_
        w = tau**2 / (tau**2 + sigma**2 / st["n"])
        return (w * st["mean"] + (1 - w) * mu).rename("expected_net_value")


def contribution_per_order(net_value: Any, *, margin_rate: Any = 1.0, cost_per_order: float = 0.0,
                           p_refund: Any = 0.0, cost_per_return: float = 0.0) -> np.ndarray:
    """Expected contribution margin of one future order.

    ``margin_rate * net_value - cost_per_order - p_refund * cost_per_return``; ``margin_rate`` may be per
    customer (from the margin features: product cost, points and coupons funded by the shop).
    """
    v = np.asarray(net_value, dtype=float)
    return np.asarray(margin_rate, float) * v - float(cost_per_order) - np.asarray(p_refund, float) * float(cost_per_return)


def margin_clv(expected_purchases: Any, contribution: Any) -> np.ndarray:
    """CLV on contribution margin: (discounted) expected purchases times expected contribution per order.

    Use :func:`ltvkit.models.discounted_expected_transactions` for the purchases so the sum is discounted. The
    result may be negative for customers whose orders cost more than they bring.
    """
    return np.asarray(expected_purchases, dtype=float) * np.asarray(contribution, dtype=float)

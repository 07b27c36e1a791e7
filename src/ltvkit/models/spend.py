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

:func:`contribution_per_order` turns net value into contribution margin (margin rate, fulfilment cost per
order, handling cost per return), and :func:`margin_clv` multiplies by (discounted) expected purchases.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..exceptions import InputError, NotFittedError
from .gamma_gamma import GammaGammaModel

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


def _check_fitted(model: Any) -> None:
    if getattr(model, "params_", None) is None:
        raise NotFittedError(f"This {type(model).__name__} instance is not fitted yet. "
                             "Call 'fit' with appropriate arguments first.")


class ReturnAdjustedSpendModel:
    """Gamma-Gamma on gross order value plus a beta-binomial return process.

    Parameters
    ----------
    penalizer : float, default 0.0
        Passed to the Gamma-Gamma model.

    Attributes
    ----------
    spend_model_ : GammaGammaModel
        Fitted on customers' mean gross value of their repeat orders.
    return_params_ : pandas.Series
        ``c``, ``d`` of the Beta prior on the per-order refund probability.
    refund_share_ : float
        Average share of the order value given back when an order is refunded.
    params_ : pandas.Series
        All of the above in one Series.

    Examples
    --------
    >>> from ltvkit.models.spend import ReturnAdjustedSpendModel
    >>> m = ReturnAdjustedSpendModel().fit(["a", "a", "a", "b", "b", "c", "c", "c"],
    ...                                    [3000, 2500, 4000, 1200, 1500, 8000, 7000, 9000],
    ...                                    [0, 2500, 0, 0, 0, 0, 0, 9000])
    >>> round(m.refund_share_, 2)
    1.0
    """

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

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
        repeat = per[(per["frequency"] > 0) & (per["repeat_mean"] > 0)]
        if len(repeat) < 2:
            raise InputError("The spend model needs at least two customers with repeat orders.")
        self.spend_model_ = GammaGammaModel(penalizer=self.penalizer).fit(repeat["frequency"], repeat["repeat_mean"])
        n = per["n_orders"].to_numpy(float)
        k = per["n_refunds"].to_numpy(float)

        def nll(logcd):
            c, d = np.exp(logcd)
            return -float(np.sum(special.betaln(c + k, d + n - k) - special.betaln(c, d)))

        rate = max(k.sum() / max(n.sum(), 1.0), 1e-4)
        res = optimize.minimize(nll, np.log([rate * 10, (1 - rate) * 10]), method="Nelder-Mead",
                                options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
        c, d = np.exp(res.x)
        self.return_params_ = pd.Series({"c": c, "d": d})
        refunded_orders = frame[frame["refunded"] > 0]
        gross_sum = float(refunded_orders["gross"].sum())
        self.refund_share_ = float(refunded_orders["refunded"].sum() / gross_sum) if gross_sum > 0 else 0.0
        self.params_ = pd.concat([self.spend_model_.params_, self.return_params_,
                                  pd.Series({"refund_share": self.refund_share_})])
        return self

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
        _check_fitted(self)
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
        _check_fitted(self)
        per = self._per_customer(_orders(customer, gross, refunded))
        x = per["frequency"].to_numpy(float)
        m = np.where(x > 0, per["repeat_mean"].to_numpy(float), 0.0)
        p, q, v = self.spend_model_.params_
        exp_gross = (p * v + p * x * m) / (p * x + q - 1)
        p_ref = self.refund_probability(per["n_orders"], per["n_refunds"])
        return pd.DataFrame({"expected_gross_value": exp_gross, "p_refund": p_ref,
                             "expected_net_value": exp_gross * (1 - p_ref * self.refund_share_)}, index=per.index)


class NetValueSpendModel:
    """Normal-normal model of net order value (may be zero or negative), with shrinkage per customer.

    Attributes
    ----------
    params_ : pandas.Series
        ``mu`` (mean of customers' mean net value), ``tau`` (its spread across customers), ``sigma`` (spread of a
        customer's orders around her mean).
    log_likelihood_ : float
        Marginal log-likelihood at the estimate.

    Examples
    --------
    >>> from ltvkit.models.spend import NetValueSpendModel
    >>> m = NetValueSpendModel().fit(["a", "a", "b", "b", "c"], [3000, -500, 1200, 1500, 800])
    >>> sorted(m.params_.index)
    ['mu', 'sigma', 'tau']
    """

    def fit(self, customer: Any, net_value: Any) -> NetValueSpendModel:
        """Fit by maximum marginal likelihood on one row per order."""
        stats_ = self._stats(customer, net_value)
        n = stats_["n"].to_numpy(float)
        mean = stats_["mean"].to_numpy(float)
        ss = stats_["ss"].to_numpy(float)
        if len(n) < 2 or (n > 1).sum() < 1:
            raise InputError("NetValueSpendModel needs at least two customers and one with two or more orders.")
        scale = float(np.std(mean) + np.sqrt(np.mean(ss / np.maximum(n, 1))) + 1.0)

        def nll(theta):
            mu = theta[0] * scale
            tau2, sig2 = np.exp(2 * theta[1]) * scale**2, np.exp(2 * theta[2]) * scale**2
            var_mean = tau2 + sig2 / n
            ll = -0.5 * (np.log(2 * np.pi * var_mean) + (mean - mu) ** 2 / var_mean)
            ll += -0.5 * ((n - 1) * np.log(2 * np.pi * sig2) + ss / sig2) - 0.5 * np.log(n)
            return -float(ll.sum())

        res = optimize.minimize(nll, np.array([np.mean(mean) / scale, np.log(0.5), np.log(0.5)]), method="BFGS")
        mu, tau, sigma = res.x[0] * scale, np.exp(res.x[1]) * scale, np.exp(res.x[2]) * scale
        self.params_ = pd.Series({"mu": mu, "tau": tau, "sigma": sigma})
        self.log_likelihood_ = -float(res.fun)
        return self

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
        _check_fitted(self)
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

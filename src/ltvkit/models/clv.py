"""Discounted customer lifetime value: transaction model x spend model x margin.

Two discountings are offered: lifetimes' monthly discrete cash flows (:func:`customer_lifetime_value`) and
continuous discounting of the expected transaction stream (:func:`discounted_expected_transactions`, the DERT
of Fader, Hardie & Lee 2005 when the horizon is infinite).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..exceptions import InputError
from ._base import as_float_array, check_is_fitted, wrap_output
from ._special import gauss_legendre

__all__ = ["PERIODS_PER_MONTH", "customer_lifetime_value", "discounted_expected_transactions"]

PERIODS_PER_MONTH = {"D": 30.0, "W": 4.345, "M": 1.0, "H": 720.0}
PERIODS_PER_YEAR = {"D": 365.0, "W": 52.143, "M": 12.0, "H": 8760.0}


def _factor(freq: str, table: dict[str, float]) -> float:
    if freq not in table:
        raise InputError(f"freq {freq!r} is not a time unit ltvkit knows; use one of {', '.join(table)}.")
    return table[freq]


def _spend(spend_model: Any, frequency: Any, monetary_value: Any) -> np.ndarray:
    if spend_model is None:
        return as_float_array("monetary_value", monetary_value, allow_negative=True)
    return np.asarray(spend_model.expected_spend(frequency, monetary_value), dtype=float)


def customer_lifetime_value(transaction_model: Any, spend_model: Any, frequency: Any, recency: Any, T: Any,
                            monetary_value: Any, time: int = 12, discount_rate: float = 0.01, freq: str = "D",
                            margin_rate: float = 1.0) -> Any:
    """Discounted CLV over ``time`` months with monthly discrete discounting (as lifetimes computes it).

    Parameters
    ----------
    transaction_model : fitted BetaGeoModel, ModifiedBetaGeoModel or ParetoNBDModel
    spend_model : fitted GammaGammaModel or None
        None uses ``monetary_value`` as the expected spend per purchase.
    frequency, recency, T, monetary_value : array-like
        The customer summary (``rfm_summary`` output), in the time unit ``freq``.
    time : int, default 12
        Horizon in months.
    discount_rate : float, default 0.01
        Monthly discount rate.
    freq : {"D", "W", "M", "H"}
        Time unit of recency and T.
    margin_rate : float, default 1.0
        Share of spend that is contribution margin.

    Returns
    -------
    array or Series
        Present value of each customer's expected margin.

    Examples
    --------
    >>> from ltvkit.models import BetaGeoModel, customer_lifetime_value
    >>> bg = BetaGeoModel.from_params({"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43})
    >>> round(float(customer_lifetime_value(bg, None, 2, 30.43, 38.86, 22.35, freq="W")), 1) > 0
    True
    """
    check_is_fitted(transaction_model)
    factor = _factor(freq, PERIODS_PER_MONTH)
    spend = _spend(spend_model, frequency, monetary_value)
    total = 0.0
    prev = np.asarray(transaction_model.expected_purchases(0.0, frequency, recency, T), dtype=float)
    for month in range(1, int(time) + 1):
        cur = np.asarray(transaction_model.expected_purchases(month * factor, frequency, recency, T), dtype=float)
        total = total + (cur - prev) * spend / (1 + discount_rate) ** month
        prev = cur
    return wrap_output(np.asarray(total) * margin_rate, frequency, recency, T, monetary_value)


def discounted_expected_transactions(transaction_model: Any, frequency: Any, recency: Any, T: Any,
                                     annual_discount_rate: float = 0.10, horizon: float | None = None,
                                     freq: str = "D", nodes: int = 48, warp: Any = None) -> Any:
    """Continuously discounted expected transactions over ``horizon`` periods (infinite: DERT).

    ``int_0^H exp(-delta t) dE[X(t) | history]``, with ``delta = log(1 + annual_discount_rate)`` per year,
    computed after the substitution ``u = 1 - exp(-delta t)`` (so an infinite horizon is a finite integral).
    ``warp`` (a non-decreasing function of an array of periods) gives the model's time for calendar time
    ``t``: ``E[X(warp(t))]`` is discounted in calendar time (seasonality's operational time; needs a horizon).

    Examples
    --------
    >>> from ltvkit.models import ParetoNBDModel, discounted_expected_transactions
    >>> m = ParetoNBDModel.from_params({"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67})
    >>> float(discounted_expected_transactions(m, 2, 30.43, 38.86, freq="W")) > 0
    True
    """
    check_is_fitted(transaction_model)
    if annual_discount_rate <= 0:
        raise InputError("annual_discount_rate must be positive; use expected_purchases for undiscounted counts.")
    delta = np.log1p(annual_discount_rate) / _factor(freq, PERIODS_PER_YEAR)
    u_max = 1.0 if horizon is None else -np.expm1(-delta * float(horizon))
    u, w = gauss_legendre(nodes)
    times = -np.log1p(-u * u_max) / delta
    x = np.atleast_1d(np.asarray(frequency, dtype=float))
    tx = np.atleast_1d(np.asarray(recency, dtype=float))
    tt = np.atleast_1d(np.asarray(T, dtype=float))
    x, tx, tt = np.broadcast_arrays(x, tx, tt)
    horizons = times if horizon is None else np.append(times, float(horizon))
    if warp is not None:
        if horizon is None:
            raise InputError("A time warp needs a finite horizon.")
        horizons = np.asarray(warp(horizons), dtype=float)
    at = getattr(transaction_model, "expected_purchases_at", None)  # all horizons with one P(alive)
    grid = (at(horizons, x, tx, tt) if at is not None else
            [np.asarray(transaction_model.expected_purchases(np.full(x.shape, ti), x, tx, tt), dtype=float)
             for ti in horizons])
    acc = np.zeros(x.shape)
    for wi, expected in zip(w, grid, strict=False):  # the nodes; the horizon, when given, comes last
        acc += wi * expected
    acc *= u_max
    if horizon is not None:
        acc += np.exp(-delta * float(horizon)) * grid[-1]
    return wrap_output(acc, frequency, recency, T)

"""Shared input checks and lifetimes-compatible aliases for the (frequency, recency, T) models."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..exceptions import InputError
from ._base import BaseModel, _describe, as_float_array, check_is_fitted, horizons, wrap_output

__all__ = ["RFMModel", "by_count", "check_rfm", "with_counts"]


def check_rfm(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and broadcast the summary columns; errors name the column, the count and one example row."""
    x = as_float_array("frequency", frequency)
    t_x = as_float_array("recency", recency)
    t = as_float_array("T", T)
    try:
        x, t_x, t = np.broadcast_arrays(x, t_x, t)
    except ValueError:
        raise InputError("frequency, recency and T must have the same length.") from None
    if (x != np.round(x)).any():
        raise InputError(_describe("frequency", x != np.round(x), "are not whole numbers"))
    if (t_x > t + 1e-9).any():
        raise InputError(_describe("recency", t_x > t + 1e-9, "are larger than T"))
    if ((x == 0) & (t_x > 0)).any():
        raise InputError(_describe("recency", (x == 0) & (t_x > 0), "are positive where frequency is 0"))
    return x, t_x, np.maximum(t, t_x)


class RFMModel(BaseModel):
    """Base of the continuous-time transaction models fitted on ``(frequency, recency, T)``."""

    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any = None) -> RFMModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency : array-like
            Number of repeat purchase periods of each customer.
        recency : array-like
            Age of the customer at the last purchase (0 when frequency is 0), in the same unit as ``T``.
        T : array-like
            Age of the customer at the end of the calibration period.
        weights : array-like, optional
            Number of customers each row stands for (rows with the same values may be collapsed).

        Returns
        -------
        self
        """
        x, t_x, t = check_rfm(frequency, recency, T)
        if (t <= 0).all():
            raise InputError("Every T is 0; the observation window must end after the first purchases.")
        return self._fit((x, t_x, t), weights)

    def _prepare(self, data: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        return with_counts(data)

    def _rfm(self, frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, ...]:
        check_is_fitted(self)
        return check_rfm(frequency, recency, T)

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """Expected purchases in the next ``t`` periods, conditional on each customer's history."""
        x, t_x, tt = self._rfm(frequency, recency, T)
        out = self._conditional_expectation(horizons(t, len(x)), x, t_x, tt)
        return wrap_output(out, frequency, recency, T, t)

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Probability that each customer is still active at the end of the calibration period."""
        x, t_x, tt = self._rfm(frequency, recency, T)
        return wrap_output(self._p_alive(x, t_x, tt), frequency, recency, T)

    def expected_purchases_new_customer(self, t: Any) -> Any:
        """Expected purchases of a new (just acquired) customer within ``t`` periods."""
        check_is_fitted(self)
        return wrap_output(self._unconditional_expectation(as_float_array("t", t)), t)

    def probability_of_purchases(self, n: Any, t: Any) -> Any:
        """Probability that a new customer makes exactly ``n`` repeat purchases in ``(0, t]``."""
        check_is_fitted(self)
        nn = as_float_array("n", n)
        tt = as_float_array("t", t)
        if (nn != np.round(nn)).any():
            raise InputError(_describe("n", nn != np.round(nn), "are not whole numbers"))
        nn, tt = np.broadcast_arrays(nn, tt)
        return wrap_output(self._pmf(nn.astype(float), tt.astype(float)), n, t)

    def expected_purchases_between(self, t0: Any, t1: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """Expected purchases in ``(T + t0, T + t1]`` conditional on history (used for discounted CLV)."""
        x, t_x, tt = self._rfm(frequency, recency, T)
        a = np.broadcast_to(as_float_array("t0", t0), x.shape)
        b = np.broadcast_to(as_float_array("t1", t1), x.shape)
        out = self._conditional_expectation(b, x, t_x, tt) - self._conditional_expectation(a, x, t_x, tt)
        return wrap_output(out, frequency, recency, T)

    def expected_purchases_at(self, times: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Expected purchases in the next ``t`` periods for each ``t`` of ``times``: an array (times x rows).

        The same numbers as :meth:`expected_purchases` at each horizon, with P(alive) computed once for all
        of them (for Pareto/NBD it is a quadrature per row): what scoring and discounted CLV use.
        """
        x, t_x, tt = self._rfm(frequency, recency, T)
        times = np.atleast_1d(np.asarray(times, dtype=float))
        out = np.empty((len(times), x.size))
        p = self._p_alive(x, t_x, tt)
        for i, ti in enumerate(times):
            horizon = np.full(x.shape, ti)
            out[i] = np.where(horizon > 0, self._expected_if_alive(horizon, x, t_x, tt) * p, 0.0)
        return out

    # lifetimes names, so that moving from lifetimes is a change of import
    def conditional_expected_number_of_purchases_up_to_time(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """Alias of :meth:`expected_purchases` (lifetimes' name)."""
        return self.expected_purchases(t, frequency, recency, T)

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Alias of :meth:`p_alive` (lifetimes' name)."""
        return self.p_alive(frequency, recency, T)

    def expected_number_of_purchases_up_to_time(self, t: Any) -> Any:
        """Alias of :meth:`expected_purchases_new_customer` (lifetimes' name)."""
        return self.expected_purchases_new_customer(t)

    def _initial_params(self, data: tuple[np.ndarray, ...], weights: np.ndarray) -> np.ndarray:
        t_mean = float(np.average(data[2], weights=weights))
        return np.array([1.0, max(t_mean, 1e-3), 1.0, max(t_mean, 1e-3)])[: len(self._param_names)]

    def _conditional_expectation(self, t: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        return np.where(t > 0, self._expected_if_alive(t, x, t_x, T) * self._p_alive(x, t_x, T), 0.0)

    def _expected_if_alive(self, t: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # abstract: each concrete class defines it

    def _p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # abstract: each concrete class defines it

    def _unconditional_expectation(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # abstract: each concrete class defines it

    def _pmf(self, n: np.ndarray, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # abstract: each concrete class defines it


def with_counts(data: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """``(x, t_x, T)`` with the distinct purchase counts and each row's index into them appended: functions of
    the count alone (gammaln, digamma, betaln) are then evaluated once per distinct count (:func:`by_count`)."""
    return (*data[:3], *by_count(data[:3]))


def by_count(data: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct purchase counts and the index of each row into them (from ``_prepare`` when available)."""
    if len(data) > 3:
        return data[3], data[4]
    xu, inv = np.unique(data[0], return_inverse=True)
    return xu, inv.reshape(-1)

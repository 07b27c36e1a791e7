"""Regular buyers: the (M)BG/CNBD-k family, with Erlang-k inter-purchase times (Platzer & Reutterer 2016).

Replenishment purchases (rice, pet food, contact lenses) come at a steady rhythm, which the Poisson clock of
BG/NBD ignores: right after a purchase the next one is *less* likely, not equally likely. Here, while alive, a
customer's inter-purchase times are Erlang-k (Gamma with integer shape ``k`` and rate ``lambda``), with
``lambda ~ Gamma(r, alpha)`` across customers, and dropout after each purchase with ``p ~ Beta(a, b)`` (MBG: also
right after the first purchase). ``k = 1`` is exactly BG/NBD (or MBG/NBD). ``k`` is chosen by maximum likelihood,
which needs each customer's sum of log inter-purchase times (``litt``) from the transactions.

Timing given alive follows from the phase structure of the Erlang clock: ``d0 = T - t_x`` days have passed
since the last purchase without a new one, so the clock is in phase ``i`` (``i = 0..k-1`` phases done) with
posterior weight ``w_i ~ d0^i / i! * Gamma(r+kx+i) / (alpha+T)^(r+kx+i)``, ``lambda | i ~ Gamma(r+kx+i, alpha+T)``,
and the wait is Gamma(k - i, lambda). So ``P(tau > t | alive) = sum_i w_i NBcdf(k-i-1; r+kx+i, (alpha+T)/(alpha+T+t))``.
See docs/timing.md.
"""

from __future__ import annotations

import math
import warnings
from textwrap import dedent
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..exceptions import ConvergenceError, InputError, StatisticalWarning
from ._base import (
    BaseModel,
    _Transform,
    _weighted_subsample,
    as_float_array,
    check_is_fitted,
    compress,
    distinct_rows,
    horizons,
    wrap_output,
)
from ._rfm_base import by_count, check_rfm, with_counts
from .timing import HORIZONS_DAYS, days_to_dates

__all__ = ["RegularBetaGeoModel", "interpurchase_stats"]


def interpurchase_stats(customer: Any, time: Any) -> pd.DataFrame:
    """Per-customer ``litt`` (sum of log inter-purchase times) and the number of intervals.

    Parameters
    ----------
    customer : array-like
        Customer id of each purchase occasion (merge same-day orders first; zero gaps are dropped).
    time : array-like
        Purchase time in the model's unit (e.g. days since an origin).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer with columns ``litt`` and ``n_intervals``.
    """
    frame = pd.DataFrame({"c": np.asarray(customer), "t": np.asarray(time, dtype=float)})
    frame = frame.sort_values(["c", "t"], kind="stable")
    gaps = frame.groupby("c", sort=False)["t"].diff()
    frame["lg"] = np.log(gaps.where(gaps > 0))
    out = frame.groupby("c").agg(litt=("lg", "sum"), n_intervals=("lg", "count"))
    return out


class RegularBetaGeoModel(BaseModel):
    """(M)BG/CNBD-k: BG/NBD with Erlang-k inter-purchase times; ``k`` chosen by likelihood.

    Parameters
    ----------
    k : int or None, default None
        Regularity order; ``None`` tries ``1..k_max`` and keeps the best total log-likelihood (needs ``litt``).
    k_max : int, default 6
        Largest ``k`` tried.
    modified : bool, default True
        MBG/CNBD-k (dropout possible right after the first purchase too) when True, BG/CNBD-k when False.
    penalizer, tol, maxiter, random_state
        As for :class:`~ltvkit.models.BetaGeoModel`.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b`` for the chosen ``k``.
    k_ : int
        The regularity order used.
    k_log_likelihoods_ : pandas.Series
        Total log-likelihood (with the ``litt`` term) for each ``k`` tried.
    log_likelihood_, AIC_, BIC_, variance_matrix_, standard_errors_, confidence_intervals_
        As for every model (``log_likelihood_`` excludes the ``litt`` term, which does not depend on the
        parameters).

    Examples
    --------
    >>> from ltvkit.models.regularity import RegularBetaGeoModel
    >>> m = RegularBetaGeoModel(k=2).fit([0, 2, 5, 1], [0.0, 30.4, 35.0, 2.0], [38.9, 38.9, 38.0, 30.0])
    >>> m.k_
    2

    References
    ----------
    Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing regularity helps to better predict
    customer activity. Marketing Science, 35(5), 779-799.
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    #: Rows of the weighted subsample on which each k is optimised before the k are compared on all rows (the
    #: log-likelihoods of neighbouring k differ by far more than a subsample of this size moves them).
    _choose_k_rows: ClassVar[int] = 5_000

    def __init__(self, k: int | None = None, k_max: int = 6, modified: bool = True, penalizer: float = 0.0,
                 tol: float = 1e-8, maxiter: int = 2000, random_state: int | None = None) -> None:
        super().__init__(penalizer=penalizer, tol=tol, maxiter=maxiter, random_state=random_state)
        self.k = k
        self.k_max = k_max
        self.modified = modified

    @property
    def _timing_kind(self) -> str:
        return "cnbdk"

    # -- likelihood ---------------------------------------------------------------------------------------------
    def _k(self) -> int:
        return int(getattr(self, "_k_fit", None) or getattr(self, "k_", None) or self.k or 1)

    def _prepare(self, data):
        return with_counts(data)

    def _parts(self, params, x, t_x, T, by_x=None):
        """log of the alive and dropped-out branches (without the Erlang constant), the phase log-weights
        (rows x k) and their log-sum over the phases.

        ``gammaln(r+kx+i)`` comes from ``gammaln(r+kx)`` by the recurrence ``Gamma(z+1) = z Gamma(z)`` and the
        log-sum over the k phases is written out (no per-call overhead of scipy's general ``logsumexp``): this
        runs once per likelihood evaluation of the fit and once per scored chunk. Every function of the purchase
        count alone is evaluated once per distinct count (``by_x``: the distinct counts and each row's index into
        them, from ``_prepare``; computed here when not given) and gathered to the rows.
        """
        r, alpha, a, b = params
        k = self._k()
        shift = 1 if self.modified else 0
        xu, inv = by_count((x,)) if by_x is None else by_x
        rk_u = r + k * xu
        rk = rk_u[inv]
        d0 = np.maximum(T - t_x, 0.0)
        log_A = np.log(alpha + T)
        log_phase = np.empty((len(x), k))
        g0_u = special.gammaln(rk_u)
        g0 = g0_u[inv]
        log_phase[:, 0] = g0 - rk * log_A
        if k > 1:
            with np.errstate(divide="ignore"):
                log_d0 = np.log(d0)
            silent = d0 <= 0
            g_u = g0_u
            for i in range(1, k):
                g_u = g_u + np.log(rk_u + (i - 1))
                col = i * log_d0 - math.lgamma(i + 1) + g_u[inv] - (rk + i) * log_A
                log_phase[:, i] = np.where(silent, -np.inf, col)
        lse = _logsumexp_rows(log_phase)
        base = -special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
        alive = base + special.betaln(a, b + xu + shift)[inv] + lse
        has_drop_u = np.ones_like(xu, dtype=bool) if shift else xu > 0
        bx_u = np.where(has_drop_u, b + xu + shift - 1, 1.0)
        drop_u = np.where(has_drop_u, base + special.betaln(a + 1, bx_u) + g0_u, -np.inf)
        drop = drop_u[inv] - rk * np.log(alpha + t_x)
        return alive, drop, log_phase, lse

    def _loglik(self, params, data):
        x, t_x, T = data[:3]
        with np.errstate(all="ignore"):
            alive, drop, _, _ = self._parts(params, x, t_x, T, by_count(data))
            return np.logaddexp(alive, drop)

    def _loglik_grad(self, params, data):
        r, alpha, a, b = params
        x, t_x, T = data[:3]
        xu, inv = by_count(data)
        k = self._k()
        shift = 1 if self.modified else 0
        rk_u = r + k * xu
        rk = rk_u[inv]
        with np.errstate(all="ignore"):
            alive, drop, log_phase, lse = self._parts(params, x, t_x, T, (xu, inv))
            ll = np.logaddexp(alive, drop)
            q = np.exp(alive - ll)
            pi = np.exp(log_phase - lse[:, None])
            dg = special.digamma
            dg_rk_u = dg(rk_u)
            dg_rk = dg_rk_u[inv]
            log_A = np.log(alpha + T)
            # sum_i pi_i digamma(r+kx+i) and sum_i pi_i (r+kx+i), digamma(z+1) = digamma(z) + 1/z
            s_dg = pi[:, 0] * dg_rk
            s_rk = pi[:, 0] * rk
            dgi_u = dg_rk_u
            for i in range(1, k):
                dgi_u = dgi_u + 1.0 / (rk_u + (i - 1))
                s_dg = s_dg + pi[:, i] * dgi_u[inv]
                s_rk = s_rk + pi[:, i] * (rk + i)
            d_base = np.array([-dg(r) + np.log(alpha), r / alpha, dg(a + b) - dg(a), dg(a + b) - dg(b)])
            bx_u = b + xu + shift - 1
            dg_abx_u = dg(a + b + xu + shift)
            dg_a1bx_u = dg(a + 1 + bx_u)
            al = np.empty((len(x), 4))
            al[:, 0] = d_base[0] + s_dg - pi.sum(axis=1) * log_A
            al[:, 1] = d_base[1] - s_rk / (alpha + T)
            al[:, 2] = (d_base[2] + dg(a) - dg_abx_u)[inv]
            al[:, 3] = (d_base[3] + dg(b + xu + shift) - dg_abx_u)[inv]
            dr = np.empty((len(x), 4))
            dr[:, 0] = d_base[0] + dg_rk - np.log(alpha + t_x)
            dr[:, 1] = d_base[1] - rk / (alpha + t_x)
            dr[:, 2] = (d_base[2] + dg(a + 1) - dg_a1bx_u)[inv]
            dr[:, 3] = (d_base[3] + dg(bx_u) - dg_a1bx_u)[inv]
            dr = np.where(np.isfinite(dr), dr, 0.0)
        g = q[:, None] * al + (1 - q)[:, None] * dr
        return ll, g

    def _initial_params(self, data, weights):
        start = getattr(self, "_start", None)
        if start is not None:
            return start
        t_mean = float(np.average(data[2], weights=weights))
        return np.array([1.0, max(t_mean, 1e-3), 1.0, max(t_mean, 1e-3)])

    # -- fitting ------------------------------------------------------------------------------------------------
    def fit(self, frequency: Any, recency: Any, T: Any, litt: Any = None, weights: Any = None) -> RegularBetaGeoModel:
        """Fit by maximum likelihood; with ``k=None`` also choose ``k``.

        Parameters
        ----------
        frequency, recency, T : array-like
            Repeat purchases, time of the last purchase and age (same unit).
        litt : array-like, optional
            Sum of log inter-purchase times per customer (:func:`interpurchase_stats`); needed when ``k`` is None.
        weights : array-like, optional
            Customers each row stands for.

        Returns
        -------
        self
        """
        x, t_x, t = check_rfm(frequency, recency, T)
        ks = [int(self.k)] if self.k is not None else list(range(1, int(self.k_max) + 1))
        if min(ks) < 1:
            raise InputError("k must be a whole number of at least 1.")
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
        litt_term = np.zeros(len(ks))
        if len(ks) > 1:
            if litt is None:
                raise InputError("Choosing k needs litt (sum of log inter-purchase times); pass litt= or set k.")
            lt = np.broadcast_to(as_float_array("litt", litt, allow_negative=True), x.shape)
            # the litt term does not depend on the parameters: sum_i w_i ((k-1) litt_i - x_i lgamma(k))
            wl, wx = float(w @ lt), float(w @ x)
            litt_term = np.array([(k - 1) * wl - wx * math.lgamma(k) for k in ks])
        self._start = None
        # Many distinct rows: choose k on a weight-proportional subsample of them (what the base class warm-starts
        # every large fit with), compare the k on all rows at the subsample's optimum, and fit only the chosen k
        # on all rows. The log-likelihoods of different k differ by far more than the subsample moves them.
        data, weights_k, sub = (x, t_x, t), weights, False
        if len(ks) > 1:
            cols, wc = compress([x, t_x, t], weights)
            if len(wc) > self._subsample_above:
                idx, weights_k = _weighted_subsample(wc, self._choose_k_rows, self.random_state)
                data, sub = self._prepare(tuple(c[idx] for c in cols)), True
                cols = self._prepare(cols)
        best = None
        lls = {}
        for j, k in enumerate(ks):
            if sub:  # the optimum on the subsample only (no standard errors), compared on all rows
                params = self._subsample_optimum(k, data, weights_k)
                if params is None:
                    lls[k] = float("nan")
                    continue
                self._k_fit = k
                with np.errstate(all="ignore"):
                    total = float(wc @ self._loglik(params, cols)) + litt_term[j]
                self._k_fit = None
                state = (params, k)
            else:
                found = self._fit_k(k, data, weights_k)
                if found is None:
                    lls[k] = float("nan")
                    continue
                self.__dict__.update(found[1])
                params = self._params()
                total = self.log_likelihood_ + litt_term[j]
                state = self.__dict__.copy()
            lls[k] = total
            if best is None or total > best[0]:
                best = (total, k, state)
            # warm start the next k at the same mean purchase rate
            p = params
            self._start = np.array([p[0], p[1] * k / (k + 1), p[2], p[3]])
        if best is None:
            raise ConvergenceError(dedent(f"""\
                RegularBetaGeoModel did not converge for any k in {ks[0]}..{ks[-1]}. What to try:
                1. Try penalizer=0.001 to keep the parameters away from zero and infinity.
                2. Check that recency and T use the same time unit and recency <= T."""))
        if any(np.isnan(v) for v in lls.values()):
            warnings.warn("RegularBetaGeoModel: no convergence for k = "
                          + ", ".join(str(k) for k, v in lls.items() if np.isnan(v)) + "; those k were skipped.",
                          StatisticalWarning, stacklevel=2)
        _, k_best, state = best
        if sub:  # the chosen k on all rows, from the subsample's optimum
            self._start = state[0]
            found = self._fit_k(k_best, (x, t_x, t), weights, starts=(True,))
            if found is None:
                raise ConvergenceError(f"RegularBetaGeoModel did not converge for k = {k_best} on all rows; "
                                       "try penalizer=0.001.")
            self.__dict__.update(found[1])
            lls[k_best] = self.log_likelihood_ + litt_term[ks.index(k_best)]
        else:
            self.__dict__.update(state)
        self._start = None
        self.k_ = int(k_best)
        self.k_log_likelihoods_ = pd.Series(lls, name="log_likelihood").rename_axis("k")
        return self

    def _subsample_optimum(self, k: int, data: tuple[np.ndarray, ...], weights: np.ndarray) -> np.ndarray | None:
        """The parameters that maximise the likelihood of ``k`` on (already compressed) ``data``: BFGS from the
        cold start and from the warm ``_start``, the better one; no Newton steps or Hessian (only ``k`` is chosen
        with them)."""
        warm = self._start
        best = None
        self._k_fit = k
        try:
            tf = _Transform(self._positive(), self._parameter_scale(data, weights))
            objective = self._objective(data, weights, tf)
            for start in ([None, warm] if warm is not None else [None]):
                self._start = start
                x0 = tf.internal(np.asarray(self._initial_params(data, weights), dtype=float))
                with np.errstate(all="ignore"):
                    res = optimize.minimize(objective, x0, jac=True, method=self._optimizer,
                                            options=self._optimizer_options(gtol=1e-6))
                if not np.isfinite(res.fun) or res.fun >= 1e299 or not np.all(np.isfinite(res.x)):
                    continue
                if best is None or res.fun < best[0]:
                    best = (float(res.fun), tf.natural(res.x))
        finally:
            self._k_fit = None
            self._start = warm
        return None if best is None else best[1]

    def _fit_k(self, k: int, data: tuple[np.ndarray, ...], weights: Any,
               starts: tuple[bool, ...] = (False, True)) -> tuple[float, dict[str, Any]] | None:
        """Fit one ``k``: from the cold start and (when there is one) the warm ``_start``; the best fit's state.

        The likelihood in ``k`` can have several local optima, hence both starts.
        """
        warm = self._start
        found = None
        self._k_fit = k
        try:
            for use_warm in starts:
                if use_warm and warm is None:
                    continue
                self._start = warm if use_warm else None
                # a flag on this model, not warnings.catch_warnings (which changes the process's filters)
                self._quiet = True
                try:
                    self._fit(data, weights)
                except ConvergenceError:
                    continue
                finally:
                    self._quiet = False
                if found is None or self.log_likelihood_ > found[0]:
                    found = (self.log_likelihood_, {name: v for name, v in self.__dict__.items()
                                                    if name not in ("_k_fit", "_start", "_quiet")})
        finally:
            self._k_fit = None
            self._start = warm
        return found

    def _extra_to_dict(self) -> dict[str, Any]:
        if not hasattr(self, "k_"):  # built with from_params
            return {}
        return {"k": int(self.k_), "k_log_likelihoods": {str(k): float(v) for k, v in self.k_log_likelihoods_.items()}}

    def _extra_from_dict(self, extra: Any) -> None:
        if not extra:
            return
        self.k_ = int(extra["k"])
        lls = {int(k): float(v) for k, v in extra["k_log_likelihoods"].items()}
        self.k_log_likelihoods_ = pd.Series(lls, name="log_likelihood", dtype=float).rename_axis("k")

    # -- predictions --------------------------------------------------------------------------------------------
    def _rfm(self, frequency, recency, T):
        check_is_fitted(self)
        return check_rfm(frequency, recency, T)

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Probability that each customer is still alive at ``T``."""
        x, t_x, t = self._rfm(frequency, recency, T)
        with np.errstate(all="ignore"):
            alive, drop, _, _ = self._parts(self._params(), x, t_x, t)
        return wrap_output(special.expit(alive - drop), frequency, recency, T)

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """Expected number of purchases in ``(T, T + t]`` given each history (the conditional expectation).

        Given alive at ``T``, the clock is in Erlang phase ``i`` with the posterior weight of
        :meth:`next_purchase_timing`, and ``lambda | i ~ Gamma(r + kx + i, alpha + T)``; the ``n``-th purchase
        after ``T`` needs ``nk - i`` more phases, which happen by ``T + t`` with the probability that a negative
        binomial count (size ``r + kx + i``, success probability ``(alpha+T)/(alpha+T+t)``) reaches ``nk - i``;
        it counts if the customer survived the ``n - 1`` purchases before it, ``E[(1-p)^(n-1)]`` with
        ``p ~ Beta(a, b + x + 1)`` (MBG; ``b + x`` without ``modified``) given alive. Each row's sum over ``n``
        stops when its terms no longer matter (below 1e-13 of its total), and the result is times P(alive). With
        ``k = 1`` it is exactly (M)BG/NBD's conditional expectation.
        """
        x, t_x, age = self._rfm(frequency, recency, T)
        horizon = horizons(t, len(x))
        if len(horizon) != len(x):  # one customer, several horizons
            x, t_x, age = (np.full(len(horizon), c[0]) for c in (x, t_x, age))
        with np.errstate(all="ignore"):
            w, p_alive = self._alive_weights(x, t_x, age)
            out = p_alive * self._expected_if_alive(horizon, x, age, w)
        return wrap_output(out, frequency, recency, T)

    def expected_purchases_at(self, times: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """:meth:`expected_purchases` at each horizon of ``times``: an array (times x rows), with P(alive) and the
        phase weights computed once (what scoring and discounted CLV use)."""
        x, t_x, age = self._rfm(frequency, recency, T)
        times = np.atleast_1d(np.asarray(times, dtype=float))
        out = np.zeros((len(times), x.size))
        if x.size == 0:
            return out
        with np.errstate(all="ignore"):
            w, p_alive = self._alive_weights(x, t_x, age)
            # the series depend on (x, T) and the horizon only: summed for each distinct (x, T) and every
            # horizon in one walk, then weighted by each row's phases
            first, back = distinct_rows(x, age)
            at = np.flatnonzero(times > 0)
            n_u = len(first)
            sums = self._phase_sums(np.repeat(times[at], n_u), np.tile(x[first], len(at)),
                                    np.tile(age[first], len(at))).reshape(len(at), n_u, -1)
            for j, s_j in zip(at, sums, strict=True):
                out[j] = p_alive * np.where(w > 0, w * s_j[back], 0.0).sum(axis=1)
        return out

    def _alive_weights(self, x, t_x, T):
        """The phase weights given alive (rows x k) and P(alive), from one likelihood pass."""
        alive, drop, log_phase, lse = self._parts(self._params(), x, t_x, T)
        return np.exp(log_phase - lse[:, None]), special.expit(alive - drop)

    def _expected_if_alive(self, horizon, x, T, w, rtol=1e-13):
        """Expected purchases in ``(T, T + horizon]`` given alive, for rows with phase weights ``w`` (rows x k).

        Given the phase, the expectation depends on ``(x, T, horizon)`` only, not on recency: the series is
        summed once per distinct ``(x, T, horizon)`` (:meth:`_phase_sums`) and weighted by each row's phases.
        """
        horizon = np.broadcast_to(np.asarray(horizon, dtype=float), x.shape)
        total = np.zeros(len(x))
        rows = np.flatnonzero(horizon > 0)
        if len(rows) == 0:
            return total
        first, back = distinct_rows(x[rows], T[rows], horizon[rows])
        pick = rows[first]
        sums = self._phase_sums(horizon[pick], x[pick], T[pick], rtol)[back]
        wr = w[rows]
        total[rows] = np.where(wr > 0, wr * sums, 0.0).sum(axis=1)
        return total

    def _phase_sums(self, horizon, x, T, rtol=1e-13):
        """For each row and phase ``i`` (rows x k): ``sum_n E[(1-p)^(n-1)] P(NB >= nk - i)``, the expected
        purchases in ``(T, T + horizon]`` given alive and in phase ``i`` (see :meth:`expected_purchases`).

        ``P(NB >= m)`` is walked up ``m = 0, 1, ...`` by the negative-binomial pmf's recurrence (in logs, so a
        large size cannot underflow it), read at ``m = nk - i`` for ``n = 1, 2, ...``; a row leaves the walk once
        its term is below ``rtol`` of its sum (or its tail below 1e-15, or after 100,000 terms). Vectorised over
        the rows still walking: the work is the number of terms each row needs, not the longest row's times all
        rows.
        """
        r, alpha, a, b = self._params()
        k = self._k()
        out = np.zeros((len(x), k))
        b_alive = b + x + (1 if self.modified else 0)
        big_a = alpha + T
        log_p = np.log(big_a) - np.log(big_a + horizon)   # log success probability
        log_q = np.log(horizon) - np.log(big_a + horizon)  # log(1 - success probability)
        q_all = np.exp(log_q)
        for i in range(k):
            rows = np.arange(len(x))
            size = r + k * x + i
            lq, q, ba = log_q, q_all, b_alive
            log_pmf = size * log_p                    # log P(NB = 0)
            pmf = np.exp(log_pmf)
            tail = -np.expm1(log_pmf)                 # P(NB >= 1)
            m = 1                                     # tail is P(NB >= m); pmf is P(NB = m - 1)
            survive = np.ones(len(rows))              # E[(1 - p)^(n - 1)] given alive
            acc = np.zeros(len(rows))
            n = 1
            while len(rows):
                target = n * k - i
                while m < target:                     # P(NB >= m + 1) = P(NB >= m) - P(NB = m)
                    log_pmf = log_pmf + np.log((size + (m - 1)) / m) + lq
                    pmf = np.exp(log_pmf)
                    tail = tail - pmf
                    m += 1
                # Past the mode the subtractions leave rounding noise (~1e-15) that no longer falls; the tail is
                # then bounded by a geometric series: P(NB = j) / P(NB = j - 1) = q (size + j - 1) / j, at most
                # rho = q max((size + m - 1) / m, 1) for j >= m, so P(NB >= m) <= P(NB = m - 1) rho / (1 - rho)
                # (no bound, inf, while rho >= 1; fmin passes over the 0/0 of a vanished pmf).
                rho = q * np.maximum((size + (m - 1)) / m, 1.0)
                tail = np.fmin(tail, pmf * rho / np.maximum(1.0 - rho, 0.0))
                term = survive * np.maximum(tail, 0.0)
                acc += term
                # done when the term no longer matters, or the tail is at rounding level, or not a number
                done = ~((term > rtol * acc) & (tail >= 1e-15))
                if n >= 100_000:
                    done[:] = True
                survive = survive * (ba + (n - 1)) / (a + ba + (n - 1))
                n += 1
                if done.any():
                    out[rows[done], i] = acc[done]
                    keep = ~done
                    rows, size, lq, q, ba = rows[keep], size[keep], lq[keep], q[keep], ba[keep]
                    log_pmf, pmf, tail, survive, acc = log_pmf[keep], pmf[keep], tail[keep], survive[keep], acc[keep]
        return out

    def _phase_weights(self, x, t_x, T):
        """Posterior weights of the Erlang phases the customer is in at ``T``, given alive (rows x k)."""
        with np.errstate(all="ignore"):
            _, _, log_phase, lse = self._parts(self._params(), x, t_x, T)
        return np.exp(log_phase - lse[:, None])

    def _alive_survival(self, t, x, t_x, T, w=None):
        """``P(no purchase in (T, T+t] | alive)``, rows x horizons (``t`` 1-d); ``w``: the phase weights."""
        r, alpha, a, b = self._params()
        k = self._k()
        w = self._phase_weights(x, t_x, T) if w is None else w
        A = (alpha + T)[:, None]
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        log_p = -np.log1p(tt[None, :] / A)
        out = np.zeros((len(x), tt.size))
        for i in range(k):
            out += w[:, [i]] * _nbinom_cdf(k - i - 1, (r + k * x + i)[:, None], log_p)
        return out

    def next_purchase_timing(self, frequency: Any, recency: Any, T: Any, *, horizons=HORIZONS_DAYS,
                             days_per_unit: float = 1.0, as_of=None, window_days: float | None = None) -> pd.DataFrame:
        """Per-customer timing table with the same columns as :func:`ltvkit.models.timing.next_purchase_timing`.

        Everything is vectorised over the rows (one likelihood pass gives P(alive) and the phase weights; the
        medians are found by bisection on the distinct rows, all at once), so scoring the distinct
        ``(frequency, recency, T)`` groups of a shop costs about as much as the closed forms of the other models.
        """
        x, t_x, t = self._rfm(frequency, recency, T)
        with np.errstate(all="ignore"):
            alive, drop, log_phase, lse = self._parts(self._params(), x, t_x, t)
        p_al = np.asarray(special.expit(alive - drop), dtype=float)
        w = np.exp(log_phase - lse[:, None])
        cols: dict[str, Any] = {"p_alive": p_al}
        hz = np.asarray(horizons, dtype=float) / days_per_unit
        surv = self._alive_survival(hz, x, t_x, t, w)
        for j, k in enumerate(horizons):
            cols[f"p_purchase_{k}d"] = p_al * (1 - surv[:, j])
        for j, k in enumerate(horizons):
            cols[f"p_purchase_{k}d_if_alive"] = 1 - surv[:, j]
        cols["p_buy_again_if_alive"] = np.ones_like(x)
        cols["median_days_to_next_purchase"] = self._alive_median(x, t_x, t) * days_per_unit
        cols["expected_days_to_next_purchase"] = self._alive_mean(x, t_x, t, w) * days_per_unit
        if window_days is not None:
            cols["median_days_if_within_window"] = self._alive_median(x, t_x, t, window_days / days_per_unit) * days_per_unit
        frame = pd.DataFrame(cols)
        if as_of is not None:
            frame["median_next_purchase_date"] = days_to_dates(as_of, frame["median_days_to_next_purchase"])
            frame["expected_next_purchase_date"] = days_to_dates(as_of, frame["expected_days_to_next_purchase"])
        return frame

    def _alive_median(self, x, t_x, T, window=None):
        """Median wait given alive; with ``window``, given also that the purchase comes within it."""
        d = T - t_x
        first, inv = distinct_rows(x, d, T)
        ux, ud, uT = x[first], d[first], T[first]
        ut_x = uT - ud
        w = self._phase_weights(ux, ut_x, uT)  # the same at every trial horizon: computed once
        if window is None:
            level = np.full(len(ux), 0.5)
            hi = np.ones(len(ux))
        else:
            level = 1 - (1 - self._surv_diag(np.full(len(ux), float(window)), ux, ut_x, uT, w)) / 2
            hi = np.full(len(ux), float(window))
        lo = np.zeros(len(ux))
        f_lo = 1.0 - level  # survival minus level: positive at lo, at most 0 at hi
        while True:
            f_hi = self._surv_diag(hi, ux, ut_x, uT, w) - level
            grow = f_hi > 0
            if not grow.any() or hi.max() > 1e9:
                break
            lo = np.where(grow, hi, lo)
            f_lo = np.where(grow, f_hi, f_lo)
            hi = np.where(grow, hi * 2, hi)
        f_lo = np.broadcast_to(f_lo, lo.shape).copy()
        # Illinois (regula falsi that halves the value kept twice on one side) on every bracket at once: the
        # survival is smooth and monotone in t, so far fewer evaluations reach the 1e-13 bracket than the
        # 45 or so halvings of bisection (a step that would leave the bracket bisects instead)
        side = np.zeros(len(ux), dtype=np.int8)
        for _ in range(100):
            idx = np.flatnonzero((hi - lo > 1e-13 * hi) & (f_hi < 0))  # brackets still open
            if not len(idx):
                break
            a, b, fa, fb = lo[idx], hi[idx], f_lo[idx], f_hi[idx]
            with np.errstate(all="ignore"):
                t = b - fb * (b - a) / (fb - fa)
            t = np.where(~np.isfinite(t) | (t <= a) | (t >= b), (a + b) / 2, t)
            f_t = self._surv_diag(t, ux[idx], ut_x[idx], uT[idx], w[idx]) - level[idx]
            above = f_t > 0
            last = side[idx]
            lo[idx] = np.where(above, t, a)
            hi[idx] = np.where(above, b, t)
            # Illinois: the end kept a second time in a row has its value halved
            f_lo[idx] = np.where(above, f_t, np.where(last == -1, fa / 2, fa))
            f_hi[idx] = np.where(above, np.where(last == 1, fb / 2, fb), f_t)
            side[idx] = np.where(above, 1, -1)
        return np.where(f_hi >= 0, hi, (lo + hi) / 2)[inv]

    def _surv_diag(self, t, x, t_x, T, w=None):
        """Survival at a per-row horizon ``t`` (``w``: the phase weights, computed when not given)."""
        r, alpha, a, b = self._params()
        k = self._k()
        w = self._phase_weights(x, t_x, T) if w is None else w
        A = alpha + T
        log_p = -np.log1p(t / A)
        out = np.zeros(len(x))
        for i in range(k):
            out += w[:, i] * _nbinom_cdf(k - i - 1, r + k * x + i, log_p)
        return out

    def _alive_mean(self, x, t_x, T, w=None):
        r, alpha, a, b = self._params()
        k = self._k()
        w = self._phase_weights(x, t_x, T) if w is None else w
        A = alpha + T
        out = np.zeros(len(x))
        for i in range(k):
            shape = r + k * x + i
            with np.errstate(divide="ignore"):
                term = np.where(shape > 1, (k - i) * A / np.maximum(shape - 1, 1e-300), np.inf)
            out += np.where(w[:, i] > 0, w[:, i] * term, 0.0)
        return out


def _logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """``log(sum(exp(a), axis=1))`` for a few columns (``-inf`` for a row that is all ``-inf``)."""
    if a.shape[1] == 1:
        return a[:, 0].copy()
    m = a.max(axis=1)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return m + np.log(np.exp(a - m[:, None]).sum(axis=1))


def _nbinom_cdf(m: int, n: Any, log_p: Any) -> np.ndarray:
    """Negative binomial ``P(N <= m)`` (``n`` successes, success probability ``exp(log_p)``) for a small whole
    ``m``: ``p**n * sum_{j<=m} (n)_j / j! * (1-p)**j``, the finite sum written out (what ``scipy.stats.nbinom.cdf``
    gives through the incomplete beta function, without its per-call overhead)."""
    q = -np.expm1(log_p)
    term = np.ones(np.broadcast(n, log_p).shape)
    total = term.copy()
    for j in range(1, m + 1):
        term = term * ((n + (j - 1)) / j) * q
        total = total + term
    with np.errstate(under="ignore"):
        return np.exp(n * log_p) * total

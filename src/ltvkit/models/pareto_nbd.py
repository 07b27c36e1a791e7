"""Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), fitted with analytic gradients."""

from __future__ import annotations

import os
import threading
from typing import Any, ClassVar

import numpy as np
from scipy import special

from ._rfm_base import RFMModel, by_count
from ._special import gauss_legendre

__all__ = ["ParetoNBDModel"]

_NODES = 16
_PMF_NODES = 64


class ParetoNBDModel(RFMModel):
    """Pareto/NBD model: Poisson purchasing at rate ``lambda ~ Gamma(r, alpha)`` while alive, exponential
    lifetimes with rate ``mu ~ Gamma(s, beta)``.

    The likelihood's hypergeometric term is evaluated as the integral it stands for,
    ``s * int_{t_x}^{T} (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau``, after the substitution
    ``w = ((alpha+t_x)/(alpha+tau))^(r+s+x)`` that makes the integrand bounded and smooth; a fixed Gauss-Legendre
    rule then gives the value and its exact parameter derivatives in log space. No ``2F1`` overflow (the cause
    of lifetimes#25) and a gradient, so the fit uses L-BFGS instead of Nelder-Mead.

    Parameters
    ----------
    penalizer, tol, maxiter, random_state
        See :class:`BetaGeoModel`.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``s``, ``beta``.
    log_likelihood_, AIC_, BIC_, variance_matrix_, standard_errors_, confidence_intervals_
        As for every model.

    Examples
    --------
    >>> from ltvkit.models import ParetoNBDModel
    >>> m = ParetoNBDModel.from_params({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
    >>> round(float(m.p_alive(26, 30.857, 31)), 3)
    0.998

    References
    ----------
    Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers: Who are they and what
    will they do next? Management Science, 33(1), 1-24. Fader, P. S., & Hardie, B. G. S. (2005). A note on
    deriving the Pareto/NBD model and related expressions.
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    # one evaluation costs 16 quadrature nodes per row, so the quasi-Newton search runs on a weight-proportional
    # subset from 2,000 distinct rows on (not 30,000 as for the closed-form models); Newton steps on all rows
    # then reach the same optimum (the base class's warm start). The subset grows with the rows (a fiftieth,
    # 1,000 to 10,000), so that its optimum stays close enough for few Newton steps on all of them.
    _subsample_above: ClassVar[int] = 2_000
    _subsample_size: ClassVar[int] = 1_000

    def _subsample_rows(self, n_rows: int) -> int:
        return min(10_000, max(self._subsample_size, n_rows // 50))

    def _terms(self, params, data, need_grad):
        r, alpha, s, beta = params
        x, t_x, T = data[:3]
        xu, inv = by_count(data)
        rx = r + x
        k = rx + s
        l_atx = np.log(alpha + t_x)
        l_aT = np.log(alpha + T)
        l_bT = np.log(beta + T)
        c = (beta - alpha) / (alpha + t_x)
        # w = ((alpha+t_x)/(alpha+tau))^k, then w = v^q (q = k clipped to [1, 3]) so that the integrand is smooth
        # at w = 0 as well; Gauss-Legendre on v in [v_T, 1]
        q_exp = np.clip(k, 1.0, 3.0)
        log_vT = k * (l_atx - l_aT) / q_exp
        one_minus_vT = -np.expm1(log_vT)
        v_T = np.exp(log_vT)
        moments = _quadrature(v_T, one_minus_vT, q_exp / k, q_exp - 1, c, s + 1, need_grad)
        with np.errstate(divide="ignore"):
            log_I = -k * l_atx - np.log(k) + np.log(q_exp) + np.log(one_minus_vT) + moments[0]
        b1 = -rx * l_aT - s * l_bT
        b2 = np.log(s) + log_I
        log_sum = np.logaddexp(b1, b2)
        const = (special.gammaln(r + xu) - special.gammaln(r))[inv] + r * np.log(alpha) + s * np.log(beta)
        ll = const + log_sum
        q = np.exp(b1 - log_sum)  # P(alive | history)
        if not need_grad:
            return ll, q, None
        # E[log(alpha+tau)], E[log(beta+tau)], E[1/(alpha+tau)], E[1/(beta+tau)] under the normalised integrand
        e_la = l_atx - moments[1]
        e_lb = e_la + moments[2]
        e_ia = moments[3] / (alpha + t_x)
        e_ib = moments[4] / (alpha + t_x)
        q2 = 1 - q
        g = np.empty((len(x), 4))
        g[:, 0] = (special.digamma(r + xu) - special.digamma(r))[inv] + np.log(alpha) - q * l_aT - q2 * e_la
        g[:, 1] = r / alpha - q * rx / (alpha + T) - q2 * rx * e_ia
        g[:, 2] = np.log(beta) - q * l_bT + q2 * (1 / s - e_lb)
        g[:, 3] = s / beta - q * s / (beta + T) - q2 * (s + 1) * e_ib
        return ll, q, g

    def _loglik(self, params, data):
        with np.errstate(all="ignore"):
            return self._terms(params, data, False)[0]

    def _loglik_grad(self, params, data):
        with np.errstate(all="ignore"):
            ll, _, g = self._terms(params, data, True)
        return ll, g

    def _initial_params(self, data, weights):
        t_mean = float(np.average(data[2], weights=weights))
        return np.array([1.0, max(t_mean, 1e-3), 1.0, max(t_mean, 1e-3)])

    # -- predictions ----------------------------------------------------------------------------------------
    def _p_alive(self, x, t_x, T):
        with np.errstate(all="ignore"):
            return self._terms(self._params(), (x, t_x, T), False)[1]

    def _expected_if_alive(self, t, x, t_x, T):
        r, alpha, s, beta = self._params()
        lg = np.log1p(t / (beta + T))
        sm1 = s - 1
        with np.errstate(all="ignore"):
            frac = np.where(np.abs(sm1) < 1e-8, lg, -np.expm1(-sm1 * lg) / sm1)
        return (r + x) * (beta + T) / (alpha + T) * frac

    def _unconditional_expectation(self, t):
        r, alpha, s, beta = self._params()
        lg = np.log1p(t / beta)
        sm1 = s - 1
        frac = np.where(np.abs(sm1) < 1e-8, lg, -np.expm1(-sm1 * lg) / sm1) if np.ndim(lg) else (
            lg if abs(sm1) < 1e-8 else -np.expm1(-sm1 * lg) / sm1)
        return r * beta / alpha * frac

    def _pmf(self, n, t):
        # P(X(t)=n) = (beta/(beta+t))^s NB(n; t) + int_0^t s beta^s (beta+tau)^-(s+1) NB(n; tau) dtau
        from scipy import stats  # imported when used: scipy.stats is slow to import

        r, alpha, s, beta = self._params()
        nodes, weights = gauss_legendre(_PMF_NODES)
        tau = t[:, None] * nodes[None, :]
        with np.errstate(all="ignore"):
            alive = s * np.log(beta / (beta + t)) + stats.nbinom.logpmf(n, r, alpha / (alpha + t))
            dens = (np.log(s) + s * np.log(beta) - (s + 1) * np.log(beta + tau)
                    + stats.nbinom.logpmf(n[:, None], r, alpha / (alpha + tau)) + np.log(weights)[None, :])
            died = np.log(t) + special.logsumexp(dens, axis=1)
            out = np.exp(np.logaddexp(alive, died))
        return np.where(t > 0, out, (n == 0).astype(float))

    def simulate(self, T: Any, random_state: int | None = None) -> Any:
        """Draw customers from the parameters (one per value of ``T``): ``frequency``, ``recency``, ``T``."""
        import pandas as pd

        r, alpha, s, beta = self._params()
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        T = np.asarray(T, dtype=float).reshape(-1)
        n = len(T)
        lam = rng.gamma(r, 1 / alpha, n)
        mu = rng.gamma(s, 1 / beta, n)
        end = np.minimum(rng.exponential(1 / mu), T)
        x = rng.poisson(lam * end).astype(float)
        # given x events on [0, end], the last one is the max of x uniforms
        t_x = np.where(x > 0, end * rng.random(n) ** (1 / np.maximum(x, 1)), 0.0)
        return pd.DataFrame({"frequency": x, "recency": t_x, "T": T})


_CHUNK = 8192  # rows per block: the (rows x nodes) temporaries stay in cache


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _quadrature(v_T, one_minus_vT, q_over_k, q_minus_1, c, s1, need_grad):
    """:func:`_quadrature_rows` of every row; above ``2 × _CHUNK`` rows on a machine with two cores or more,
    the second half of the rows in a helper thread (numpy leaves the interpreter lock while it computes)."""
    n = len(v_T)
    out = np.empty((5 if need_grad else 1, n))
    if n < 2 * _CHUNK or _cores() < 2:
        _quadrature_rows(v_T, one_minus_vT, q_over_k, q_minus_1, c, s1, need_grad, out)
        return out
    half = n // 2
    rows = (v_T, one_minus_vT, q_over_k, q_minus_1, c)  # per row; s1 is one number
    errors: list[BaseException] = []

    def second() -> None:
        try:
            _quadrature_rows(*(a[half:] for a in rows), s1, need_grad, out[:, half:])
        except BaseException as exc:  # raised in the caller
            errors.append(exc)

    helper = threading.Thread(target=second, name="ltvkit-quadrature", daemon=True)
    helper.start()
    try:
        _quadrature_rows(*(a[:half] for a in rows), s1, need_grad, out[:, :half])
    finally:
        helper.join()
    if errors:
        raise errors[0]
    return out


def _quadrature_rows(v_T, one_minus_vT, q_over_k, q_minus_1, c, s1, need_grad, out):
    """Gauss-Legendre pieces of the integral for each row, in blocks of rows, into ``out``.

    With ``v = v_T + (1 - v_T) node``, ``log u = log(v) q / k`` (``u = (alpha+t_x)/(alpha+tau)``) and
    ``l1p = log(1 + c u)``, the log integrand is ``-s1 l1p + (q - 1) log v + log weight``. Returns the log of its
    sum and, with ``need_grad``, the normalised-integrand means of ``log u``, ``l1p``, ``u`` and ``u / (1 + c u)``.
    """
    nodes, weights = gauss_legendre(_NODES)
    log_w = np.log(weights)
    n = len(v_T)
    m = min(n, _CHUNK)
    log_v = np.empty((m, _NODES))
    log_u = np.empty((m, _NODES))
    u = np.empty((m, _NODES))
    l1p = np.empty((m, _NODES))
    g = np.empty((m, _NODES))
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        b = hi - lo
        lv, lu, uu, lp, gg = log_v[:b], log_u[:b], u[:b], l1p[:b], g[:b]
        np.multiply(one_minus_vT[lo:hi, None], nodes, out=lv)
        lv += v_T[lo:hi, None]
        np.log(lv, out=lv)
        np.multiply(lv, q_over_k[lo:hi, None], out=lu)
        np.exp(lu, out=uu)
        cc = c[lo:hi, None]
        np.multiply(uu, cc, out=lp)
        np.log1p(lp, out=lp)
        np.multiply(lp, -s1, out=gg)
        # reuse lv for (q - 1) log v: log v itself is not needed again
        lv *= q_minus_1[lo:hi, None]
        gg += lv
        gg += log_w
        mx = gg.max(axis=1)
        gg -= mx[:, None]
        np.exp(gg, out=gg)
        tot = gg.sum(axis=1)
        out[0, lo:hi] = mx + np.log(tot)
        if need_grad:
            gg /= tot[:, None]
            out[1, lo:hi] = np.einsum("ij,ij->i", gg, lu)
            out[2, lo:hi] = np.einsum("ij,ij->i", gg, lp)
            out[3, lo:hi] = np.einsum("ij,ij->i", gg, uu)
            # u / (1 + c u) = u exp(-l1p)
            np.negative(lp, out=lp)
            np.exp(lp, out=lp)
            lp *= uu
            out[4, lo:hi] = np.einsum("ij,ij->i", gg, lp)

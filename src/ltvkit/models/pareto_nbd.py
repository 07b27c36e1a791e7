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

    def _terms(self, params, data, need_grad, weights=None):
        """Per row: the log-likelihood, P(alive) and (``need_grad``) the gradient in the natural parameters;
        given ``weights`` also the weighted sum of the rows' Hessians (4 x 4), from the same quadrature."""
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
        level = 0 if not need_grad else (2 if weights is not None else 1)
        moments = _quadrature(v_T, one_minus_vT, q_exp / k, q_exp - 1, c, s + 1, level)
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
        if weights is None:
            return ll, q, g
        h = _hessian_sum(weights, moments, r, alpha, s, beta, x, xu, inv, rx, T, t_x, l_aT, l_bT, e_la, e_lb,
                         e_ia, e_ib, q)
        return ll, q, g, h

    def _loglik(self, params, data):
        with np.errstate(all="ignore"):
            return self._terms(params, data, False)[0]

    def _loglik_grad(self, params, data):
        with np.errstate(all="ignore"):
            ll, _, g = self._terms(params, data, True)
        return ll, g

    def _loglik_grad_hess(self, params, data, weights):
        with np.errstate(all="ignore"):
            ll, _, g, h = self._terms(params, data, True, weights)
        return ll, g, h

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


_MOMENTS = {0: 1, 1: 5, 2: 15}  # rows of the quadrature's output per level (value, gradient, Hessian)


def _quadrature(v_T, one_minus_vT, q_over_k, q_minus_1, c, s1, need_grad):
    """:func:`_quadrature_rows` of every row; above ``2 × _CHUNK`` rows on a machine with two cores or more,
    the second half of the rows in a helper thread (numpy leaves the interpreter lock while it computes)."""
    n = len(v_T)
    out = np.empty((_MOMENTS[int(need_grad)], n))
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
    sum and, with ``need_grad``, the normalised-integrand means of ``log u``, ``l1p``, ``u`` and ``u / (1 + c u)``;
    with ``need_grad == 2`` also the means of their ten pairwise products (for the Hessian), in the order
    ``lu lu, lu lp, lu u, lu z, lp lp, lp u, lp z, u u, u z, z z`` (``z = u / (1 + c u)``).
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
            if need_grad == 2:
                zz = np.exp(-lp) * uu
                out[4, lo:hi] = np.einsum("ij,ij->i", gg, zz)
                basics = (lu, lp, uu, zz)
                row = 5
                for i, first in enumerate(basics):
                    weighted = gg * first
                    for second in basics[i:]:
                        out[row, lo:hi] = np.einsum("ij,ij->i", weighted, second)
                        row += 1
                continue
            # u / (1 + c u) = u exp(-l1p)
            np.negative(lp, out=lp)
            np.exp(lp, out=lp)
            lp *= uu
            out[4, lo:hi] = np.einsum("ij,ij->i", gg, lp)


def _hessian_sum(w, moments, r, alpha, s, beta, x, xu, inv, rx, T, t_x, l_aT, l_bT, e_la, e_lb, e_ia, e_ib, q):
    """``sum_i w_i`` of each row's Hessian of the log-likelihood in ``(r, alpha, s, beta)``.

    ``ll = const + logaddexp(b1, b2)`` with ``b1 = -(r+x) log(alpha+T) - s log(beta+T)`` and ``b2 = log s +
    log I``, ``I = int_{t_x}^{T} f``, ``f = (alpha+tau)^-(r+x) (beta+tau)^-(s+1)``. The Hessian of ``log I`` is
    the mean of ``f``'s second log-derivatives plus the covariance of its first ones under the normalised
    integrand, both from the quadrature's moments of ``lu = log u``, ``lp = log(1 + c u)``, ``u`` and
    ``z = u / (1 + c u)`` (``u = (alpha+t_x)/(alpha+tau)``, so ``1/(alpha+tau) = u / D`` and ``1/(beta+tau) =
    z / D`` with ``D = alpha+t_x``); ``logaddexp`` mixes the branches' Hessians with ``q = P(alive)`` and adds
    ``q (1-q)`` times the outer product of their gradients' difference.
    """
    m_lu, m_lp, m_u, m_z = moments[1], moments[2], moments[3], moments[4]
    s_lulu, s_lulp, s_luu, s_luz, s_lplp, s_lpu, s_lpz, s_uu, s_uz, s_zz = moments[5:15]
    c_lulu, c_lulp, c_luu, c_luz = s_lulu - m_lu * m_lu, s_lulp - m_lu * m_lp, s_luu - m_lu * m_u, s_luz - m_lu * m_z
    c_lplp, c_lpu, c_lpz = s_lplp - m_lp * m_lp, s_lpu - m_lp * m_u, s_lpz - m_lp * m_z
    c_uu, c_uz, c_zz = s_uu - m_u * m_u, s_uz - m_u * m_z, s_zz - m_z * m_z
    inv_d = 1.0 / (alpha + t_x)
    a_c, b_c = -rx * inv_d, -(s + 1) * inv_d  # d log f / d alpha = a_c u, d log f / d beta = b_c z
    # Hessian of log I: E[second derivatives of log f] + Cov[first derivatives]; order r, alpha, s, beta
    h2 = {
        (0, 0): c_lulu,
        (0, 1): a_c * c_luu - m_u * inv_d,
        (0, 2): c_lulu - c_lulp,
        (0, 3): b_c * c_luz,
        (1, 1): a_c * a_c * c_uu + rx * s_uu * inv_d * inv_d,
        (1, 2): a_c * (c_luu - c_lpu),
        (1, 3): a_c * b_c * c_uz,
        (2, 2): c_lulu - 2 * c_lulp + c_lplp - 1.0 / (s * s),
        (2, 3): b_c * (c_luz - c_lpz) - m_z * inv_d,
        (3, 3): b_c * b_c * c_zz + (s + 1) * s_zz * inv_d * inv_d,
    }
    a_T, b_T = 1.0 / (alpha + T), 1.0 / (beta + T)
    h1 = {(0, 1): -a_T, (1, 1): rx * a_T * a_T, (2, 3): -b_T, (3, 3): s * b_T * b_T}
    g1 = (-l_aT, -rx * a_T, -l_bT, -s * b_T)
    g2 = (-e_la, -rx * e_ia, 1.0 / s - e_lb, -(s + 1) * e_ib)
    diff = [a - b for a, b in zip(g1, g2, strict=True)]
    q2 = 1.0 - q
    mix = q * q2
    const = {(0, 0): (special.polygamma(1, r + xu) - special.polygamma(1, r))[inv], (0, 1): 1.0 / alpha,
             (1, 1): -r / alpha ** 2, (2, 3): 1.0 / beta, (3, 3): -s / beta ** 2}
    out = np.empty((4, 4))
    for i in range(4):
        for j in range(i, 4):
            row = q2 * h2[(i, j)] + mix * diff[i] * diff[j]
            if (i, j) in h1:
                row = row + q * h1[(i, j)]
            total = float(np.einsum("i,i->", w, row))
            if (i, j) in const:
                c_ij = const[(i, j)]
                total += float(np.einsum("i,i->", w, c_ij)) if np.ndim(c_ij) else float(c_ij) * float(w.sum())
            out[i, j] = out[j, i] = total
    return out

"""BG/NBD: beta-geometric / negative binomial distribution model (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import special

from ._rfm_base import RFMModel, by_count
from ._special import hyp2f1_neg

__all__ = ["BetaGeoModel"]


def _frame(x, t_x, T):
    import pandas as pd

    return pd.DataFrame({"frequency": x.astype(float), "recency": t_x, "T": T})


class BetaGeoModel(RFMModel):
    """BG/NBD model of repeat purchasing for non-contractual customers.

    While active, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``; after each
    purchase the customer drops out with probability ``p ~ Beta(a, b)``.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the log-parameters.
    tol : float, default 1e-8
        Optimiser gradient tolerance.
    maxiter : int, default 2000
        Maximum optimiser iterations.
    random_state : int or None
        Seed of the random subset that warm-starts fits on more than 30,000 distinct rows (None: seed 0) and
        the default seed of :meth:`simulate`.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b``.
    log_likelihood_, AIC_, BIC_ : float
        Fit statistics.
    variance_matrix_, standard_errors_, confidence_intervals_
        Uncertainty from the observed information.

    Examples
    --------
    >>> import numpy as np
    >>> from ltvkit.models import BetaGeoModel
    >>> truth = BetaGeoModel.from_params({"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5})
    >>> data = truth.simulate(np.full(2000, 39.0), random_state=0)
    >>> m = BetaGeoModel().fit(data["frequency"], data["recency"], data["T"])
    >>> list(m.params_.index)
    ['r', 'alpha', 'a', 'b']
    >>> round(float(m.p_alive(0, 0.0, 39.0)), 1)
    1.0

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: An alternative
    to the Pareto/NBD model. Marketing Science, 24(2), 275-284.
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    # 0 for BG/NBD (drop-out only after repeat purchases), 1 for MBG/NBD (also right after the first one)
    _shift: ClassVar[int] = 0

    def _subsample_rows(self, n_rows: int) -> int:
        # from 30,000 to 200,000 distinct rows a twentieth of them (at least 2,000): there the quasi-Newton
        # search on the subset is the fit's largest cost, and the Newton steps on all rows reach the same optimum
        # from a start a little further away; above, 10,000 rows as for every model
        return min(self._subsample_size, max(2_000, n_rows // 20))

    def _terms(self, params: np.ndarray, data: tuple[np.ndarray, ...]):
        r, alpha, a, b = params
        x, t_x, T = data[:3]
        xu, inv = by_count(data)
        s = self._shift
        rx = r + x
        la_T = np.log(alpha + T)
        la_tx = np.log(alpha + t_x)
        a1 = (special.gammaln(r + xu) - special.gammaln(r))[inv] + r * np.log(alpha)
        a2 = (special.betaln(a, b + xu + s) - special.betaln(a, b))[inv]
        a3 = -rx * la_T
        has4 = (x > 0) if s == 0 else np.ones_like(x, dtype=bool)
        bxu = np.where((xu > 0) | (s > 0), b + xu + s - 1, 1.0)
        bx = bxu[inv]
        a4 = np.where(has4, (np.log(a) - np.log(bxu))[inv] - rx * la_tx, -np.inf)
        m = np.maximum(a3, a4)
        e3 = np.exp(a3 - m)
        e4 = np.exp(a4 - m)
        tot = e3 + e4
        ll = a1 + a2 + m + np.log(tot)
        return ll, (r, alpha, a, b, x, rx, la_T, la_tx, bx, has4, e3 / tot, e4 / tot, xu, inv)

    def _loglik(self, params, data):
        return self._terms(params, data)[0]

    def _loglik_grad(self, params, data):
        ll, (r, alpha, a, b, x, rx, la_T, la_tx, bx, has4, w3, w4, xu, inv) = self._terms(params, data)
        s = self._shift
        g = np.empty((len(x), 4))
        g[:, 0] = (special.digamma(r + xu) - special.digamma(r))[inv] + np.log(alpha) - w3 * la_T - w4 * la_tx
        g[:, 1] = r / alpha - w3 * rx / (alpha + data[2]) - w4 * rx / (alpha + data[1])
        dab = (special.digamma(a + b) - special.digamma(a + b + xu + s))[inv]
        g[:, 2] = dab + w4 / a
        g[:, 3] = (dab + (special.digamma(b + xu + s) - special.digamma(b))[inv]
                   - np.where(has4, w4 / bx, 0.0))
        return ll, g

    # -- predictions ----------------------------------------------------------------------------------------
    def _log_odds_dead(self, x, t_x, T):
        r, alpha, a, b = self._params()
        s = self._shift
        has = (x > 0) if s == 0 else np.ones_like(x, dtype=bool)
        bx = np.where(has, b + x + s - 1, 1.0)
        lo = np.log(a) - np.log(bx) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(has, lo, -np.inf)

    def _p_alive(self, x, t_x, T):
        return special.expit(-self._log_odds_dead(x, t_x, T))

    def _expected_if_alive(self, t, x, t_x, T):
        r, alpha, a, b = self._params()
        s = self._shift
        c = a + b + x + s - 1
        with np.errstate(all="ignore"):
            h = hyp2f1_neg(r + x, a - 1, c, -t / (alpha + T))
            return c / (a - 1) * (1 - h)

    def _unconditional_expectation(self, t):
        zero = np.zeros_like(t)
        return self._conditional_expectation(t, zero, zero, zero)

    def _pmf(self, n, t):
        from scipy import stats  # imported when used: scipy.stats is slow to import

        r, alpha, a, b = self._params()
        s = self._shift
        p = alpha / (alpha + t)
        with np.errstate(all="ignore"):
            l1 = special.betaln(a, b + n + s) - special.betaln(a, b) + stats.nbinom.logpmf(n, r, p)
            has2 = (n > 0) if s == 0 else np.ones_like(n, dtype=bool)
            sf = np.where(n > 0, stats.nbinom.logsf(n - 1, r, p), 0.0)
            l2 = np.where(has2, special.betaln(a + 1, b + n + s - 1) - special.betaln(a, b) + sf, -np.inf)
        out = np.exp(np.logaddexp(l1, l2))
        return np.where(t > 0, out, (n == 0).astype(float))

    def simulate(self, T: Any, random_state: int | None = None) -> Any:
        """Draw customers from the fitted (or given) parameters: one row per value of ``T``.

        Returns a DataFrame with ``frequency``, ``recency`` and ``T``; used to check that fitting recovers the
        parameters it was given.
        """
        r, alpha, a, b = self._params()
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        T = np.asarray(T, dtype=float).reshape(-1)
        n = len(T)
        lam = rng.gamma(r, 1 / alpha, n)
        p = rng.beta(a, b, n)
        x = np.zeros(n)
        t_x = np.zeros(n)
        now = np.zeros(n)
        # MBG/NBD customers may drop out right after the first purchase
        active = rng.random(n) >= p if self._shift else np.ones(n, dtype=bool)
        while active.any():
            idx = np.flatnonzero(active)
            now[idx] += rng.exponential(1 / lam[idx])
            bought = now[idx] <= T[idx]
            done = idx[~bought]
            active[done] = False
            hit = idx[bought]
            x[hit] += 1
            t_x[hit] = now[hit]
            active[hit[rng.random(len(hit)) < p[hit]]] = False
        return _frame(x, t_x, T)

"""Time-invariant customer covariates for BG/NBD and Pareto/NBD (CLVTools-style log-linear links).

Each customer ``i`` with covariates ``z_i`` (acquisition channel, first order in a campaign, first order paid
with points, first category, ...) gets her own heterogeneity parameters:

* purchase side (both models): ``alpha_i = alpha * exp(-z_i' gamma_purchase)``; since the mean purchase rate is
  ``r / alpha_i``, a positive coefficient means *more* purchases;
* dropout side: BG/NBD ``a_i = a * exp(z_i' gamma_dropout)`` (mean dropout probability ``a_i / (a_i + b)``),
  Pareto/NBD ``beta_i = beta * exp(-z_i' gamma_dropout)`` (mean dropout rate ``s / beta_i``); a positive
  coefficient means customers *leave sooner*.

The likelihood is the plain model's likelihood with those per-customer parameters (rows with equal histories and
covariates are compressed); :class:`~ltvkit.models.BaseModel` maximises it with analytic gradients, starting from
the model without covariates, and its Hessian gives standard errors; :attr:`lr_test_` compares with that model. Predictions and next-purchase timing use each
customer's own parameters.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import special

from ..exceptions import InputError, StatisticalWarning
from ._base import BaseModel, _plain, check_is_fitted
from ._rfm_base import check_rfm
from ._special import hyp2f1_neg
from .beta_geo import BetaGeoModel
from .pareto_nbd import ParetoNBDModel
from .timing import next_purchase_timing, p_alive

__all__ = ["CovariateBetaGeoModel", "CovariateParetoNBDModel", "likelihood_ratio_test"]


def likelihood_ratio_test(ll_restricted: float, ll_full: float, df: int) -> dict[str, float]:
    """Likelihood-ratio test of nested models: statistic ``2 (LL_full - LL_restricted)`` against chi-square(df)."""
    from scipy import stats  # imported when used: scipy.stats is slow to import

    stat = max(0.0, 2.0 * (float(ll_full) - float(ll_restricted)))
    return {"statistic": stat, "df": int(df), "p_value": float(stats.chi2.sf(stat, df)) if df > 0 else float("nan"),
            "log_likelihood_restricted": float(ll_restricted), "log_likelihood_full": float(ll_full)}


class _Encoder:
    """Numeric design matrix from a frame: numbers and booleans as they are, text as dummies (most common level
    is the reference)."""

    def fit(self, covariates: Any) -> _Encoder:
        frame = _as_frame(covariates)
        self.columns_ = list(frame.columns)
        self.levels_: dict[str, list[Any]] = {}
        for col in frame.columns:
            s = frame[col]
            if s.isna().any():
                raise InputError(f"Covariate {col!r} has missing values ({int(s.isna().sum())} customers); fill them first.")
            if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
                counts = s.astype(str).value_counts()
                levels = sorted(counts.index.tolist(), key=lambda v: (-counts[v], v))
                self.levels_[col] = levels[1:]
        return self._set_names()

    def _set_names(self) -> _Encoder:
        self.names_: list[str] = []
        for col in self.columns_:
            if col in self.levels_:
                self.names_ += [f"{col}={lvl}" for lvl in self.levels_[col]]
            else:
                self.names_.append(str(col))
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [_plain(c) for c in self.columns_],
                "levels": [[_plain(c), list(v)] for c, v in self.levels_.items()]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Encoder:
        enc = cls()
        enc.columns_ = list(data["columns"])
        enc.levels_ = {c: list(v) for c, v in data["levels"]}
        return enc._set_names()

    def transform(self, covariates: Any) -> np.ndarray:
        frame = _as_frame(covariates)
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise InputError(f"Covariates {', '.join(map(str, missing))} are missing; pass the columns used in fit.")
        parts = []
        for col in self.columns_:
            s = frame[col]
            if col in self.levels_:
                txt = s.astype(str).to_numpy()
                parts += [(txt == lvl).astype(float) for lvl in self.levels_[col]]
            else:
                parts.append(np.asarray(s, dtype=float))
        z = np.column_stack(parts) if parts else np.zeros((len(frame), 0))
        if not np.all(np.isfinite(z)):
            raise InputError("Covariates must be finite numbers (fill or drop missing values first).")
        return z


def _as_frame(covariates: Any) -> pd.DataFrame:
    if isinstance(covariates, pd.DataFrame):
        return covariates.reset_index(drop=True)
    if isinstance(covariates, pd.Series):
        return covariates.to_frame().reset_index(drop=True)
    arr = np.asarray(covariates)
    if arr.ndim == 1:
        arr = arr[:, None]
    return pd.DataFrame(arr, columns=[f"z{i}" for i in range(arr.shape[1])])


_GL_X, _GL_W = np.polynomial.legendre.leggauss(32)


def _bgnbd_ll_grad(params, data):
    """BG/NBD log-likelihood per row and its gradient in (r, alpha, a, b); parameters may be per-row arrays."""
    r, alpha, a, b = params
    x, t_x, T = data
    rx = r + x
    la_T, la_tx = np.log(alpha + T), np.log(alpha + t_x)
    has4 = x > 0
    bx = np.where(has4, b + x - 1, 1.0)
    a3 = -rx * la_T
    a4 = np.where(has4, np.log(a) - np.log(bx) - rx * la_tx, -np.inf)
    m = np.maximum(a3, a4)
    e3, e4 = np.exp(a3 - m), np.exp(a4 - m)
    tot = e3 + e4
    w3, w4 = e3 / tot, e4 / tot
    ll = (special.gammaln(rx) - special.gammaln(r) + r * np.log(alpha) + special.betaln(a, b + x)
          - special.betaln(a, b) + m + np.log(tot))
    dg = special.digamma
    g = np.empty((len(x), 4))
    g[:, 0] = dg(rx) - dg(r) + np.log(alpha) - w3 * la_T - w4 * la_tx
    g[:, 1] = r / alpha - w3 * rx / (alpha + T) - w4 * rx / (alpha + t_x)
    dab = dg(a + b) - dg(a + b + x)
    g[:, 2] = dab + w4 / a
    g[:, 3] = dab + dg(b + x) - dg(b) - np.where(has4, w4 / bx, 0.0)
    return ll, g


def _pnbd_ll_grad(params, data):
    """Pareto/NBD log-likelihood per row and its gradient in (r, alpha, s, beta); ``alpha``, ``beta`` may be
    per-row arrays.

    ``L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [K + s I]`` with ``K = (alpha+T)^-(r+x) (beta+T)^-s`` and
    ``I = int_tx^T (alpha+y)^-(r+x) (beta+y)^-(s+1) dy``, integrated in ``v = ((alpha+tx)/(alpha+y))^(r+x+s)``
    (bounded integrand); derivatives of ``I`` are expectations over the same quadrature nodes.
    """
    r, alpha, s, beta = params
    x, t_x, T = data
    n = len(x)
    alpha = np.broadcast_to(alpha, (n,))
    beta = np.broadcast_to(beta, (n,))
    rx = r + x
    c = rx + s
    l_atx = np.log(alpha + t_x)
    la_T, lb_T = np.log(alpha + T), np.log(beta + T)
    log_K = -rx * la_T - s * lb_T
    # v = z^qe smooths the integrand near v = 0 (qe = c clipped to [1, 3])
    qe = np.clip(c, 1.0, 3.0)
    log_zT = c * (l_atx - la_T) / qe
    span = -np.expm1(log_zT)  # 1 - z_T
    z = np.exp(log_zT)[:, None] + span[:, None] * (_GL_X[None, :] + 1) / 2
    log_v = qe[:, None] * np.log(z)
    l_ay = l_atx[:, None] - log_v / c[:, None]  # log(alpha + y)
    ay = np.exp(l_ay)
    by = ay + (beta - alpha)[:, None]
    l_by = np.log(by)
    log_terms = (-rx[:, None] * l_ay - (s + 1) * l_by + l_ay - np.log(c)[:, None] - log_v
                 + np.log(qe)[:, None] + (qe[:, None] - 1) * np.log(z) + np.log(_GL_W / 2)[None, :])
    with np.errstate(divide="ignore"):
        log_I = np.log(span) + special.logsumexp(log_terms, axis=1)
    pi = np.exp(log_terms - special.logsumexp(log_terms, axis=1)[:, None])
    b2 = np.log(s) + log_I
    log_sum = np.logaddexp(log_K, b2)
    ll = special.gammaln(rx) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta) + log_sum
    q = np.exp(log_K - log_sum)
    q2 = 1 - q
    e_la = (pi * l_ay).sum(axis=1)
    e_lb = (pi * l_by).sum(axis=1)
    e_ia = (pi / ay).sum(axis=1)
    e_ib = (pi / by).sum(axis=1)
    g = np.empty((n, 4))
    g[:, 0] = special.digamma(rx) - special.digamma(r) + np.log(alpha) - q * la_T - q2 * e_la
    g[:, 1] = r / alpha - q * rx / (alpha + T) - q2 * rx * e_ia
    g[:, 2] = np.log(beta) - q * lb_T + q2 * (1 / s - e_lb)
    g[:, 3] = s / beta - q * s / (beta + T) - q2 * (s + 1) * e_ib
    return ll, g


class _CovariateModel(BaseModel):
    """Shared likelihood plumbing and reporting; subclasses give the base model and the links.

    The parameter vector is the base model's four parameters (positive, fitted on the log scale) followed by the
    purchase and the dropout coefficients (real line); ``_loglik_grad`` maps the gradient in each customer's own
    parameters back to that vector, and :class:`BaseModel` does the fitting, standard errors and persistence.
    """

    _base_cls: ClassVar[type[BaseModel]] = BetaGeoModel
    _ll_grad: ClassVar[Any] = None
    _timing: ClassVar[str] = ""
    _convergence_hints: ClassVar[tuple[str, ...]] = (
        "Drop covariates with very few customers in a level, or merge rare levels.",
        "Scale numeric covariates (e.g. yen in thousands) so coefficients are of order 1.",
        "Try penalizer=0.001.",
    )

    @property
    def _timing_kind(self) -> str:
        return self._timing

    # -- likelihood -----------------------------------------------------------------------------------------------
    def _parameter_names(self) -> list[str]:
        enc = getattr(self, "_encoder", None)
        if enc is None:
            raise InputError(f"{type(self).__name__}'s parameters follow its covariates; fit it, or restore a "
                             "fitted one with from_dict or load.")
        return [*self._param_names, *(f"purchase:{n}" for n in enc.names_), *(f"dropout:{n}" for n in enc.names_)]

    def _positive(self) -> np.ndarray:
        return np.arange(len(self._parameter_names())) < len(self._param_names)

    def _prepare(self, data):
        x, t_x, T = data[:3]
        z = np.column_stack(data[3:]) if len(data) > 3 else np.zeros((len(x), 0))
        return x, t_x, T, z

    def _initial_params(self, data, weights):
        return np.concatenate([self._start, np.zeros(data[3].shape[1] * 2)])

    def _row_params(self, params: np.ndarray, z: np.ndarray) -> list[Any]:  # pragma: no cover - abstract
        raise NotImplementedError  # abstract: each concrete class defines it

    def _chain(self, params: np.ndarray, z: np.ndarray, rp: list[Any], g: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _loglik_grad(self, params, data):
        x, t_x, T, z = data
        rp = self._row_params(params, z)
        with np.errstate(all="ignore"):
            ll, g = type(self)._ll_grad(rp, (x, t_x, T))
        return ll, self._chain(params, z, rp, g)

    def _loglik(self, params, data):
        return self._loglik_grad(params, data)[0]

    # -- fitting ------------------------------------------------------------------------------------------------
    def fit(self, frequency: Any, recency: Any, T: Any, covariates: Any, weights: Any = None) -> _CovariateModel:
        """Fit by maximum likelihood, starting from the model without covariates.

        Parameters
        ----------
        frequency, recency, T : array-like
            Customer histories (same time unit).
        covariates : pandas.DataFrame or array-like
            One row per customer; numeric and boolean columns are used as they are, text columns become
            dummies against their most common level.
        weights : array-like, optional
            Customers each row stands for.

        Returns
        -------
        self
        """
        x, t_x, t = check_rfm(frequency, recency, T)
        enc = _Encoder().fit(covariates)
        z = enc.transform(covariates)
        if len(z) != len(x):
            raise InputError(f"covariates has {len(z):,} rows but the data has {len(x):,} customers; pass one row each.")
        with warnings.catch_warnings():  # the base model's standard errors are not reported here
            warnings.simplefilter("ignore", StatisticalWarning)
            base = self._base_cls(penalizer=self.penalizer, tol=self.tol, maxiter=self.maxiter,
                                  random_state=self.random_state).fit(x, t_x, t, weights=weights)
        self._encoder = enc
        self._start = base.params_.to_numpy()
        try:
            self._fit([x, t_x, t, *z.T], weights)
        finally:
            self._start = None
        self.covariate_names_ = list(enc.names_)
        self.base_model_ = base
        self.lr_test_ = likelihood_ratio_test(base.log_likelihood_, self.log_likelihood_, 2 * z.shape[1])
        return self

    # -- reporting and persistence ----------------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Parameters and coefficients with standard errors, 95% intervals, z and p (LR test in ``.attrs``)."""
        frame = super().summary()
        k0 = len(self._param_names)
        z = np.full(len(frame), np.nan)
        z[k0:] = frame["coef"].to_numpy()[k0:] / frame["se(coef)"].to_numpy()[k0:]
        frame["z"] = z
        frame["p"] = 2 * special.ndtr(-np.abs(z))
        frame.attrs["lr_test_"] = self.lr_test_
        return frame

    def _repr_params(self) -> str:
        return (f"{len(self.covariate_names_)} covariates, LL {self.log_likelihood_:.1f}, "
                f"LR p={self.lr_test_['p_value']:.3g}")

    def _extra_to_dict(self) -> dict[str, Any]:
        return {"covariates": self._encoder.to_dict(), "lr_test": dict(self.lr_test_),
                "base_model": self.base_model_.to_dict()}

    def _extra_from_dict(self, extra: Any) -> None:
        self._encoder = _Encoder.from_dict(extra["covariates"])
        self.covariate_names_ = list(self._encoder.names_)
        self.lr_test_ = dict(extra["lr_test"])
        self.base_model_ = self._base_cls.from_dict(extra["base_model"])

    # -- predictions ----------------------------------------------------------------------------------------------
    def customer_params(self, covariates: Any) -> dict[str, np.ndarray]:
        """Each customer's own heterogeneity parameters (arrays), usable with :mod:`ltvkit.models.timing`."""
        check_is_fitted(self)
        z = self._encoder.transform(covariates)
        rp = self._row_params(self._params(), z)
        return {name: np.broadcast_to(np.asarray(v, float), (len(z),)).copy()
                for name, v in zip(self._param_names, rp, strict=True)}

    def p_alive(self, frequency: Any, recency: Any, T: Any, covariates: Any) -> np.ndarray:
        """Probability that each customer is alive at ``T``, with her covariates."""
        x, t_x, t = check_rfm(frequency, recency, T)
        return p_alive(self.customer_params(covariates), x, t_x, t, kind=self._timing)

    def next_purchase_timing(self, frequency: Any, recency: Any, T: Any, covariates: Any, **kwargs: Any) -> pd.DataFrame:
        """Next-purchase timing table (see :func:`ltvkit.models.timing.next_purchase_timing`) with covariates."""
        x, t_x, t = check_rfm(frequency, recency, T)
        return next_purchase_timing(self.customer_params(covariates), x, t_x, t, kind=self._timing, **kwargs)


class CovariateBetaGeoModel(_CovariateModel):
    """BG/NBD with time-invariant covariates on the purchase rate (via ``alpha``) and on dropout (via ``a``).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the log-parameters and coefficients.
    tol, maxiter, random_state
        Optimiser settings, as for :class:`~ltvkit.models.BetaGeoModel`.

    Attributes
    ----------
    params_ : pandas.Series
        ``r, alpha, a, b`` then ``purchase:<covariate>`` and ``dropout:<covariate>`` coefficients.
    standard_errors_, confidence_intervals_, variance_matrix_
        From the observed information (intervals on the log scale for ``r, alpha, a, b``).
    log_likelihood_, AIC_, BIC_, n_customers_, n_unique_rows_, n_iter_
        Fit statistics, as for every model.
    lr_test_ : dict
        Likelihood-ratio test against BG/NBD without covariates (``statistic``, ``df``, ``p_value``).
    base_model_ : BetaGeoModel
        The model without covariates.
    covariate_names_ : list of str
        Columns of the design matrix (text covariates as ``column=level``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ltvkit.models.covariates import CovariateBetaGeoModel
    >>> z = pd.DataFrame({"points_first": [0, 1, 0, 1, 0, 1]})
    >>> m = CovariateBetaGeoModel(penalizer=0.01).fit([0, 2, 5, 1, 3, 0], [0, 30, 35, 2, 20, 0],
    ...                                                 [38, 38, 38, 30, 36, 20], z)
    >>> list(m.params_.index[-2:])
    ['purchase:points_first', 'dropout:points_first']

    References
    ----------
    Fader, Hardie & Lee (2005), Marketing Science 24(2); Bachmann, Meierer & Näf (2021), CLVTools covariate
    specification.
    """

    _base_cls = BetaGeoModel
    _ll_grad = staticmethod(_bgnbd_ll_grad)
    _param_names = ("r", "alpha", "a", "b")
    _timing = "bgnbd"

    def _row_params(self, params, z):
        p = z.shape[1]
        r, alpha, a, b = params[:4]
        gp, gd = params[4:4 + p], params[4 + p:]
        return [r, alpha * np.exp(-(z @ gp)), a * np.exp(z @ gd), b]

    def _chain(self, params, z, rp, g):
        r, alpha_i, a_i, b = rp
        d_alpha = g[:, 1] * alpha_i  # d ll / d log alpha_i
        d_a = g[:, 2] * a_i
        return np.column_stack([g[:, 0], d_alpha / params[1], d_a / params[2], g[:, 3],
                                -d_alpha[:, None] * z, d_a[:, None] * z])

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any, covariates: Any) -> np.ndarray:
        """Expected purchases in the next ``t`` periods given history and covariates."""
        x, t_x, tt = check_rfm(frequency, recency, T)
        pr = self.customer_params(covariates)
        r, alpha, a, b = pr["r"], pr["alpha"], pr["a"], pr["b"]
        c = a + b + x - 1
        with np.errstate(all="ignore"):
            h = hyp2f1_neg(r + x, a - 1, c, -np.asarray(t, float) / (alpha + tt))
            value = c / (a - 1) * (1 - h)
        return value * p_alive(pr, x, t_x, tt, kind="bgnbd")


class CovariateParetoNBDModel(_CovariateModel):
    """Pareto/NBD with time-invariant covariates on the purchase rate (``alpha``) and the dropout rate (``beta``).

    Parameters
    ----------
    penalizer, tol, maxiter, random_state
        As for :class:`CovariateBetaGeoModel`.

    Attributes
    ----------
    params_ : pandas.Series
        ``r, alpha, s, beta`` then ``purchase:<covariate>`` and ``dropout:<covariate>`` coefficients.
    standard_errors_, confidence_intervals_, variance_matrix_, log_likelihood_, AIC_, BIC_, lr_test_,
    base_model_, covariate_names_
        As for :class:`CovariateBetaGeoModel` (``base_model_`` is a ParetoNBDModel).

    References
    ----------
    Schmittlein, Morrison & Colombo (1987); Fader & Hardie (2007) "Incorporating time-invariant covariates into
    the Pareto/NBD and BG/NBD models".
    """

    _base_cls = ParetoNBDModel
    _ll_grad = staticmethod(_pnbd_ll_grad)
    _param_names = ("r", "alpha", "s", "beta")
    _timing = "pnbd"

    def _row_params(self, params, z):
        p = z.shape[1]
        r, alpha, s, beta = params[:4]
        gp, gd = params[4:4 + p], params[4 + p:]
        return [r, alpha * np.exp(-(z @ gp)), s, beta * np.exp(-(z @ gd))]

    def _chain(self, params, z, rp, g):
        r, alpha_i, s, beta_i = rp
        d_alpha = g[:, 1] * alpha_i  # d ll / d log alpha_i
        d_beta = g[:, 3] * beta_i
        return np.column_stack([g[:, 0], d_alpha / params[1], g[:, 2], d_beta / params[3],
                                -d_alpha[:, None] * z, -d_beta[:, None] * z])

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any, covariates: Any) -> np.ndarray:
        """Expected purchases in the next ``t`` periods given history and covariates."""
        x, t_x, tt = check_rfm(frequency, recency, T)
        pr = self.customer_params(covariates)
        r, alpha, s, beta = pr["r"], pr["alpha"], pr["s"], pr["beta"]
        lg = np.log1p(np.asarray(t, float) / (beta + tt))
        sm1 = s - 1
        with np.errstate(all="ignore"):
            frac = np.where(np.abs(sm1) < 1e-8, lg, -special.expm1(-sm1 * lg) / np.where(sm1 == 0, 1, sm1))
        return (r + x) * (beta + tt) / (alpha + tt) * frac * p_alive(pr, x, t_x, tt, kind="pnbd")

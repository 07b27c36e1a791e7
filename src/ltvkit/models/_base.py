"""BaseModel: maximum likelihood on compressed data, log-parameters, Hessian-based uncertainty, summary.

A concrete model declares ``_param_names`` and its per-row log-likelihood ``_loglik(params, data)``
(natural-scale parameters, one value per row). It may also define ``_loglik_grad(params, data)`` returning the
per-row log-likelihood and its gradient with respect to the natural parameters (rows x k); without it the base
class uses central finite differences on the log-parameters.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from textwrap import dedent
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..exceptions import ConvergenceError, InputError, NotFittedError, StatisticalWarning

__all__ = ["BaseModel", "check_is_fitted"]

Data = tuple[np.ndarray, ...]


def check_is_fitted(model: Any) -> None:
    """Raise :class:`~ltvkit.NotFittedError` when ``model`` has not been fitted (scikit-learn's message)."""
    if getattr(model, "params_", None) is None:
        raise NotFittedError(
            f"This {type(model).__name__} instance is not fitted yet. "
            "Call 'fit' with appropriate arguments first."
        )


def as_float_array(name: str, values: Any, *, allow_negative: bool = False) -> np.ndarray:
    """A 1-d float array with one clear sentence when values are missing, infinite or negative."""
    if hasattr(values, "execute") and hasattr(values, "op"):
        # An Ibis column executes on its own, in no fixed row order, so two columns would not line up.
        raise InputError(
            f"{name} is an unexecuted Ibis column; collect the summary first, e.g. rfm_summary(orders).to_pandas()."
        )
    arr = np.asarray(values, dtype=float).reshape(-1) if not np.isscalar(values) else np.array([float(values)])
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(_describe(name, bad, "are missing or infinite"))
    if not allow_negative:
        neg = arr < 0
        if neg.any():
            raise InputError(_describe(name, neg, "are negative"))
    return arr


def _describe(name: str, mask: np.ndarray, what: str) -> str:
    idx = np.flatnonzero(mask)
    return f"Some values in {name} {what} ({len(idx):,} rows, e.g. row {idx[0]}); fix or drop those rows."


def wrap_output(values: np.ndarray, *inputs: Any) -> Any:
    """Return a float for scalar inputs, a Series (keeping the index) for Series inputs, else an array."""
    for x in inputs:
        if isinstance(x, pd.Series) and len(x) == np.size(values):
            return pd.Series(np.asarray(values).reshape(-1), index=x.index)
    if all(np.ndim(x) == 0 for x in inputs) and np.size(values) == 1:
        return float(np.asarray(values).reshape(-1)[0])
    return values


def compress(columns: Sequence[np.ndarray], weights: np.ndarray | None) -> tuple[Data, np.ndarray]:
    """Unique rows of ``columns`` with summed weights (the sufficient statistics of the likelihood)."""
    n = len(columns[0])
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    if len(w) != n:
        raise InputError(f"weights has {len(w):,} values but the data has {n:,} rows; pass one weight per row.")
    if (w < 0).any() or not np.isfinite(w).all():
        raise InputError(_describe("weights", (w < 0) | ~np.isfinite(w), "are negative or missing"))
    packed = _pack_integer_columns(columns)
    if packed is not None:
        codes, uniques = pd.factorize(packed, sort=False)
        summed = np.bincount(codes, weights=w, minlength=len(uniques))
        keep = summed > 0
        uniques = uniques[keep]
        data = tuple(((uniques >> (21 * (len(columns) - 1 - i))) & _MASK).astype(float) for i in range(len(columns)))
        return data, summed[keep]
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(columns)})
    frame["_w"] = w
    grouped = frame.groupby([f"c{i}" for i in range(len(columns))], sort=False, as_index=False)["_w"].sum()
    grouped = grouped[grouped["_w"] > 0]
    data = tuple(grouped[f"c{i}"].to_numpy(dtype=float) for i in range(len(columns)))
    return data, grouped["_w"].to_numpy(dtype=float)


_MASK = (1 << 21) - 1


def _pack_integer_columns(columns: Sequence[np.ndarray]) -> np.ndarray | None:
    """One int64 key per row when up to three columns hold whole numbers below 2**21 (daily data), else None."""
    if len(columns) > 3 or len(columns[0]) < 10_000:
        return None
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for c in columns:
        c = np.asarray(c)
        if c.min() < 0 or c.max() > _MASK:
            return None
        ci = c.astype(np.int64)
        if not np.array_equal(ci, c):
            return None
        key = (key << 21) | ci
    return key


def _weighted_subsample(w: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """About ``size`` rows drawn with probability proportional to their weight (capped at 1), reweighted by
    the inverse probability: heavy rows (e.g. the many identical one-off buyers) are always kept, so the
    subset's log-likelihood is a far less noisy estimate of the whole than a uniform draw of unique rows."""
    rng = np.random.default_rng(0)
    c = size / float(w.sum())
    for _ in range(20):  # scale so that the expected sample size is ``size`` once heavy rows are capped
        p = np.minimum(1.0, c * w)
        expected = float(p.sum())
        if expected >= 0.98 * size:
            break
        c *= size / max(expected, 1.0)
    idx = np.flatnonzero(rng.random(len(w)) < p)
    return idx, w[idx] / p[idx]


class BaseModel:
    """Maximum-likelihood base for the customer-base models.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the log-parameters, added to the mean negative log-likelihood. Small values (0.001)
        help when a parameter runs off to zero or infinity on small or odd data sets.
    tol : float, default 1e-8
        Gradient tolerance of the optimiser (on the mean log-likelihood per customer).
    maxiter : int, default 2000
        Maximum optimiser iterations.
    random_state : int or None, default None
        Seed used by :meth:`simulate` style helpers; fitting is deterministic.

    Attributes
    ----------
    params_ : pandas.Series
        Fitted parameters with the papers' names.
    log_likelihood_ : float
        Total log-likelihood at ``params_`` (comparable with the published values).
    variance_matrix_ : pandas.DataFrame
        Inverse observed information (natural parameter scale).
    standard_errors_ : pandas.Series
        Square roots of the diagonal of ``variance_matrix_``.
    confidence_intervals_ : pandas.DataFrame
        95% intervals, computed on the log scale so they stay positive.
    AIC_, BIC_ : float
        Information criteria (BIC uses the number of customers, the sum of weights).
    n_customers_ : float
        Sum of weights seen in ``fit``.
    n_unique_rows_ : int
        Rows left after compressing identical customers.
    n_iter_ : int
        Optimiser iterations.
    """

    _param_names: ClassVar[tuple[str, ...]] = ()
    _optimizer: ClassVar[str] = "BFGS"
    _convergence_hints: ClassVar[tuple[str, ...]] = (
        "Try penalizer=0.001 to keep the parameters away from zero and infinity.",
        "Check the inputs: do recency and T use the same time unit, and is recency <= T for every customer?",
        "Try a coarser time unit (freq='W' instead of 'D') when T is in the thousands.",
    )

    def __init__(self, penalizer: float = 0.0, tol: float = 1e-8, maxiter: int = 2000,
                 random_state: int | None = None) -> None:
        self.penalizer = penalizer
        self.tol = tol
        self.maxiter = maxiter
        self.random_state = random_state

    # -- hooks ----------------------------------------------------------------------------------------------
    def _loglik(self, params: np.ndarray, data: Data) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError  # abstract: each concrete class defines it

    def _loglik_grad(self, params: np.ndarray, data: Data) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError  # abstract and optional: without it the fit uses numerical gradients

    def _initial_params(self, data: Data, weights: np.ndarray) -> np.ndarray:
        return np.ones(len(self._param_names))

    @property
    def _has_gradient(self) -> bool:
        return type(self)._loglik_grad is not BaseModel._loglik_grad

    # -- construction from known parameters -----------------------------------------------------------------
    @classmethod
    def from_params(cls, params: Mapping[str, float] | Sequence[float], **kwargs: Any) -> BaseModel:
        """A model with given parameters (e.g. published ones), ready to predict; no standard errors."""
        model = cls(**kwargs)
        if isinstance(params, Mapping):
            missing = [p for p in cls._param_names if p not in params]
            if missing:
                raise InputError(f"{cls.__name__} needs parameters {', '.join(cls._param_names)}; missing {', '.join(missing)}.")
            values = [float(params[p]) for p in cls._param_names]
        else:
            values = [float(v) for v in params]
        if len(values) != len(cls._param_names) or min(values) <= 0:
            raise InputError(f"{cls.__name__} needs {len(cls._param_names)} positive parameters {cls._param_names}.")
        model.params_ = pd.Series(values, index=list(cls._param_names), dtype=float)
        return model

    # -- fitting ------------------------------------------------------------------------------------------------
    def _objective(self, data: Data, w: np.ndarray) -> Any:
        n_total = float(w.sum())
        k = len(self._param_names)
        penalizer = float(self.penalizer)

        def objective(logp: np.ndarray) -> tuple[float, np.ndarray]:
            params = np.exp(logp)
            if self._has_gradient:
                ll, g = self._loglik_grad(params, data)
                # einsum, not BLAS: a threaded gemv on a busy machine is several times slower here
                value = -float(np.einsum("i,i->", w, ll)) / n_total
                grad = -np.einsum("i,ij->j", w, g) * params / n_total
            else:
                value = -float(np.einsum("i,i->", w, self._loglik(params, data))) / n_total
                grad = self._fd_gradient(logp, data, w) / n_total
            value += penalizer * float(logp @ logp)
            grad = grad + 2 * penalizer * logp
            if not np.isfinite(value) or not np.all(np.isfinite(grad)):
                return 1e300, np.zeros(k)
            return value, grad

        return objective

    def _fit(self, columns: Sequence[np.ndarray], weights: Any = None) -> BaseModel:
        data, w = compress(columns, weights)
        if w.sum() <= 0:
            raise InputError(f"{type(self).__name__}.fit needs at least one customer.")
        data = self._prepare(data)
        n_total = float(w.sum())
        k = len(self._param_names)
        objective = self._objective(data, w)
        x0 = np.log(np.asarray(self._initial_params(data, w), dtype=float))
        with np.errstate(all="ignore"):
            if len(w) > self._subsample_above:
                # Warm start: fit a random subset of the unique rows, then Newton steps on all rows using the
                # subset's Hessian (the objective is a mean, so the curvature carries over).
                idx, w_sub = _weighted_subsample(w, self._subsample_size)
                sub = self._prepare(tuple(c[idx] for c in data[:len(columns)]))
                sub_obj = self._objective(sub, w_sub)
                res = optimize.minimize(sub_obj, x0, jac=True, method=self._optimizer,
                                        options=self._optimizer_options(gtol=1e-6))
                x = res.x
                hess = self._hessian(sub_obj, x)
            else:
                res = optimize.minimize(objective, x0, jac=True, method=self._optimizer,
                                        options=self._optimizer_options(gtol=1e-6))
                x = res.x
                hess = self._hessian(objective, x)
            x, value, grad = self._newton(objective, x, hess)
            if np.max(np.abs(grad)) > max(self.tol, 1e-7):
                res = optimize.minimize(objective, x, jac=True, method=self._optimizer,
                                        options=self._optimizer_options(gtol=self.tol))
                x, value, grad = self._newton(objective, res.x, self._hessian(objective, res.x))
            hess = self._hessian(objective, x, grad)
        gnorm = float(np.max(np.abs(grad))) if len(grad) else 0.0
        if not np.isfinite(value) or value >= 1e299 or gnorm > max(1e-3, 100 * self.tol) or not np.all(np.isfinite(x)):
            raise ConvergenceError(self._convergence_message(res.message, gnorm))
        params = np.exp(x)
        self.params_ = pd.Series(params, index=list(self._param_names), dtype=float)
        with np.errstate(all="ignore"):
            self.log_likelihood_ = float(w @ self._loglik(params, data))
        self.n_customers_ = n_total
        self.n_unique_rows_ = int(len(w))
        self.n_iter_ = int(getattr(res, "nit", 0))
        self.AIC_ = 2 * k - 2 * self.log_likelihood_
        self.BIC_ = k * math.log(n_total) - 2 * self.log_likelihood_
        self._set_uncertainty(hess * n_total - 2 * float(self.penalizer) * n_total * np.eye(k), params)
        return self

    _subsample_above: ClassVar[int] = 30_000
    _subsample_size: ClassVar[int] = 10_000

    def _prepare(self, data: Data) -> Data:
        """Hook: add derived arrays (e.g. unique purchase counts) to the compressed data once per fit."""
        return data

    def _newton(self, objective: Any, x: np.ndarray, hess: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        value, grad = objective(x)
        for _ in range(25):
            if np.max(np.abs(grad)) <= self.tol:
                break
            try:
                step = np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(step)) or grad @ step <= 0:
                break
            t = 1.0
            for _ in range(20):
                tv, tg = objective(x - t * step)
                if np.isfinite(tv) and tv <= value + 1e-4 * t * float(grad @ -step) + 1e-15:
                    break
                t /= 2
            else:
                break
            # BFGS update of the Hessian: the subset's curvature is refined by the steps on all rows
            sk, yk = -t * step, tg - grad
            if float(yk @ sk) > 1e-12:
                hs = hess @ sk
                hess = hess - np.outer(hs, hs) / float(sk @ hs) + np.outer(yk, yk) / float(yk @ sk)
            x, value, grad = x - t * step, tv, tg
        return x, value, grad

    def _optimizer_options(self, gtol: float) -> dict[str, Any]:
        if self._optimizer == "L-BFGS-B":
            return {"maxiter": self.maxiter, "ftol": 1e-15, "gtol": gtol, "maxcor": 20}
        return {"maxiter": self.maxiter, "gtol": gtol}

    def _fd_gradient(self, logp: np.ndarray, data: Data, w: np.ndarray) -> np.ndarray:
        grad = np.empty(len(logp))
        for i in range(len(logp)):
            h = 1e-6 * max(1.0, abs(logp[i]))
            up, down = logp.copy(), logp.copy()
            up[i] += h
            down[i] -= h
            f_up = -float(w @ self._loglik(np.exp(up), data))
            f_down = -float(w @ self._loglik(np.exp(down), data))
            grad[i] = (f_up - f_down) / (2 * h)
        return grad

    @staticmethod
    def _hessian(objective: Any, x: np.ndarray, g0: np.ndarray | None = None) -> np.ndarray:
        """Forward differences of the analytic gradient (k extra gradient evaluations)."""
        k = len(x)
        hess = np.empty((k, k))
        g0 = objective(x)[1] if g0 is None else g0
        for i in range(k):
            h = 1e-5 * max(1.0, abs(x[i]))
            up = x.copy()
            up[i] += h
            hess[i] = (objective(up)[1] - g0) / h
        return (hess + hess.T) / 2

    def _set_uncertainty(self, hess_log: np.ndarray, params: np.ndarray) -> None:
        names = list(self._param_names)
        try:
            cov_log = np.linalg.inv(hess_log)
            ok = np.all(np.isfinite(cov_log)) and np.all(np.diag(cov_log) > 0)
        except np.linalg.LinAlgError:
            ok = False
        if not ok:
            warnings.warn(
                f"{type(self).__name__}: the Hessian is singular at the optimum, so standard errors are not "
                "available; a parameter may be at a boundary (try penalizer=0.001).",
                StatisticalWarning, stacklevel=3)
            cov_log = np.full((len(names), len(names)), np.nan)
        jac = np.diag(params)
        cov = jac @ cov_log @ jac
        self.variance_matrix_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=names, name="se(coef)")
        z = stats.norm.ppf(0.975)
        se_log = np.sqrt(np.diag(cov_log))
        self.confidence_intervals_ = pd.DataFrame(
            {"lower 95% bound": np.exp(np.log(params) - z * se_log),
             "upper 95% bound": np.exp(np.log(params) + z * se_log)}, index=names)

    def _convergence_message(self, reason: Any, gnorm: float) -> str:
        hints = "\n".join(f"{i}. {h}" for i, h in enumerate(self._convergence_hints, 1))
        return dedent(f"""\
            {type(self).__name__} did not converge (optimiser: {reason}; largest gradient {gnorm:.3g}). What to try:
            """) + hints

    # -- reporting --------------------------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Parameters with standard errors and 95% intervals (log-likelihood, AIC, BIC in ``.attrs``)."""
        check_is_fitted(self)
        se = getattr(self, "standard_errors_", pd.Series(np.nan, index=self.params_.index))
        ci = getattr(self, "confidence_intervals_", None)
        frame = pd.DataFrame({"coef": self.params_, "se(coef)": se})
        if ci is not None:
            frame = frame.join(ci)
        frame.index.name = "param"
        frame.attrs.update({k: getattr(self, k) for k in ("log_likelihood_", "AIC_", "BIC_", "n_customers_")
                            if hasattr(self, k)})
        return frame

    def __repr__(self) -> str:
        name = type(self).__name__
        if getattr(self, "params_", None) is None:
            return f"<ltvkit.{name}: not fitted>"
        params = ", ".join(f"{k}: {v:.2f}" for k, v in self.params_.items())
        n = getattr(self, "n_customers_", None)
        fitted = f"fitted with {n:,.0f} customers, " if n is not None else ""
        return f"<ltvkit.{name}: {fitted}{params}>"

    def _params(self) -> np.ndarray:
        check_is_fitted(self)
        return self.params_.to_numpy(dtype=float)

    # -- persistence ------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Model class, settings and fitted values as plain JSON-able data."""
        check_is_fitted(self)
        out: dict[str, Any] = {
            "model": type(self).__name__,
            "settings": {k: getattr(self, k) for k in ("penalizer", "tol", "maxiter", "random_state")},
            "params": {k: float(v) for k, v in self.params_.items()},
        }
        for attr in ("log_likelihood_", "AIC_", "BIC_", "n_customers_"):
            if hasattr(self, attr):
                out[attr] = float(getattr(self, attr))
        if hasattr(self, "variance_matrix_"):
            out["variance_matrix"] = self.variance_matrix_.to_numpy().tolist()
        return out

    def save(self, path: str | Path) -> None:
        """Write the fitted model as JSON (no pickles, so files are safe to share)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> BaseModel:
        """Read a model written by :meth:`save`."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("model") != cls.__name__:
            raise InputError(f"{path} holds a {data.get('model')}, not a {cls.__name__}; load it with that class.")
        model = cls.from_params(data["params"], **data.get("settings", {}))
        for attr in ("log_likelihood_", "AIC_", "BIC_", "n_customers_"):
            if attr in data:
                setattr(model, attr, data[attr])
        if "variance_matrix" in data:
            names = list(cls._param_names)
            cov = np.asarray(data["variance_matrix"], dtype=float)
            model.variance_matrix_ = pd.DataFrame(cov, index=names, columns=names)
            model.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=names, name="se(coef)")
        return model

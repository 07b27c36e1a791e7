"""BaseModel: maximum likelihood on compressed data, Hessian-based uncertainty, summary and persistence.

A concrete model declares ``_param_names`` and its per-row log-likelihood ``_loglik(params, data)``
(natural-scale parameters, one value per row), and its ``fit`` validates the inputs and calls ``_fit``. It should
also define ``_loglik_grad(params, data)`` returning the per-row log-likelihood and its gradient with respect to
the natural parameters (rows x k); without it the base class uses central finite differences of ``_loglik``
(:meth:`BaseModel._fd_gradient`, 2k likelihood evaluations per gradient). Positive parameters are fitted on the
log scale; a model with real-valued parameters (regression coefficients, a mean) says which in ``_positive``.
"""

from __future__ import annotations

import inspect
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from textwrap import dedent
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize, special

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
    try:
        arr = np.asarray(values, dtype=float).reshape(-1) if not np.isscalar(values) else np.array([float(values)])
    except (TypeError, ValueError):
        raise InputError(f"{name} must hold numbers; some values are not ({str(values)[:60]!r}).") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(_describe(name, bad, "are missing or infinite"))
    if not allow_negative:
        neg = arr < 0
        if neg.any():
            raise InputError(_describe(name, neg, "are negative"))
    return arr


def horizons(t: Any, n: int) -> np.ndarray:
    """Prediction horizons ``t`` (one for all ``n`` customers, or one each; for a single customer, any number of
    horizons) as floats, with one clear sentence when they are not numbers, negative, or neither one nor ``n``
    of them."""
    arr = as_float_array("t", t)
    if arr.size == 1:
        return np.full(n, float(arr[0]))
    if arr.size != n and n != 1:
        raise InputError(f"t has {arr.size:,} values for {n:,} customers; pass one horizon, or one per customer.")
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


def distinct_rows(*cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first index of each distinct row of the columns (in lexicographic order) and each row's index into
    them: what ``np.unique(np.column_stack(cols), axis=0, return_inverse=True)`` gives, by one ``lexsort``
    instead of a sort of packed rows (several times faster on 100,000s of rows)."""
    order = np.lexsort(cols[::-1])
    new = np.zeros(len(order), dtype=bool)
    new[:1] = True
    for c in cols:
        sc = c[order]
        new[1:] |= sc[1:] != sc[:-1]
    inv = np.empty(len(order), dtype=np.intp)
    inv[order] = np.cumsum(new) - 1
    return order[new], inv


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


def _weighted_subsample(w: np.ndarray, size: int, random_state: int | None) -> tuple[np.ndarray, np.ndarray]:
    """About ``size`` rows drawn with probability proportional to their weight (capped at 1), reweighted by
    the inverse probability: heavy rows (e.g. the many identical one-off buyers) are always kept, so the
    subset's log-likelihood is a far less noisy estimate of the whole than a uniform draw of unique rows.
    ``random_state`` seeds the draw (None: seed 0, so that a refit gives the same numbers)."""
    rng = np.random.default_rng(0 if random_state is None else random_state)
    c = size / float(w.sum())
    for _ in range(20):  # scale so that the expected sample size is ``size`` once heavy rows are capped
        p = np.minimum(1.0, c * w)
        expected = float(p.sum())
        if expected >= 0.98 * size:
            break
        c *= size / max(expected, 1.0)
    idx = np.flatnonzero(rng.random(len(w)) < p)
    return idx, w[idx] / p[idx]


class _Transform:
    """Map between the optimiser's unconstrained vector and the natural parameters: positive parameters are
    ``exp(x)``, the others (regression coefficients, a mean) ``scale * x``."""

    def __init__(self, positive: np.ndarray, scale: np.ndarray) -> None:
        self.positive = np.asarray(positive, dtype=bool)
        self.scale = np.asarray(scale, dtype=float)

    def natural(self, x: np.ndarray) -> np.ndarray:
        return np.where(self.positive, np.exp(np.where(self.positive, x, 0.0)), self.scale * x)

    def internal(self, params: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.positive, np.log(np.where(self.positive, params, 1.0)), params / self.scale)

    def jacobian(self, params: np.ndarray) -> np.ndarray:
        """d natural / d x, elementwise."""
        return np.where(self.positive, params, self.scale)


class BaseModel:
    """Maximum-likelihood base for every ltvkit model.

    A concrete model gives its per-row log-likelihood (and, where it can, the gradient) and its ``fit``, which
    validates the inputs and calls ``_fit``; this class does the rest: compression of identical rows, one
    optimiser (BFGS on the log of positive parameters, then Newton steps), convergence checks, the Hessian's
    standard errors and intervals, ``summary``, ``repr`` and persistence.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the log-parameters (and on regression coefficients), added to the mean negative
        log-likelihood. Small values (0.001) help when a parameter runs off to zero or infinity on small or odd
        data sets.
    tol : float, default 1e-8
        Gradient tolerance of the optimiser (on the mean log-likelihood per customer).
    maxiter : int, default 2000
        Maximum optimiser iterations.
    random_state : int or None, default None
        Seed of the weighted random subset that warm-starts fits on more than 30,000 distinct rows (None: seed
        0, so a refit gives the same numbers) and the default seed of ``simulate``.

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
        95% intervals; for positive parameters computed on the log scale so they stay positive.
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
    _subsample_above: ClassVar[int] = 30_000
    _subsample_size: ClassVar[int] = 10_000
    #: Distinct rows per part of the likelihood in a fit (bounded memory on millions of distinct rows)
    _fit_part_rows: ClassVar[int] = 50_000
    #: Set on an instance fitted only to be compared (model choice, the regularity order): no warning about its
    #: standard errors. A flag on the model, not ``warnings.catch_warnings``, which changes the process's filters.
    _quiet: bool = False
    #: Set to ``False`` on an instance whose standard errors nobody reads (the pipeline's scoring, model choice):
    #: the fit then skips the Hessian at the optimum (k more gradient evaluations on all rows) and
    #: ``variance_matrix_``, ``standard_errors_`` and ``confidence_intervals_`` are NaN.
    _standard_errors: bool = True

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

    def _loglik_grad_hess(self, params: np.ndarray, data: Data,
                          weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Optional: per-row log-likelihood and gradient, and the ``weights``-weighted sum of the rows' Hessians
        (natural parameters). With it the Newton steps and the standard errors use the exact Hessian instead of
        a quasi-Newton update and finite differences of the gradient."""
        raise NotImplementedError

    def _initial_params(self, data: Data, weights: np.ndarray) -> np.ndarray:
        return np.ones(len(self._parameter_names()))

    def _parameter_names(self) -> list[str]:
        """Names of the parameters, in the order of ``_loglik``'s vector (a hook for data-dependent names)."""
        return list(self._param_names)

    def _positive(self) -> np.ndarray:
        """Which parameters are positive (fitted on the log scale); the others are on the real line."""
        return np.ones(len(self._parameter_names()), dtype=bool)

    def _parameter_scale(self, data: Data, weights: np.ndarray) -> np.ndarray:
        """Typical size of the real-line parameters, so the optimiser sees them at order 1 (hook)."""
        return np.ones(len(self._parameter_names()))

    def _prepare(self, data: Data) -> Data:
        """Hook: add derived arrays (e.g. unique purchase counts) to the compressed data once per fit."""
        return data

    def _subsample_rows(self, n_rows: int) -> int:
        """Rows of the warm-start subsample for a fit on ``n_rows`` distinct rows (hook)."""
        return self._subsample_size

    def _set_derived(self) -> None:
        """Hook: attributes that follow from ``params_`` (called after ``fit`` and after ``from_dict``)."""

    @property
    def _has_gradient(self) -> bool:
        return type(self)._loglik_grad is not BaseModel._loglik_grad

    @property
    def _has_hessian(self) -> bool:
        return type(self)._loglik_grad_hess is not BaseModel._loglik_grad_hess

    # -- construction from known parameters -----------------------------------------------------------------
    @classmethod
    def from_params(cls, params: Mapping[str, float] | Sequence[float], **kwargs: Any) -> BaseModel:
        """A model with given parameters (e.g. published ones), ready to predict; no standard errors."""
        model = cls(**kwargs)
        names = model._parameter_names()
        if isinstance(params, Mapping):
            missing = [p for p in names if p not in params]
            if missing:
                raise InputError(f"{cls.__name__} needs parameters {', '.join(names)}; missing {', '.join(missing)}.")
            values = np.array([float(params[p]) for p in names])
        else:
            values = np.array([float(v) for v in params])
        positive = model._positive()
        if len(values) != len(names) or not np.all(np.isfinite(values)) or np.any(values[positive] <= 0):
            which = [n for n, pos in zip(names, positive, strict=True) if pos]
            raise InputError(f"{cls.__name__} needs {len(names)} finite parameters {tuple(names)}, "
                             f"of which {', '.join(which)} positive.")
        model.params_ = pd.Series(values, index=names, dtype=float)
        model._set_derived()
        return model

    # -- fitting ------------------------------------------------------------------------------------------------
    def _objective(self, data: Data, w: np.ndarray, tf: _Transform) -> Any:
        """Mean negative log-likelihood per customer (plus the penalty) and its gradient in the optimiser's
        coordinates. Models without ``_loglik_grad`` get central finite differences of ``_loglik`` here."""
        n_total = float(w.sum())
        k = len(tf.positive)
        penalizer = float(self.penalizer)

        def objective(x: np.ndarray, hess: bool = False) -> Any:
            """``(value, gradient)``, or with ``hess`` (models with ``_loglik_grad_hess``) ``(value, gradient,
            Hessian)`` in the optimiser's coordinates."""
            params = tf.natural(x)
            h = None
            if hess:
                ll, g, h_sum = self._loglik_grad_hess(params, data, w)
            elif self._has_gradient:
                ll, g = self._loglik_grad(params, data)
            if hess or self._has_gradient:
                # einsum, not BLAS: a threaded gemv on a busy machine is several times slower here
                value = -float(np.einsum("i,i->", w, ll)) / n_total
                g_sum = np.einsum("i,ij->j", w, g)
                jac = tf.jacobian(params)
                grad = -g_sum * jac / n_total
                if hess:
                    # d2/dx2 of a natural parameter: exp(x) for positive ones, 0 for scaled ones
                    curve = np.where(tf.positive, params, 0.0)
                    h = -(np.outer(jac, jac) * h_sum + np.diag(curve * g_sum)) / n_total + 2 * penalizer * np.eye(k)
            else:
                value = -float(np.einsum("i,i->", w, self._loglik(params, data))) / n_total
                grad = self._fd_gradient(x, data, w, tf) / n_total
            value += penalizer * float(x @ x)
            grad = grad + 2 * penalizer * x
            if not np.isfinite(value) or not np.all(np.isfinite(grad)) or (h is not None and not np.all(np.isfinite(h))):
                return (1e300, np.zeros(k), np.full((k, k), np.nan)) if hess else (1e300, np.zeros(k))
            return (value, grad, h) if hess else (value, grad)

        return objective

    def _objective_in_parts(self, raw: Data, data: Data, w: np.ndarray, tf: _Transform) -> tuple[Any, list]:
        """The objective of :meth:`_objective` over all rows, evaluated ``_fit_part_rows`` distinct rows at a
        time when there are more (the likelihood's temporaries then stay the size of a part, whatever the
        number of customers), with the prepared parts and their weights. Each part's objective is its mean plus
        the penalty; weighted by its share of the customers they add up to the whole mean plus the penalty."""
        n = len(w)
        if n <= self._fit_part_rows:
            return self._objective(data, w, tf), [(data, w)]
        parts = [(self._prepare(tuple(c[i:i + self._fit_part_rows] for c in raw)), w[i:i + self._fit_part_rows])
                 for i in range(0, n, self._fit_part_rows)]
        n_total = float(w.sum())
        funcs = [(self._objective(pd_, pw, tf), float(pw.sum()) / n_total) for pd_, pw in parts if pw.sum() > 0]

        def objective(x: np.ndarray, hess: bool = False) -> Any:
            k = len(x)
            value, grad, h = 0.0, np.zeros(k), np.zeros((k, k))
            for f, share in funcs:
                out = f(x, hess)
                if out[0] >= 1e300:
                    return (1e300, np.zeros(k), np.full((k, k), np.nan)) if hess else (1e300, np.zeros(k))
                value += share * out[0]
                grad = grad + share * out[1]
                if hess:
                    h = h + share * out[2]
            return (value, grad, h) if hess else (value, grad)

        return objective, parts

    def _fit(self, columns: Sequence[np.ndarray], weights: Any = None) -> BaseModel:
        """Compress ``columns`` to unique rows, maximise the likelihood and set every fitted attribute."""
        raw, w = compress(columns, weights)
        if w.sum() <= 0:
            raise InputError(f"{type(self).__name__}.fit needs at least one customer.")
        data = self._prepare(raw)
        n_total = float(w.sum())
        names = self._parameter_names()
        k = len(names)
        tf = _Transform(self._positive(), self._parameter_scale(data, w))
        x0 = tf.internal(np.asarray(self._initial_params(data, w), dtype=float))
        objective, _ = self._objective_in_parts(raw, data, w, tf)
        del data  # in parts, the whole prepared data is not kept besides them
        with np.errstate(all="ignore"):
            if len(w) > self._subsample_above:
                # Warm start: fit a random subset of the unique rows, then Newton steps on all rows using the
                # subset's Hessian (the objective is a mean, so the curvature carries over), or the exact one of
                # all rows where the model gives it.
                idx, w_sub = _weighted_subsample(w, self._subsample_rows(len(w)), self.random_state)
                sub_obj = self._objective(self._prepare(tuple(c[idx] for c in raw)), w_sub, tf)
                res = optimize.minimize(sub_obj, x0, jac=True, method=self._optimizer,
                                        options=self._optimizer_options(gtol=1e-6))
                x = res.x
                hess = None if self._has_hessian else self._hessian(sub_obj, x)
            else:
                res = optimize.minimize(objective, x0, jac=True, method=self._optimizer,
                                        options=self._optimizer_options(gtol=1e-6))
                x = res.x
                hess = None if self._has_hessian else self._hessian(objective, x)
            exact = None
            if self._has_hessian:
                x, value, grad, exact = self._newton_exact(objective, x)
            else:
                x, value, grad = self._newton(objective, x, hess)
            if np.max(np.abs(grad)) > max(self.tol, 1e-7):
                exact = None
                res = optimize.minimize(objective, x, jac=True, method=self._optimizer,
                                        options=self._optimizer_options(gtol=self.tol))
                x, value, grad = self._newton(objective, res.x, self._hessian(objective, res.x))
            if not self._standard_errors:
                hess = None
            elif exact is not None:  # the exact Hessian at the optimum, from Newton's last evaluation
                hess = exact
            elif self._has_hessian:
                hess = objective(x, True)[2]
            else:
                hess = self._hessian(objective, x, grad)
        gnorm = float(np.max(np.abs(grad))) if len(grad) else 0.0
        if not np.isfinite(value) or value >= 1e299 or gnorm > max(1e-3, 100 * self.tol) or not np.all(np.isfinite(x)):
            raise ConvergenceError(self._convergence_message(res.message, gnorm))
        params = tf.natural(x)
        self.params_ = pd.Series(params, index=names, dtype=float)
        # the total log-likelihood from the optimum's own objective value (a mean plus the penalty): no extra pass
        self.log_likelihood_ = -(float(value) - float(self.penalizer) * float(x @ x)) * n_total
        self.n_customers_ = n_total
        self.n_unique_rows_ = int(len(w))
        self.n_iter_ = int(getattr(res, "nit", 0))
        self.AIC_ = 2 * k - 2 * self.log_likelihood_
        self.BIC_ = k * math.log(n_total) - 2 * self.log_likelihood_
        ok = False
        if hess is not None:
            info = hess * n_total - 2 * float(self.penalizer) * n_total * np.eye(k)
            try:
                cov_x = np.linalg.inv(info)
                ok = bool(np.all(np.isfinite(cov_x)) and np.all(np.diag(cov_x) > 0))
            except np.linalg.LinAlgError:
                ok = False
        if not ok:
            if not self._quiet and hess is not None:
                warnings.warn(
                    f"{type(self).__name__}: the Hessian is singular at the optimum, so standard errors are not "
                    "available; a parameter may be at a boundary (try penalizer=0.001).",
                    StatisticalWarning, stacklevel=3)
            cov_x = np.full((k, k), np.nan)
        jac = tf.jacobian(params)
        self._set_uncertainty(cov_x * np.outer(jac, jac))
        self._set_derived()
        return self

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
            found = self._backtrack(objective, x, step, value, grad)
            if found is None:
                break
            t, (tv, tg) = found
            # BFGS update of the Hessian: the subset's curvature is refined by the steps on all rows
            sk, yk = -t * step, tg - grad
            if float(yk @ sk) > 1e-12:
                hs = hess @ sk
                hess = hess - np.outer(hs, hs) / float(sk @ hs) + np.outer(yk, yk) / float(yk @ sk)
            x, value, grad = x - t * step, tv, tg
        return x, value, grad

    def _newton_exact(self, objective: Any, x: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        """Newton steps with the exact Hessian (``objective(x, True)``) and the line search of :meth:`_newton`.
        Where the Hessian is not positive definite (far from the optimum, near a saddle or a ridge) its
        eigenvalues are taken by their absolute value, so that every step still goes downhill and the steps never
        settle on a saddle point. Returns the point, its value, gradient and Hessian."""
        value, grad, hess = objective(x, True)
        for _ in range(25):
            if np.max(np.abs(grad)) <= self.tol:
                break
            try:
                evals, evecs = np.linalg.eigh(hess)
            except np.linalg.LinAlgError:
                break
            size = np.maximum(np.abs(evals), 1e-8 * max(1.0, float(np.abs(evals).max())))
            step = evecs @ ((evecs.T @ grad) / size)
            if not np.all(np.isfinite(step)) or grad @ step <= 0:
                break
            found = self._backtrack(objective, x, step, value, grad, hess=True)
            if found is None:
                break
            t, (tv, tg, th) = found
            x, value, grad, hess = x - t * step, tv, tg, th
        return x, value, grad, hess

    @staticmethod
    def _backtrack(objective: Any, x: np.ndarray, step: np.ndarray, value: float, grad: np.ndarray,
                   hess: bool = False) -> tuple[float, Any] | None:
        """The step length (1, 1/2, 1/4 … twenty halvings at most) of the first point ``x - t step`` that meets
        Armijo's condition, and the objective there (with the Hessian when ``hess``); ``None`` when none does.
        The rounding noise of the mean log-likelihood is allowed: at the optimum a good Newton step may not lower
        the value in the last bits, and halving it only wastes evaluations."""
        noise = 8 * np.finfo(float).eps * max(1.0, abs(value))
        t = 1.0
        for _ in range(20):
            out = objective(x - t * step, True) if hess else objective(x - t * step)
            if np.isfinite(out[0]) and out[0] <= value + 1e-4 * t * float(grad @ -step) + noise:
                return t, out
            t /= 2
        return None

    def _optimizer_options(self, gtol: float) -> dict[str, Any]:
        if self._optimizer == "L-BFGS-B":
            return {"maxiter": self.maxiter, "ftol": 1e-15, "gtol": gtol, "maxcor": 20}
        return {"maxiter": self.maxiter, "gtol": gtol}

    def _fd_gradient(self, x: np.ndarray, data: Data, w: np.ndarray, tf: _Transform) -> np.ndarray:
        """Central differences of the total negative log-likelihood in the optimiser's coordinates (2k
        likelihood evaluations): the numerical gradient of models without ``_loglik_grad``."""
        grad = np.empty(len(x))
        for i in range(len(x)):
            h = 1e-6 * max(1.0, abs(x[i]))
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            f_up = -float(w @ self._loglik(tf.natural(up), data))
            f_down = -float(w @ self._loglik(tf.natural(down), data))
            grad[i] = (f_up - f_down) / (2 * h)
        return grad

    @staticmethod
    def _hessian(objective: Any, x: np.ndarray, g0: np.ndarray | None = None) -> np.ndarray:
        """Forward differences of the gradient (k extra gradient evaluations)."""
        k = len(x)
        hess = np.empty((k, k))
        g0 = objective(x)[1] if g0 is None else g0
        for i in range(k):
            h = 1e-5 * max(1.0, abs(x[i]))
            up = x.copy()
            up[i] += h
            hess[i] = (objective(up)[1] - g0) / h
        return (hess + hess.T) / 2

    def _set_uncertainty(self, cov: np.ndarray) -> None:
        """Standard errors and 95% intervals from the covariance of the natural parameters (log-scale intervals
        for positive parameters, so they stay positive)."""
        names = list(self.params_.index)
        params = self.params_.to_numpy(dtype=float)
        positive = self._positive()
        self.variance_matrix_ = pd.DataFrame(cov, index=names, columns=names)
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.diag(cov))
        self.standard_errors_ = pd.Series(se, index=names, name="se(coef)")
        z = special.ndtri(0.975)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # an unbounded interval is inf
            se_log = se / params
            lower = np.where(positive, params * np.exp(-z * se_log), params - z * se)
            upper = np.where(positive, params * np.exp(z * se_log), params + z * se)
        self.confidence_intervals_ = pd.DataFrame({"lower 95% bound": lower, "upper 95% bound": upper}, index=names)

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
        n = getattr(self, "n_customers_", None)
        fitted = f"fitted with {n:,.0f} customers, " if n is not None else ""
        return f"<ltvkit.{name}: {fitted}{self._repr_params()}>"

    def _repr_params(self) -> str:
        return ", ".join(f"{k}: {v:.2f}" for k, v in self.params_.items())

    def _params(self) -> np.ndarray:
        check_is_fitted(self)
        return self.params_.to_numpy(dtype=float)

    # -- settings and persistence -------------------------------------------------------------------------------
    @classmethod
    def _setting_names(cls) -> list[str]:
        return [p.name for p in inspect.signature(cls.__init__).parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The constructor settings (scikit-learn's ``get_params``)."""
        return {name: getattr(self, name) for name in self._setting_names()}

    _FIT_STATS: ClassVar[tuple[str, ...]] = ("log_likelihood_", "AIC_", "BIC_", "n_customers_", "n_unique_rows_",
                                             "n_iter_")

    def to_dict(self) -> dict[str, Any]:
        """Model class, settings and fitted values as plain JSON-able data (:meth:`from_dict` reads it back)."""
        check_is_fitted(self)
        out: dict[str, Any] = {
            "model": type(self).__name__,
            "settings": {k: _plain(v) for k, v in self.get_params().items()},
            "params": {k: float(v) for k, v in self.params_.items()},
        }
        for attr in self._FIT_STATS:
            if hasattr(self, attr):
                out[attr] = _plain(getattr(self, attr))
        if hasattr(self, "variance_matrix_"):
            out["variance_matrix"] = self.variance_matrix_.to_numpy().tolist()
        extra = self._extra_to_dict()
        if extra:
            out["extra"] = extra
        return out

    def _extra_to_dict(self) -> dict[str, Any]:
        """Hook: further fitted state (JSON-able) that ``_extra_from_dict`` restores."""
        return {}

    def _extra_from_dict(self, extra: Mapping[str, Any]) -> None:
        """Hook: restore what ``_extra_to_dict`` wrote (called before the parameters are set)."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BaseModel:
        """A fitted model from :meth:`to_dict`'s output: the same settings, parameters and uncertainty."""
        if data.get("model") != cls.__name__:
            raise InputError(f"The data hold a {data.get('model')}, not a {cls.__name__}; load it with that class.")
        model = cls(**data.get("settings", {}))
        model._extra_from_dict(data.get("extra", {}))
        names = model._parameter_names()
        if list(data["params"]) != names:
            raise InputError(f"{cls.__name__} parameters {list(data['params'])} do not match {names}.")
        model.params_ = pd.Series([float(data["params"][n]) for n in names], index=names, dtype=float)
        for attr in cls._FIT_STATS:
            if attr in data:
                setattr(model, attr, data[attr])
        if "variance_matrix" in data:
            model._set_uncertainty(np.asarray(data["variance_matrix"], dtype=float))
        model._set_derived()
        return model

    def save(self, path: str | Path) -> None:
        """Write the fitted model as JSON (no pickles, so files are safe to share)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> BaseModel:
        """Read a model written by :meth:`save`."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("model") != cls.__name__:
            raise InputError(f"{path} holds a {data.get('model')}, not a {cls.__name__}; load it with that class.")
        return cls.from_dict(data)


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers, so ``json.dumps`` takes them."""
    if isinstance(value, np.generic):
        return value.item()
    return value

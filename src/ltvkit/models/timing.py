"""When will each customer buy next? Closed-form next-purchase timing for BG/NBD, MBG/NBD and Pareto/NBD.

For a customer with history ``(x, t_x, T)`` (repeat purchases, time of the last one, age) the models say:

* while alive, purchases arrive as a Poisson process with rate ``lambda``; given the history and being alive
  at ``T``, ``lambda ~ Gamma(r + x, alpha + T)`` (shape, rate);
* BG/NBD and MBG/NBD: a customer can drop out only *right after* a purchase, so an alive customer always makes
  one more purchase: ``P(tau <= t | alive) = 1 - ((alpha+T) / (alpha+T+t))**(r+x)`` (a Lomax law);
* Pareto/NBD: dropout is a competing exponential clock with ``mu ~ Gamma(s, beta + T)``; the next purchase
  happens only if it comes before dropout, so ``P(tau <= t | alive) = int_0^t f(u) du`` with
  ``f(u) = (r+x)/(A+u) * (A/(A+u))**(r+x) * (B/(B+u))**s`` (``A = alpha+T``, ``B = beta+T``); the total mass
  ``P(next purchase ever | alive) < 1``.

"Unconditional of alive" numbers multiply by ``P(alive | x, t_x, T)``; they are the probabilities to compare with
what is observed (``p_purchase_30d``). Medians and expected times are conditional on being alive *and* on a next
purchase happening (otherwise the time is infinite). The derivations are in docs/timing.md.

All functions take plain parameters (a mapping, a fitted model with ``params_``, or per-customer arrays, which the
covariate models use) and vectorised ``frequency, recency, T`` in the model's time unit; horizons are in days and
``days_per_unit`` converts (7 for weekly data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..exceptions import InputError

__all__ = [
    "HORIZONS_DAYS",
    "days_to_dates",
    "next_purchase_cdf",
    "next_purchase_timing",
    "p_alive",
    "timing_kind",
]

HORIZONS_DAYS: tuple[int, ...] = (7, 14, 30, 60, 90)

_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)
_CHUNK = 20_000

_KIND_PARAMS = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "mbgnbd": ("r", "alpha", "a", "b"),
    "pnbd": ("r", "alpha", "s", "beta"),
}


# ----------------------------------------------------------------------------------------------- inputs


def timing_kind(model: Any) -> str:
    """The timing family of a fitted model or a kind name: ``"bgnbd"``, ``"mbgnbd"`` or ``"pnbd"``."""
    if isinstance(model, str):
        key = model.lower().replace("/", "").replace("_", "").replace("-", "")
        aliases = {"bgnbd": "bgnbd", "betageo": "bgnbd", "mbgnbd": "mbgnbd", "modifiedbetageo": "mbgnbd",
                   "pnbd": "pnbd", "paretonbd": "pnbd", "pareto": "pnbd"}
        if key in aliases:
            return aliases[key]
        raise InputError(f"Unknown timing model {model!r}; use 'bgnbd', 'mbgnbd' or 'pnbd'.")
    kind = getattr(model, "_timing_kind", None)
    if kind:
        return str(kind)
    name = type(model).__name__.lower()
    if "pareto" in name:
        return "pnbd"
    if "modified" in name:
        return "mbgnbd"
    if "betageo" in name:
        return "bgnbd"
    raise InputError(f"{type(model).__name__} has no next-purchase timing; use a BG/NBD, MBG/NBD or Pareto/NBD model.")


def _params(model_or_params: Any, kind: str) -> dict[str, Any]:
    src = model_or_params
    if hasattr(src, "customer_params"):
        raise InputError(f"{type(src).__name__} needs each customer's covariates; use its own methods "
                         "(p_alive, next_purchase_timing) with the covariates.")
    if not isinstance(src, Mapping) and not isinstance(src, pd.Series):
        if not hasattr(src, "params_"):
            raise InputError("Pass a fitted model (with params_) or a mapping of its parameters.")
        src = src.params_
    out = {}
    for name in _KIND_PARAMS[kind]:
        try:
            value = src[name]
        except (KeyError, IndexError):
            raise InputError(f"Parameter {name!r} is missing; {kind} needs {', '.join(_KIND_PARAMS[kind])}.") from None
        out[name] = np.asarray(value, dtype=float)
    return out


def _rft(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(frequency, dtype=float)
    tx = np.asarray(recency, dtype=float)
    t_age = np.asarray(T, dtype=float)
    x, tx, t_age = np.broadcast_arrays(x, tx, t_age)
    if np.any(~np.isfinite(x)) or np.any(~np.isfinite(tx)) or np.any(~np.isfinite(t_age)):
        raise InputError("frequency, recency and T must be finite numbers.")
    bad = tx > t_age + 1e-9
    if bad.any():
        raise InputError(f"Some values in recency are larger than T ({int(bad.sum())} customers).")
    if np.any(x < 0):
        raise InputError("frequency must not be negative.")
    return x.astype(float), tx.astype(float), t_age.astype(float)


def _gl(lo: np.ndarray, hi: np.ndarray, fn: Any) -> np.ndarray:
    """Gauss-Legendre integral of ``fn(nodes)`` over ``[lo, hi]`` row-wise (nodes has shape (n, m))."""
    half = (hi - lo) / 2.0
    nodes = ((hi + lo) / 2.0)[:, None] + half[:, None] * _GL_X[None, :]
    return half * (fn(nodes) @ _GL_W)


# ----------------------------------------------------------------------------------------------- P(alive)


def _pnbd_log_ratio(r, alpha, s, beta, x, tx, T):
    """log of ``int_tx^T s/(beta+y) ((alpha+T)/(alpha+y))^(r+x) ((beta+T)/(beta+y))^s dy``.

    ``P(alive) = 1 / (1 + exp(this))``. Substitution ``v = ((alpha+tx)/(alpha+y))^c``, ``c = r+x+s``, makes the
    integrand bounded and smooth, so a fixed Gauss-Legendre rule is accurate even for x in the hundreds.
    """
    r, alpha, s, beta, x, tx, T = np.broadcast_arrays(r, alpha, s, beta, x, tx, T)
    out = np.full(x.shape, -np.inf)
    live = T - tx > 0
    if not live.any():
        return out
    r, alpha, s, beta, x, tx, T = (a[live] for a in (r, alpha, s, beta, x, tx, T))
    c = r + x + s
    rx = r + x
    log_k0 = rx * (np.log(alpha + T) - np.log(alpha + tx)) + s * (np.log(beta + T) - np.log(beta + tx))
    # a second substitution v = z^q (q = c clipped to [1, 3]) keeps the integrand smooth near v = 0
    q = np.clip(c, 1.0, 3.0)
    z_T = np.exp(c * (np.log(alpha + tx) - np.log(alpha + T)) / q)

    def integrand(z):
        log_v = q[:, None] * np.log(z)
        y = (alpha + tx)[:, None] * np.exp(-log_v / c[:, None]) - alpha[:, None]
        rho = ((beta + tx)[:, None] * (alpha[:, None] + y)) / ((beta[:, None] + y) * (alpha + tx)[:, None])
        jac = q[:, None] * z ** (q[:, None] - 1)
        return s[:, None] * (alpha[:, None] + y) / ((beta[:, None] + y) * c[:, None]) * rho ** s[:, None] * jac

    integral = _gl(z_T, np.ones_like(z_T), integrand)
    with np.errstate(divide="ignore"):
        out[live] = log_k0 + np.log(integral)
    return out


def p_alive(model_or_params: Any, frequency: Any, recency: Any, T: Any, *, kind: str | None = None) -> np.ndarray:
    """Probability that each customer is still alive at ``T`` given ``(x, t_x, T)``.

    Parameters
    ----------
    model_or_params : fitted model or mapping
        BG/NBD or MBG/NBD ``r, alpha, a, b``; Pareto/NBD ``r, alpha, s, beta`` (scalars or per-customer arrays).
    frequency, recency, T : array-like
        Repeat purchases, time of the last purchase and customer age, in the model's time unit.
    kind : {"bgnbd", "mbgnbd", "pnbd"}, optional
        Model family when ``model_or_params`` is a plain mapping (default: from the model class).

    Returns
    -------
    numpy.ndarray
    """
    kind = timing_kind(kind if kind is not None else model_or_params)
    p = _params(model_or_params, kind)
    x, tx, t_age = _rft(frequency, recency, T)
    r, alpha = p["r"], p["alpha"]
    if kind == "pnbd":
        return expit(-_pnbd_log_ratio(r, alpha, p["s"], p["beta"], x, tx, t_age))
    a, b = p["a"], p["b"]
    lr = (r + x) * (np.log(alpha + t_age) - np.log(alpha + tx))
    if kind == "mbgnbd":
        return expit(-(np.log(a) - np.log(b + x) + lr))
    xs = np.maximum(x, 1.0)
    val = expit(-(np.log(a) - np.log(b + xs - 1.0) + lr))
    return np.where(x > 0, val, 1.0)


# ----------------------------------------------------------------------------------------------- alive timing


def _lomax_cdf(shape, scale, t):
    return -np.expm1(shape * (np.log(scale) - np.log(scale + t)))


def _pnbd_h(shape, A, s, B):
    """Integrand of the Pareto/NBD alive CDF in ``w = (A/(A+u))^(R+s)``: ``R/(R+s) * (B(A+u) / (A(B+u)))^s``.

    In this variable the density of the next purchase (given alive) is bounded and nearly constant, so a fixed
    Gauss-Legendre rule is accurate; with ``A = B`` it is exactly constant.
    """
    c = shape + s

    def h(w):
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            # log(A+u) - log(A) = -log(w) / c
            l_au = -np.log(w) / c[:, None]
            u = A[:, None] * np.expm1(l_au)
            log_rho = np.log(B[:, None]) + np.log(A[:, None]) + l_au - np.log(A[:, None]) - np.log(B[:, None] + u)
            val = (shape / c)[:, None] * np.exp(s[:, None] * log_rho)
        return np.where(w > 0, val, (shape / c)[:, None] * (B / A)[:, None] ** s[:, None])
    return h


def _w_of_t(shape, A, s, t):
    with np.errstate(divide="ignore"):
        return np.where(np.isinf(t), 0.0, np.exp((shape + s) * (np.log(A) - np.log(A + np.where(np.isinf(t), 0.0, t)))))


def _pnbd_alive_cdf(shape, A, s, B, t):
    """``P(tau <= t, tau < dropout | alive)`` for Pareto/NBD; ``t`` may be ``inf`` (the total mass)."""
    shape, A, s, B, t = (np.ravel(v) for v in np.broadcast_arrays(*(np.asarray(v, float) for v in (shape, A, s, B, t))))
    out = np.empty(shape.shape)
    for lo in range(0, shape.size, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        w_t = _w_of_t(shape[sl], A[sl], s[sl], t[sl])
        out[sl] = _gl(w_t, np.ones_like(w_t), _pnbd_h(shape[sl], A[sl], s[sl], B[sl]))
    return out


def _pnbd_alive_median(shape, A, s, B, mass):
    """Time by which half of ``mass`` (the probability of buying again, or of buying within a window) is
    reached, given alive: Newton on ``G(w) = int_w^1 h``, kept inside a bisection bracket, on the rows that
    have not converged yet."""
    out = np.empty(shape.shape)
    for start in range(0, shape.size, _CHUNK):
        sl = slice(start, start + _CHUNK)
        sh, a_, s_, b_ = shape[sl], A[sl], s[sl], B[sl]
        target = mass[sl] / 2.0
        # h is nearly constant in w, so G(w) ~ h (1 - w) gives a close first guess
        h0 = _pnbd_h(sh, a_, s_, b_)(np.full((sh.size, 1), 0.5))[:, 0]
        w = np.clip(1.0 - target / h0, 1e-12, 1.0 - 1e-12)
        lo, hi = np.zeros(sh.size), np.ones(sh.size)
        todo = np.arange(sh.size)
        for _ in range(60):
            if todo.size == 0:
                break
            h = _pnbd_h(sh[todo], a_[todo], s_[todo], b_[todo])
            wt = w[todo]
            g = _gl(wt, np.ones_like(wt), h) - target[todo]
            lo[todo] = np.where(g > 0, wt, lo[todo])
            hi[todo] = np.where(g > 0, hi[todo], wt)
            step = wt + g / np.maximum(h(wt[:, None])[:, 0], 1e-300)
            inside = (step > lo[todo]) & (step < hi[todo])
            new_w = np.where(inside, step, (lo[todo] + hi[todo]) / 2.0)
            w[todo] = new_w
            todo = todo[np.abs(new_w - wt) > 1e-12 * np.maximum(new_w, 1e-300) + 1e-15]
        out[sl] = a_ * np.expm1(-np.log(w) / (sh + s_))
    return out


def _pnbd_alive_mean(shape, A, s, B, mass):
    """``E[tau | alive, next purchase happens]``; ``inf`` when ``r + x + s <= 1`` (the mean does not exist).

    ``E[tau 1{happens}] = int_0^1 u(w) h(w) dw``; with ``w = z^m``, ``m = (R+s)/(R+s-1)``, the endpoint
    singularity of ``u(w)`` cancels and the integrand is ``A m (1 - z^(m-1)) h(z^m)``.
    """
    out = np.full(shape.shape, np.inf)
    ok = shape + s > 1.0 + 1e-6
    if ok.any():
        sh, a_, s_, b_ = shape[ok], A[ok], s[ok], B[ok]
        m = (sh + s_) / (sh + s_ - 1.0)
        h = _pnbd_h(sh, a_, s_, b_)

        def integrand(z):
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                w = np.exp(m[:, None] * np.log(z))
                return a_[:, None] * m[:, None] * (1.0 - np.exp((m[:, None] - 1.0) * np.log(z))) * h(w)

        out[ok] = _gl(np.zeros_like(sh), np.ones_like(sh), integrand) / mass[ok]
    return out


def next_purchase_cdf(
    model_or_params: Any,
    frequency: Any,
    recency: Any,
    T: Any,
    t: Any,
    *,
    conditional_on_alive: bool = False,
    kind: str | None = None,
) -> np.ndarray:
    """Probability of at least one purchase in ``(T, T + t]`` for each customer.

    Parameters
    ----------
    model_or_params : fitted model or mapping
        See :func:`p_alive`.
    frequency, recency, T : array-like
        Customer histories in the model's time unit.
    t : float or array-like
        Horizon in the model's time unit (broadcast against the customers).
    conditional_on_alive : bool, default False
        ``True`` gives ``P(next purchase within t | alive at T)``; ``False`` multiplies by ``P(alive)``.
    kind : str, optional
        Model family for a plain mapping.

    Returns
    -------
    numpy.ndarray
    """
    kind = timing_kind(kind if kind is not None else model_or_params)
    p = _params(model_or_params, kind)
    x, tx, t_age = _rft(frequency, recency, T)
    t = np.asarray(t, dtype=float)
    if np.any(t < 0):
        raise InputError("The horizon t must not be negative.")
    shape, A = p["r"] + x, p["alpha"] + t_age
    if kind == "pnbd":
        cdf = _pnbd_alive_cdf(shape, A, p["s"], p["beta"] + t_age, t)
    else:
        cdf = _lomax_cdf(shape, A, t)
    if conditional_on_alive:
        return cdf
    return p_alive(p, x, tx, t_age, kind=kind) * cdf


def next_purchase_timing(
    model_or_params: Any,
    frequency: Any,
    recency: Any,
    T: Any,
    *,
    horizons: Sequence[int] = HORIZONS_DAYS,
    days_per_unit: float = 1.0,
    as_of: dt.date | None = None,
    window_days: float | None = None,
    kind: str | None = None,
) -> pd.DataFrame:
    """Per-customer next-purchase timing table.

    Parameters
    ----------
    model_or_params : fitted model or mapping
        BG/NBD, MBG/NBD or Pareto/NBD parameters (see :func:`p_alive`).
    frequency, recency, T : array-like
        Customer histories in the model's time unit.
    horizons : sequence of int, default (7, 14, 30, 60, 90)
        Horizons in days for the ``p_purchase_{k}d`` columns.
    days_per_unit : float, default 1.0
        Days in one model time unit (7 when the model was fitted in weeks).
    as_of : datetime.date, optional
        The end of the observation window; adds ``expected_next_purchase_date`` and ``median_next_purchase_date``.
    window_days : float, optional
        Adds ``median_days_if_within_window``: the median time to the next purchase given alive and given that it
        falls within ``window_days`` (used to score timing on a holdout of that length).
    kind : str, optional
        Model family for a plain mapping.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``p_alive``; ``p_purchase_{k}d`` = P(a purchase within k days), unconditional of
        being alive (calibrates against observed shares); ``p_purchase_{k}d_if_alive``; ``p_buy_again_if_alive``
        (1 for BG/MBG, below 1 for Pareto/NBD where dropout competes); ``median_days_to_next_purchase`` and
        ``expected_days_to_next_purchase`` given alive and given a next purchase happens (``inf`` when the mean
        does not exist); and with ``as_of`` the matching dates (NaT when infinite or over 100 years).

    Examples
    --------
    >>> tab = next_purchase_timing({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, [2], [30.43], [38.86],
    ...                            kind="bgnbd", days_per_unit=7)
    >>> round(float(tab["median_days_to_next_purchase"].iloc[0]), 1)
    109.7
    """
    if hasattr(model_or_params, "customer_params"):
        raise InputError(f"{type(model_or_params).__name__} needs each customer's covariates; call its "
                         "next_purchase_timing(frequency, recency, T, covariates) method instead.")
    if kind is None and getattr(model_or_params, "_timing_kind", None) == "cnbdk":
        return model_or_params.next_purchase_timing(frequency, recency, T, horizons=horizons,
                                                    days_per_unit=days_per_unit, as_of=as_of, window_days=window_days)
    kind = timing_kind(kind if kind is not None else model_or_params)
    p = _params(model_or_params, kind)
    x, tx, t_age = _rft(frequency, recency, T)
    if days_per_unit <= 0:
        raise InputError("days_per_unit must be positive (7 for a model fitted in weeks).")
    n = x.size
    shape = np.broadcast_to(p["r"] + x, (n,)).astype(float)
    A = np.broadcast_to(p["alpha"] + t_age, (n,)).astype(float)
    cols: dict[str, Any] = {"p_alive": np.broadcast_to(p_alive(p, x, tx, t_age, kind=kind), (n,))}
    if kind == "pnbd":
        s = np.broadcast_to(p["s"], (n,)).astype(float)
        B = np.broadcast_to(p["beta"] + t_age, (n,)).astype(float)
        # timing given alive depends on (x, T) and the parameters only: compute once per unique row
        key = np.column_stack([shape, A, s, B])
        uniq, inverse = np.unique(key, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        us, ua, uss, ub = uniq.T
        mass = _pnbd_alive_cdf(us, ua, uss, ub, np.inf)
        for k in horizons:
            cols[f"p_purchase_{k}d_if_alive"] = _pnbd_alive_cdf(us, ua, uss, ub, k / days_per_unit)[inverse]
        median = _pnbd_alive_median(us, ua, uss, ub, mass)[inverse]
        mean = _pnbd_alive_mean(us, ua, uss, ub, mass)[inverse]
        if window_days is not None:
            in_window = _pnbd_alive_cdf(us, ua, uss, ub, window_days / days_per_unit)
            cols["median_days_if_within_window"] = _pnbd_alive_median(us, ua, uss, ub, in_window)[inverse] * days_per_unit
        mass = mass[inverse]
    else:
        mass = np.ones(n)
        for k in horizons:
            cols[f"p_purchase_{k}d_if_alive"] = _lomax_cdf(shape, A, k / days_per_unit)
        median = A * np.expm1(np.log(2.0) / shape)
        with np.errstate(divide="ignore"):
            mean = np.where(shape > 1.0, A / np.maximum(shape - 1.0, 1e-300), np.inf)
        if window_days is not None:
            half = _lomax_cdf(shape, A, window_days / days_per_unit) / 2.0
            cols["median_days_if_within_window"] = A * np.expm1(-np.log1p(-half) / shape) * days_per_unit
    for k in horizons:
        cols[f"p_purchase_{k}d"] = cols["p_alive"] * cols[f"p_purchase_{k}d_if_alive"]
    cols["p_buy_again_if_alive"] = mass
    cols["median_days_to_next_purchase"] = median * days_per_unit
    cols["expected_days_to_next_purchase"] = mean * days_per_unit
    order = ["p_alive"] + [f"p_purchase_{k}d" for k in horizons] + [f"p_purchase_{k}d_if_alive" for k in horizons]
    order += ["p_buy_again_if_alive", "median_days_to_next_purchase", "expected_days_to_next_purchase"]
    if window_days is not None:
        order.append("median_days_if_within_window")
    frame = pd.DataFrame({c: np.asarray(cols[c], dtype=float) for c in order})
    if as_of is not None:
        frame["median_next_purchase_date"] = days_to_dates(as_of, frame["median_days_to_next_purchase"])
        frame["expected_next_purchase_date"] = days_to_dates(as_of, frame["expected_days_to_next_purchase"])
    return frame


def days_to_dates(as_of: dt.date, days: Any) -> pd.Series:
    """``as_of + days`` rounded to whole days; NaT where ``days`` is infinite, missing or over 100 years."""
    d = np.asarray(days, dtype=float)
    ok = np.isfinite(d) & (d <= 36_500)
    base = np.datetime64(pd.Timestamp(as_of).date(), "D")
    vals = np.where(ok, np.round(np.where(ok, d, 0.0)), 0).astype("int64")
    out = (base + vals.astype("timedelta64[D]")).astype("datetime64[s]")
    out = np.where(ok, out, np.datetime64("NaT"))
    return pd.Series(out, dtype="datetime64[s]")

"""The statistics of a holdout comparison: intervals for a difference in conversion and in means, a
variance-reduced (CUPED / regression-adjusted) difference on plan-time covariates, and the minimum detectable
effect. Arrays in, numbers out; nothing here reads a workspace.

References
----------
- Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions: comparison of
  eleven methods. Statistics in Medicine 17, 873-890 (method 10: the hybrid Wilson score interval).
- Deng, A., Xu, Y., Kohavi, R., Walker, T. (2013). Improving the sensitivity of online controlled experiments by
  utilizing pre-experiment data (CUPED). WSDM.
- Lin, W. (2013). Agnostic notes on regression adjustments to experimental data. Annals of Applied Statistics 7.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "adjusted_difference", "mde_proportion", "newcombe_difference", "welch_difference",
           "wilson_interval"]

Z95 = 1.959963984540054
Z80 = 0.8416212335729143  # power 80 %


@dataclass(frozen=True)
class Estimate:
    """A difference (treated − holdout) with its 95 % interval and standard error."""

    value: float
    low: float
    high: float
    se: float

    @property
    def significant(self) -> bool:
        return bool(self.low > 0 or self.high < 0)


def wilson_interval(x: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``x / n``."""
    if n <= 0:
        return (math.nan, math.nan)
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe_difference(x1: float, n1: float, x0: float, n0: float, z: float = Z95) -> Estimate:
    """Difference of proportions ``x1/n1 − x0/n0`` with Newcombe's hybrid score interval (method 10).

    >>> e = newcombe_difference(56, 70, 48, 80)
    >>> round(e.value, 4), round(e.low, 4), round(e.high, 4)
    (0.2, 0.0524, 0.3339)
    """
    if n1 <= 0 or n0 <= 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan)
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson_interval(x1, n1, z)
    l0, u0 = wilson_interval(x0, n0, z)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return Estimate(d, low, high, se)


def welch_difference(y1: np.ndarray, y0: np.ndarray, z: float = Z95) -> Estimate:
    """Difference of means with the unequal-variance (Welch / Neyman) standard error, normal interval."""
    n1, n0 = len(y1), len(y0)
    if n1 < 2 or n0 < 2:
        d = float(np.mean(y1) - np.mean(y0)) if n1 and n0 else math.nan
        return Estimate(d, math.nan, math.nan, math.nan)
    d = float(np.mean(y1) - np.mean(y0))
    se = math.sqrt(float(np.var(y1, ddof=1)) / n1 + float(np.var(y0, ddof=1)) / n0)
    return Estimate(d, d - z * se, d + z * se, se)


def adjusted_difference(y: np.ndarray, treated: np.ndarray, covariates: np.ndarray,
                        z: float = Z95) -> tuple[Estimate, float]:
    """CUPED / regression adjustment on covariates fixed before treatment; return (estimate, variance reduction).

    ``θ`` comes from a least-squares fit of the outcome on the covariates, both centred within each group (so the
    treatment effect does not leak into ``θ``); each outcome becomes ``y − (x − x̄)·θ`` with ``x̄`` the pooled mean,
    and the difference of adjusted means gets the Welch standard error. The variance reduction is
    ``1 − se_adjusted² / se_plain²`` (0.3: the interval is ``1 − √0.7`` ≈ 16 % narrower).
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(treated, dtype=bool)
    x = np.asarray(covariates, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    plain = welch_difference(y[t], y[~t], z)
    if not np.isfinite(plain.se) or x.shape[1] == 0 or plain.se == 0:
        return plain, 0.0
    keep = np.nanstd(x, axis=0) > 0
    x = np.where(np.isfinite(x), x, np.nanmean(x, axis=0))[:, keep]
    if x.shape[1] == 0:
        return plain, 0.0
    xc = x.copy()
    yc = y.copy()
    for g in (t, ~t):
        xc[g] -= x[g].mean(axis=0)
        yc[g] -= y[g].mean()
    theta, *_ = np.linalg.lstsq(xc, yc, rcond=None)
    adj = y - (x - x.mean(axis=0)) @ theta
    est = welch_difference(adj[t], adj[~t], z)
    reduction = 1.0 - (est.se / plain.se) ** 2 if plain.se > 0 else 0.0
    return est, float(reduction)


def mde_proportion(p0: float, n1: float, n0: float, *, variance_reduction: float = 0.0,
                   z_alpha: float = Z95, z_power: float = Z80) -> float:
    """Smallest true difference in conversion a two-sided 5 % test detects with 80 % power at these sizes.

    >>> round(mde_proportion(0.10, 4500, 500), 4)
    0.0396
    """
    if n1 <= 0 or n0 <= 0 or not np.isfinite(p0):
        return math.nan
    p = min(max(p0, 1e-4), 1 - 1e-4)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n0) * max(1.0 - variance_reduction, 0.05))
    return (z_alpha + z_power) * se

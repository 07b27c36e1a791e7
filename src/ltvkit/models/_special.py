"""Numerically careful special functions shared by the models."""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["gauss_legendre", "hyp2f1_neg"]


def hyp2f1_neg(a: np.ndarray, b: np.ndarray, c: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``2F1(a, b; c; w)`` for ``w <= 0`` through Pfaff's transformation.

    ``2F1(a, b; c; w) = (1 - w)^(-b) 2F1(c - a, b; c; w / (w - 1))``: the argument moves into [0, 1) and, for
    the BTYD expectations where ``a`` and ``c`` grow with the purchase count, ``c - a`` stays small, so the
    series converges fast where the direct evaluation overflows.
    """
    z = w / (w - 1.0)
    with np.errstate(all="ignore"):
        log_pre = -b * np.log1p(-w)
        value = np.exp(log_pre) * special.hyp2f1(c - a, b, c, z)
        # A fit at the Poisson boundary (BG/NBD's r and alpha without bound, r/alpha finite: every customer's
        # rate the same) leaves c - a in the ten thousands or more, where scipy's series gives no number; there
        # 2F1(a, b; c; w) -> 1F1(b; c; a w) (Kummer's function) as a grows with a w fixed, to O(1/a).
        bad = ~np.isfinite(value) & (np.abs(a) > 1e4)
        if np.any(bad):
            a_, b_, c_, w_ = np.broadcast_arrays(a, b, c, w)
            value = np.array(value, dtype=float, copy=True)
            value[bad] = special.hyp1f1(b_[bad], c_[bad], a_[bad] * w_[bad])
    return value


_GL_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1]."""
    if n not in _GL_CACHE:
        x, w = np.polynomial.legendre.leggauss(n)
        _GL_CACHE[n] = ((x + 1) / 2, w / 2)
    return _GL_CACHE[n]

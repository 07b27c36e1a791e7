"""Weighted clocks: inhomogeneous Poisson time on an hourly grid (hour of day and campaign windows).

A clock maps calendar time ``t`` (days since the shop's start) to "busy time" ``C(t)``, the integral of an hourly
weight that averages 1 over the grid. Drawing an exponential gap in busy time and mapping back with ``C^-1``
gives a Poisson process whose intensity follows the weights, vectorised over any number of customers.
"""

from __future__ import annotations

import numpy as np

# Relative order intensity by hour of day (JST): quiet at night, lunch peak, evening peak (20:00-23:00).
HOUR_PROFILE = np.array([
    2.0, 1.2, 0.7, 0.4, 0.3, 0.4, 0.8, 1.5, 2.2, 2.8, 3.2, 3.5,
    4.0, 3.6, 3.3, 3.3, 3.4, 3.6, 3.8, 4.2, 5.0, 5.6, 5.2, 3.8,
])


class WeightedClock:
    """Busy time over an hourly grid of weights (normalised to mean 1)."""

    def __init__(self, weights: np.ndarray) -> None:
        w = np.asarray(weights, dtype=float)
        self.weights = w / w.mean()
        self.cum = np.concatenate([[0.0], np.cumsum(self.weights) / 24.0])
        self.end = len(w) / 24.0

    def busy(self, t: np.ndarray) -> np.ndarray:
        """``C(t)`` for times in days (clipped to the grid)."""
        x = np.clip(np.asarray(t, dtype=float) * 24.0, 0.0, len(self.weights) - 1e-9)
        h = x.astype(np.int64)
        return self.cum[h] + self.weights[h] * (x - h) / 24.0

    def inverse(self, v: np.ndarray) -> np.ndarray:
        """``C^-1(v)``; values past the grid map to ``+inf``."""
        v = np.asarray(v, dtype=float)
        out = np.full(v.shape, np.inf)
        inside = v < self.cum[-1]
        vi = v[inside]
        h = np.searchsorted(self.cum, vi, side="right") - 1
        out[inside] = (h + (vi - self.cum[h]) * 24.0 / self.weights[h]) / 24.0
        return out

    def share(self, mask: np.ndarray) -> float:
        """Expected share of events that fall in the hours where ``mask`` is true (over the first len(mask) hours)."""
        w = self.weights[: len(mask)]
        return float(w[mask].sum() / w.sum())


def sample_time_of_day(days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Put events on the given whole days at an hour drawn from :data:`HOUR_PROFILE` (returns days as floats)."""
    cdf = np.cumsum(HOUR_PROFILE) / HOUR_PROFILE.sum()
    hour = np.searchsorted(cdf, rng.random(len(days)), side="right")
    return np.floor(days) + (hour + rng.random(len(days))) / 24.0

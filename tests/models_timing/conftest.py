"""Seeded simulators of the BTYD models for the timing tests (vectorised over customers)."""

from __future__ import annotations

import types

import numpy as np
import pytest


def simulate(kind, params, T, *, k=1, rng, alpha_i=None, a_i=None, beta_i=None, return_times=False):
    """Histories ``(x, t_x)`` up to ``T`` and the wait from ``T`` to the next purchase (inf: none ever).

    kind: "bgnbd", "mbgnbd" or "pnbd"; inter-purchase times are Gamma(k, lambda) (k=1: Poisson).
    """
    T = np.asarray(T, dtype=float)
    n = len(T)
    r = params["r"]
    alpha = params["alpha"] if alpha_i is None else alpha_i
    lam = rng.gamma(r, 1.0, n) / alpha
    if kind == "pnbd":
        beta = params["beta"] if beta_i is None else beta_i
        death = rng.exponential(1.0, n) / (rng.gamma(params["s"], 1.0, n) / beta)
        p = np.zeros(n)
    else:
        a = params["a"] if a_i is None else a_i
        p = rng.beta(a, params["b"], n)
        death = np.full(n, np.inf)
    x = np.zeros(n)
    tx = np.zeros(n)
    nxt = np.full(n, np.inf)
    t = np.zeros(n)
    active = np.ones(n, dtype=bool)
    if kind == "mbgnbd":
        active &= rng.random(n) >= p
    times = [[0.0] for _ in range(n)] if return_times else None
    while active.any():
        idx = np.flatnonzero(active)
        t_new = t[idx] + rng.gamma(k, 1.0, idx.size) / lam[idx]
        dead = t_new > death[idx]
        future = ~dead & (t_new > T[idx])
        nxt[idx[future]] = t_new[future] - T[idx[future]]
        buy = ~dead & ~future
        bi = idx[buy]
        x[bi] += 1
        tx[bi] = t_new[buy]
        t[bi] = t_new[buy]
        if return_times:
            for j, tv in zip(bi, t_new[buy], strict=True):
                times[j].append(float(tv))
        active[idx[~buy]] = False
        if kind != "pnbd":
            drop = rng.random(bi.size) < p[bi]
            active[bi[drop]] = False
    out = types.SimpleNamespace(x=x, tx=tx, T=T, next=nxt)
    if return_times:
        out.times = times
    return out


@pytest.fixture
def sim():
    return simulate

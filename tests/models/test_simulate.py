"""Simulate customers from known parameters and recover them within the fitted confidence intervals."""

from __future__ import annotations

import numpy as np
import pytest

from ltvkit.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
)


def _assert_recovered(model, truth):
    ci = model.confidence_intervals_
    for name, value in truth.items():
        assert ci.loc[name, "lower 95% bound"] < value < ci.loc[name, "upper 95% bound"], (name, value, ci)


@pytest.mark.parametrize(("Model", "truth", "seed"), [
    (BetaGeoModel, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, 0),
    (ModifiedBetaGeoModel, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, 1),
    (ParetoNBDModel, {"r": 0.55, "alpha": 10.5, "s": 0.6, "beta": 11.7}, 0),
])
def test_transaction_models_recover_parameters(Model, truth, seed):
    T = np.random.default_rng(seed).uniform(20, 52, 20_000)
    data = Model.from_params(truth).simulate(T, random_state=seed)
    fitted = Model().fit(data["frequency"], data["recency"], data["T"])
    _assert_recovered(fitted, truth)


def test_gamma_gamma_recovers_parameters():
    rng = np.random.default_rng(0)
    p, q, v = 6.0, 4.0, 15.0
    n = 5000
    x = rng.integers(1, 10, n)
    nu = rng.gamma(q, 1 / v, n)
    mean_spend = rng.gamma(p * x, 1 / (nu * x))  # mean of x Gamma(p, nu) draws
    fitted = GammaGammaModel().fit(x, mean_spend)
    _assert_recovered(fitted, {"p": p, "q": q, "v": v})


def test_bgbb_recovers_parameters():
    rng = np.random.default_rng(0)
    truth = {"alpha": 1.2, "beta": 0.75, "gamma": 0.65, "delta": 2.8}
    n, periods = 20_000, 8
    p = rng.beta(truth["alpha"], truth["beta"], n)
    theta = rng.beta(truth["gamma"], truth["delta"], n)
    alive = np.ones(n, dtype=bool)
    x = np.zeros(n)
    t_x = np.zeros(n)
    for period in range(1, periods + 1):
        alive &= rng.random(n) >= theta
        buy = alive & (rng.random(n) < p)
        x += buy
        t_x[buy] = period
    fitted = BetaGeoBetaBinomModel().fit(x, t_x, np.full(n, periods))
    _assert_recovered(fitted, truth)


def test_sbg_recovers_parameters():
    rng = np.random.default_rng(0)
    n, horizon = 20_000, 12
    theta = rng.beta(0.7, 1.2, n)
    lifetime = rng.geometric(theta)
    duration = np.minimum(lifetime, horizon)
    fitted = ShiftedBetaGeoModel().fit(duration, lifetime <= horizon)
    _assert_recovered(fitted, {"alpha": 0.7, "beta": 1.2})

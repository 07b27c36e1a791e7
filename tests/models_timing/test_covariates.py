from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltvkit.exceptions import InputError, NotFittedError
from ltvkit.models import BetaGeoModel, ParetoNBDModel
from ltvkit.models.covariates import CovariateBetaGeoModel, CovariateParetoNBDModel, likelihood_ratio_test

GAMMA_PURCHASE = np.array([0.5, -0.3, 0.0])
GAMMA_DROPOUT = np.array([-0.6, 0.4, 0.0])


def _design(rng, n):
    points_first = rng.integers(0, 2, n)
    channel = rng.choice(["web", "line", "mall"], n, p=[0.5, 0.3, 0.2])
    Z = np.column_stack([points_first, channel == "line", channel == "mall"]).astype(float)
    return pd.DataFrame({"points_first": points_first, "channel": channel}), Z


def _check_recovery(model, names):
    """Every true coefficient inside its 99% interval (6 coefficients at 95% would fail one seed in four by
    chance; over 20 seeds the z-scores (estimate - truth) / se had mean within 0.2 of 0 and sd 0.7-1.2)."""
    truth = dict(zip([f"purchase:{n}" for n in names], GAMMA_PURCHASE, strict=True))
    truth.update(zip([f"dropout:{n}" for n in names], GAMMA_DROPOUT, strict=True))
    for name, value in truth.items():
        est, se = model.params_[name], model.standard_errors_[name]
        assert abs(est - value) < 2.576 * se, (name, value, est, se)
        lo, hi = model.confidence_intervals_.loc[name]
        assert lo == pytest.approx(est - 1.96 * se, rel=1e-3) and hi == pytest.approx(est + 1.96 * se, rel=1e-3)


NAMES = ["points_first", "channel=line", "channel=mall"]


def test_bgnbd_covariates_recover_simulated_coefficients(sim):
    rng = np.random.default_rng(11)
    n = 5000
    cov, Z = _design(rng, n)
    params = {"r": 0.8, "alpha": 40.0, "a": 0.6, "b": 3.0}
    T = rng.integers(100, 365, n).astype(float)
    d = sim("bgnbd", params, T, rng=rng, alpha_i=params["alpha"] * np.exp(-Z @ GAMMA_PURCHASE),
            a_i=params["a"] * np.exp(Z @ GAMMA_DROPOUT))
    m = CovariateBetaGeoModel().fit(d.x, d.tx, d.T, cov)
    assert m.covariate_names_ == NAMES  # "web" is the most common level, so it is the reference
    _check_recovery(m, NAMES)
    assert m.lr_test_["df"] == 6
    assert m.lr_test_["p_value"] < 1e-6
    assert m.log_likelihood_ > m.base_model_.log_likelihood_
    summary = m.summary()
    assert {"coef", "se(coef)", "z", "p"} <= set(summary.columns)
    # predictions use each customer's own parameters
    own = m.customer_params(cov.iloc[:3])
    assert own["alpha"].shape == (3,)
    ep = m.expected_purchases(30.0, d.x[:3], d.tx[:3], d.T[:3], cov.iloc[:3])
    for i in range(3):
        single = BetaGeoModel.from_params({k: float(v[i]) for k, v in own.items()})
        assert ep[i] == pytest.approx(float(single.expected_purchases(30.0, d.x[i], d.tx[i], d.T[i])), rel=1e-8)
    tab = m.next_purchase_timing(d.x[:3], d.tx[:3], d.T[:3], cov.iloc[:3])
    assert (tab["p_purchase_30d"].between(0, 1)).all()


def test_pnbd_covariates_recover_simulated_coefficients(sim):
    rng = np.random.default_rng(12)
    n = 5000
    cov, Z = _design(rng, n)
    params = {"r": 0.8, "alpha": 40.0, "s": 0.7, "beta": 120.0}
    T = rng.integers(100, 365, n).astype(float)
    d = sim("pnbd", params, T, rng=rng, alpha_i=params["alpha"] * np.exp(-Z @ GAMMA_PURCHASE),
            beta_i=params["beta"] * np.exp(-Z @ GAMMA_DROPOUT))
    m = CovariateParetoNBDModel().fit(d.x, d.tx, d.T, cov)
    _check_recovery(m, NAMES)
    assert m.lr_test_["p_value"] < 1e-6
    own = m.customer_params(cov.iloc[:2])
    ep = m.expected_purchases(30.0, d.x[:2], d.tx[:2], d.T[:2], cov.iloc[:2])
    single = ParetoNBDModel.from_params({k: float(v[0]) for k, v in own.items()})
    assert ep[0] == pytest.approx(float(single.expected_purchases(30.0, d.x[0], d.tx[0], d.T[0])), rel=1e-6)
    assert m.p_alive(d.x[:1], d.tx[:1], d.T[:1], cov.iloc[:1])[0] == pytest.approx(
        float(single.p_alive(d.x[0], d.tx[0], d.T[0])), rel=1e-6)


def test_noise_covariate_is_not_significant(sim):
    rng = np.random.default_rng(13)
    n = 3000
    params = {"r": 0.8, "alpha": 40.0, "a": 0.6, "b": 3.0}
    d = sim("bgnbd", params, rng.integers(100, 365, n).astype(float), rng=rng)
    m = CovariateBetaGeoModel().fit(d.x, d.tx, d.T, pd.DataFrame({"noise": rng.integers(0, 2, n)}))
    assert m.lr_test_["p_value"] > 0.01


def test_likelihood_ratio_test_by_hand():
    res = likelihood_ratio_test(-100.0, -97.0, 2)
    assert res["statistic"] == pytest.approx(6.0)
    assert res["p_value"] == pytest.approx(np.exp(-3.0))  # chi2 with 2 df: sf(x) = exp(-x/2)


def test_covariate_errors():
    with pytest.raises(NotFittedError):
        CovariateBetaGeoModel().summary()
    with pytest.raises(InputError, match="missing values"):
        CovariateBetaGeoModel().fit([1, 2], [5, 6], [10, 10], pd.DataFrame({"c": ["a", None]}))
    with pytest.raises(InputError, match="rows"):
        CovariateBetaGeoModel().fit([1, 2], [5, 6], [10, 10], pd.DataFrame({"c": [1, 2, 3]}))

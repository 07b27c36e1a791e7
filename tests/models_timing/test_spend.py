from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltvkit.exceptions import InputError, NotFittedError
from ltvkit.models import GammaGammaModel
from ltvkit.models.spend import (
    NetValueSpendModel,
    ReturnAdjustedSpendModel,
    contribution_per_order,
    margin_clv,
)


def _orders_with_returns(seed, n_customers=3000):
    rng = np.random.default_rng(seed)
    n_orders = rng.integers(1, 8, n_customers)
    rho = rng.beta(1.0, 9.0, n_customers)  # mean refund rate 10%
    nu = rng.gamma(6.0, 1.0, n_customers) / 2.0e-3  # customer mean scale (Gamma-Gamma)
    cust, gross, refunded = [], [], []
    for i in range(n_customers):
        g = rng.gamma(6.0, 1.0, n_orders[i]) / (6.0 / (nu[i] / 6.0))
        ref = rng.random(n_orders[i]) < rho[i]
        share = np.where(rng.random(n_orders[i]) < 0.6, 1.0, 0.3)  # full refunds or 30% partial refunds
        cust += [f"c{i}"] * n_orders[i]
        gross += list(np.round(g))
        refunded += list(np.round(np.where(ref, g * share, 0.0)))
    return pd.DataFrame({"customer": cust, "gross": gross, "refunded": refunded})


def test_return_adjusted_model_recovers_rate_and_share():
    orders = _orders_with_returns(0)
    m = ReturnAdjustedSpendModel().fit(orders["customer"], orders["gross"], orders["refunded"])
    c, d = m.return_params_
    assert c / (c + d) == pytest.approx(0.10, abs=0.01)
    assert m.refund_share_ == pytest.approx(0.72, abs=0.03)  # 0.6 * 1 + 0.4 * 0.3
    out = m.expected_net_value(orders["customer"], orders["gross"], orders["refunded"])
    assert (out["expected_net_value"] < out["expected_gross_value"]).all()
    # a customer who returned everything is expected to refund more than one who never did
    per = orders.assign(ret=orders["refunded"] > 0).groupby("customer")["ret"].agg(["sum", "size"])
    heavy = per[(per["sum"] == per["size"]) & (per["size"] >= 3)].index[0]
    clean = per[(per["sum"] == 0) & (per["size"] >= 3)].index[0]
    assert out.loc[heavy, "p_refund"] > out.loc[clean, "p_refund"]
    # net value of the whole book is close to observed net per order (orders mostly similar in size)
    observed_net_share = 1 - orders["refunded"].sum() / orders["gross"].sum()
    implied = (out["expected_net_value"] / out["expected_gross_value"]).mean()
    assert implied == pytest.approx(observed_net_share, abs=0.03)


def test_joint_fit_equals_the_separate_gamma_gamma_and_beta_binomial_fits():
    """The two parts share no parameter: the joint optimum is Gamma-Gamma's own fit on repeat customers, and
    the information matrix is block-diagonal, so the spend part's standard errors are Gamma-Gamma's too."""
    orders = _orders_with_returns(2, n_customers=1500)
    m = ReturnAdjustedSpendModel().fit(orders["customer"], orders["gross"], orders["refunded"])
    per = m._per_customer(orders)
    rep = per[(per["frequency"] > 0) & (per["repeat_mean"] > 0)]
    gg = GammaGammaModel().fit(rep["frequency"], rep["repeat_mean"])
    np.testing.assert_allclose(m.params_[["p", "q", "v"]], gg.params_, rtol=1e-6)
    np.testing.assert_allclose(m.spend_model_.standard_errors_, gg.standard_errors_, rtol=1e-3)
    assert m.spend_model_.log_likelihood_ == pytest.approx(gg.log_likelihood_, abs=1e-6)
    assert m.spend_model_.n_customers_ == len(rep)
    sd = m.standard_errors_.to_numpy()
    correlation = m.variance_matrix_.to_numpy() / np.outer(sd, sd)
    assert np.abs(correlation[:3, 3:]).max() < 1e-6
    # the refund part is the beta-binomial maximum: its score is zero at (c, d)
    from scipy import special

    c, d = m.return_params_
    n, k = per["n_orders"].to_numpy(float), per["n_refunds"].to_numpy(float)
    score_c = np.sum(special.digamma(c + k) - special.digamma(c) + special.digamma(c + d) - special.digamma(c + d + n))
    assert abs(score_c) < 1e-4 * len(n)
    s = m.summary()
    assert list(s.index) == ["p", "q", "v", "c", "d"] and (s["se(coef)"] > 0).all()


def test_net_value_model_handles_negative_values():
    rng = np.random.default_rng(1)
    n = 2000
    m_i = rng.normal(1500.0, 600.0, n)
    k = rng.integers(1, 6, n)
    cust = np.repeat(np.arange(n), k)
    values = rng.normal(m_i[cust], 1200.0)  # many orders net negative after refunds
    assert (values < 0).mean() > 0.05
    m = NetValueSpendModel().fit(cust, values)
    assert m.params_["mu"] == pytest.approx(1500, abs=60)
    assert m.params_["tau"] == pytest.approx(600, rel=0.15)
    assert m.params_["sigma"] == pytest.approx(1200, rel=0.05)
    assert m.params_["mu"] - 1.96 * m.standard_errors_["mu"] == pytest.approx(
        m.confidence_intervals_.loc["mu", "lower 95% bound"])  # mu's interval is symmetric
    # mu's standard error is about that of a precision-weighted mean of the customers' means
    tau, sigma = m.params_["tau"], m.params_["sigma"]
    n_per = np.bincount(cust)
    assert m.standard_errors_["mu"] == pytest.approx(1 / np.sqrt(np.sum(1 / (tau**2 + sigma**2 / n_per))), rel=0.02)
    post = m.expected_net_value(cust, values)
    raw = pd.Series(values).groupby(cust).mean()
    # shrinkage: posterior means are closer to mu than raw means, and closer to the truth on average
    assert np.abs(post - 1500).mean() < np.abs(raw - 1500).mean()
    assert np.abs(post.to_numpy() - m_i).mean() < np.abs(raw.to_numpy() - m_i).mean()


def test_contribution_and_margin_clv():
    contrib = contribution_per_order([10000, 2000], margin_rate=0.3, cost_per_order=800, p_refund=[0.1, 0.5],
                                     cost_per_return=1000)
    np.testing.assert_allclose(contrib, [3000 - 800 - 100, 600 - 800 - 500])
    np.testing.assert_allclose(margin_clv([2.0, 3.0], contrib), [4200, -2100])


def test_spend_errors():
    with pytest.raises(InputError, match="negative"):
        ReturnAdjustedSpendModel().fit(["a", "a"], [100, -50])
    with pytest.raises(NotFittedError):
        ReturnAdjustedSpendModel().refund_probability([1], [0])
    with pytest.raises(InputError, match="two customers"):
        NetValueSpendModel().fit(["a"], [1.0])

"""The models reproduce the published tables (clv-libraries.md section 2)."""

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

BG_PAPER = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}


@pytest.fixture(scope="module")
def bg(cdnow):
    return BetaGeoModel().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def pnbd(cdnow):
    return ParetoNBDModel().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


# -- BG/NBD (Fader, Hardie & Lee 2005) ----------------------------------------------------------------------
def test_bgnbd_params_and_ll_match_fhl_2005(bg):
    np.testing.assert_allclose(bg.params_[["r", "alpha", "a", "b"]], [0.2426, 4.4136, 0.7929, 2.4259], atol=5e-4)
    assert bg.log_likelihood_ == pytest.approx(-9582.43, abs=0.01)


def test_bgnbd_conditional_expectation_hardie_sheet(bg):
    assert bg.expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=1e-3)


def test_bgnbd_unconditional_expectation_hardie_sheet(bg):
    t = [0.1429, 1, 3, 31.8571, 32, 78]
    expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    np.testing.assert_allclose(bg.expected_purchases_new_customer(t), expected, atol=1e-3)
    assert bg.expected_purchases_new_customer(52) == pytest.approx(1.444004, abs=1e-3)


def test_bgnbd_pmf_btyd_manual():
    m = BetaGeoModel.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    assert m.probability_of_purchases(10, 2) == pytest.approx(1.07869e-07, rel=1e-4)
    assert m.probability_of_purchases(0, 39) == pytest.approx(0.5737864, rel=1e-6)
    expected = [0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
                0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260]
    np.testing.assert_allclose(m.probability_of_purchases(np.arange(11, 21), 30), expected, rtol=1e-6)


def test_bgnbd_customer_1516_btyd_walkthrough():
    m = BetaGeoModel.from_params({"r": 0.2425982, "alpha": 4.413684, "a": 0.7929899, "b": 2.426167})
    assert m.expected_purchases(52, 26, 30.86, 31) == pytest.approx(25.75659, rel=2e-3)
    assert m.p_alive(26, 30.86, 31) == pytest.approx(0.9688523, abs=2e-4)


def test_bgnbd_per_customer_ll_is_stable_for_x_200():
    m = BetaGeoModel.from_params({"r": 0.25, "alpha": 4, "a": 0.8, "b": 2.5})
    ll = m._loglik(m._params(), (np.array([200.0, 0.0]), np.array([38.0, 0.0]), np.array([40.0, 40.0])))
    np.testing.assert_allclose(ll, [100.7957, -0.59947382], rtol=1e-6)


# -- Pareto/NBD -----------------------------------------------------------------------------------------------
def test_pareto_nbd_params_and_ll(pnbd):
    np.testing.assert_allclose(pnbd.params_[["r", "alpha", "s", "beta"]], [0.553, 10.578, 0.606, 11.669], rtol=2e-3)
    assert pnbd.log_likelihood_ == pytest.approx(-9594.98, abs=0.01)
    np.testing.assert_allclose(pnbd.standard_errors_, [0.0476264, 0.8427222, 0.1872594, 6.2105448], rtol=0.01)


def test_pareto_nbd_warm_start_from_a_subset_reaches_the_full_optimum(cdnow, monkeypatch):
    """From 2,000 distinct rows the quasi-Newton search runs on a weighted subset and Newton steps on all rows
    finish the fit: the optimum, log-likelihood and standard errors are those of the search on all rows."""
    from ltvkit.models import _base

    rng = np.random.default_rng(7)
    reps = 3
    x = np.tile(cdnow["frequency"].to_numpy(float), reps)
    tx = np.tile(cdnow["recency"].to_numpy(float) * 7, reps)
    T = np.tile(cdnow["T"].to_numpy(float) * 7, reps) + rng.integers(0, 3, len(x))
    tx = np.where(x > 0, np.minimum(np.round(tx) + rng.integers(0, 3, len(x)), T), 0.0)
    drawn = []
    original = _base._weighted_subsample
    monkeypatch.setattr(_base, "_weighted_subsample", lambda *a: drawn.append(1) or original(*a))
    sub = ParetoNBDModel().fit(x, tx, T)
    assert sub.n_unique_rows_ > ParetoNBDModel._subsample_above and drawn
    monkeypatch.setattr(ParetoNBDModel, "_subsample_above", 10**9)
    drawn.clear()
    full = ParetoNBDModel().fit(x, tx, T)
    assert not drawn
    np.testing.assert_allclose(sub.params_, full.params_, rtol=1e-6)
    assert sub.log_likelihood_ == pytest.approx(full.log_likelihood_, abs=1e-6)
    np.testing.assert_allclose(sub.standard_errors_, full.standard_errors_, rtol=1e-3)


def test_pareto_nbd_customer_1516():
    m = ParetoNBDModel.from_params({"r": 0.55315, "alpha": 10.57633, "s": 0.60625, "beta": 11.67150})
    assert m.expected_purchases(52, 26, 30.857, 31) == pytest.approx(25.45647, abs=5e-3)
    assert m.p_alive(26, 30.857, 31) == pytest.approx(0.997874, abs=1e-5)
    lt = ParetoNBDModel.from_params({"r": 0.5534, "alpha": 10.5802, "s": 0.6061, "beta": 11.6562})
    assert lt.expected_purchases(52, 26, 30.857, 31) == pytest.approx(25.46, abs=0.01)
    assert lt.p_alive(26, 30.857, 31) == pytest.approx(0.9979, abs=1e-4)


def test_pareto_nbd_unconditional_btyd_manual(pnbd):
    # The manual does not print the parameters behind this vector; lifetimes compares its own fit loosely too.
    expected = [0, 0.05077821, 0.09916088, 0.14542507, 0.18979930, 0.23247466, 0.27361274, 0.31335159,
                0.35181024, 0.38909211]
    np.testing.assert_allclose(pnbd.expected_purchases_new_customer(np.arange(10.0)), expected, rtol=6e-3)
    m = ParetoNBDModel.from_params({"r": 0.55315, "alpha": 10.57633, "s": 0.60625, "beta": 11.67150})
    assert m.expected_purchases_new_customer(52) == pytest.approx(1.473434, abs=1e-4)


def test_pareto_nbd_underflow_regression():
    m = ParetoNBDModel.from_params({"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67})
    np.testing.assert_allclose(m.expected_purchases(10, [132, 133], 200, 200),
                               [6.2060517889632418, 6.2528722475748113], rtol=1e-8)


def test_pareto_nbd_pathological_p_alive_is_finite():
    m = ParetoNBDModel.from_params({"r": 0.5143, "alpha": 2.8845, "s": 0.2856, "beta": 14.1087})
    p = m.p_alive([221, 254, 161, 204], [460.0, 470.0, 300.0, 500.0], [600.0, 600.0, 600.0, 600.0])
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))


def test_pareto_nbd_pmf_sums_to_one(pnbd):
    assert pnbd.probability_of_purchases(np.arange(400), 39.0).sum() == pytest.approx(1.0, abs=1e-8)


# -- MBG/NBD -------------------------------------------------------------------------------------------------
def test_mbgnbd_params_btydplus(cdnow):
    m = ModifiedBetaGeoModel().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(m.params_[["r", "alpha", "a", "b"]], [0.525, 6.183, 0.891, 1.614], atol=1e-3)
    assert m.log_likelihood_ == pytest.approx(-9582.13, abs=0.01)


def test_mbgnbd_per_customer_ll_x_200():
    m = ModifiedBetaGeoModel.from_params({"r": 0.53, "alpha": 6.18, "a": 0.89, "b": 1.614})
    ll = m._loglik(m._params(), (np.array([200.0]), np.array([38.0]), np.array([40.0])))
    assert ll[0] == pytest.approx(91.808242, rel=1e-6)


# -- Gamma-Gamma ----------------------------------------------------------------------------------------------
def test_gamma_gamma_fader_hardie(cdnow_spend):
    repeat = cdnow_spend[cdnow_spend["x"] > 0]
    m = GammaGammaModel().fit(repeat["x"], repeat["zbar"])
    np.testing.assert_allclose(m.params_[["p", "q", "v"]], [6.25, 3.74, 15.44], atol=0.01)
    assert m.log_likelihood_ == pytest.approx(-4055.92, abs=0.01)
    spend = m.expected_spend(cdnow_spend["x"], cdnow_spend["zbar"]).head(10)
    expected = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    np.testing.assert_allclose(spend, expected, atol=0.1)


# -- BG/BB on the donations data (Fader, Hardie & Shang 2010) ---------------------------------------------------
@pytest.fixture(scope="module")
def bgbb(donations):
    return BetaGeoBetaBinomModel().fit(donations["frequency"], donations["recency"], donations["periods"],
                                       donations["weights"])


def test_bgbb_params_and_ll(bgbb):
    np.testing.assert_allclose(bgbb.params_, [1.203507, 0.7497667, 0.6567568, 2.783887], rtol=1e-3)
    assert bgbb.log_likelihood_ == pytest.approx(-33225.58, abs=0.01)


def test_bgbb_p_alive_table_6(bgbb):
    np.testing.assert_allclose(bgbb.p_alive([0, 2, 6], [0, 4, 6], 6, m_periods_in_future=1), [0.11, 0.59, 0.93],
                               atol=0.01)


def test_bgbb_expectations(bgbb, donations):
    total = (bgbb.expected_purchases(5, donations["frequency"], donations["recency"], donations["periods"])
             * donations["weights"]).sum()
    assert total == pytest.approx(12884.2, abs=0.5)
    np.testing.assert_allclose(11104 * bgbb.probability_of_purchases([0, 6], 6), [3454.9, 1253.1], atol=0.1)


def test_bgbb_btyd_walkthrough():
    m = BetaGeoBetaBinomModel.from_params({"alpha": 1.203507, "beta": 0.7497667, "gamma": 0.6567568,
                                           "delta": 2.783887})
    assert m.expected_purchases_new_customer(10) == pytest.approx(3.179805, rel=1e-5)
    np.testing.assert_allclose(m.expected_purchases(10, [0, 4], [0, 5], 6), [0.1302169, 3.627858], rtol=1e-3)


# -- sBG (Fader & Hardie 2007, "How to project customer retention") ------------------------------------------------
@pytest.mark.parametrize(("survivors", "expected"), [
    ([1000, 631, 468, 382, 326, 289, 262, 241], [0.704, 1.182]),
    ([1000, 869, 743, 653, 593, 551, 517, 491], [0.668, 3.806]),
])
def test_sbg_fader_hardie_2007(survivors, expected):
    s = np.array(survivors)
    duration = np.r_[np.arange(1, 8), 7]
    churned = np.r_[np.ones(7, dtype=bool), False]
    m = ShiftedBetaGeoModel().fit(duration, churned, weights=np.r_[s[:-1] - s[1:], s[-1]])
    np.testing.assert_allclose(m.params_, expected, atol=1e-3)
    np.testing.assert_allclose(m.survival_function(np.arange(8)) * 1000, survivors, rtol=0.05)

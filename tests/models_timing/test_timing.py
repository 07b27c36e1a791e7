from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from ltvkit.exceptions import InputError
from ltvkit.models import BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel
from ltvkit.models.timing import next_purchase_cdf, next_purchase_timing, p_alive

BG = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}
PNBD = {"r": 0.5534, "alpha": 10.5802, "s": 0.6061, "beta": 11.6562}
DAILY_BG = {"r": 0.9, "alpha": 60.0, "a": 0.7, "b": 4.0}
DAILY_PNBD = {"r": 0.9, "alpha": 60.0, "s": 0.8, "beta": 250.0}


def test_p_alive_matches_published_values():
    # BTYD walkthrough: customer 1516 (x=26, t_x=30.857, T=31)
    assert p_alive(BG, 26, 30.857, 31, kind="bgnbd") == pytest.approx(0.9688523, abs=2e-5)
    assert p_alive(PNBD, 26, 30.857, 31, kind="pnbd") == pytest.approx(0.997874, abs=5e-5)


def test_p_alive_agrees_with_the_fitted_model_classes():
    x = np.array([0, 1, 3, 10, 50])
    tx = np.array([0, 5, 20, 30, 35.0])
    T = np.full(5, 38.0)
    for cls, params, kind in [(BetaGeoModel, BG, "bgnbd"), (ModifiedBetaGeoModel, BG, "mbgnbd"),
                              (ParetoNBDModel, PNBD, "pnbd")]:
        model = cls.from_params(params)
        np.testing.assert_allclose(p_alive(model, x, tx, T), model.p_alive(x, tx, T), rtol=1e-6, atol=1e-12)
        assert p_alive(params, x, tx, T, kind=kind).shape == (5,)


def test_bgnbd_hand_computed_case():
    # x=2, T=38.86 weeks: lambda | alive ~ Gamma(2.2426, 43.2736); P(tau <= 1 week) = 1 - (43.27/44.27)^2.2426
    shape, A = BG["r"] + 2, BG["alpha"] + 38.86
    expected = 1 - (A / (A + 1)) ** shape
    got = next_purchase_cdf(BG, 2, 30.43, 38.86, 1.0, conditional_on_alive=True, kind="bgnbd")
    assert got == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.049944, abs=1e-5)  # by hand: 1 - exp(2.2426 * ln(43.2736/44.2736))
    tab = next_purchase_timing(BG, [2], [30.43], [38.86], kind="bgnbd", days_per_unit=7)
    assert tab["median_days_to_next_purchase"].iloc[0] == pytest.approx(7 * A * (2 ** (1 / shape) - 1), rel=1e-12)
    assert tab["expected_days_to_next_purchase"].iloc[0] == pytest.approx(7 * A / (shape - 1), rel=1e-12)
    pa = p_alive(BG, 2, 30.43, 38.86, kind="bgnbd")
    assert tab["p_purchase_7d"].iloc[0] == pytest.approx(pa * expected, rel=1e-12)
    assert tab["p_buy_again_if_alive"].iloc[0] == 1.0


def test_pnbd_alive_cdf_is_the_integral_of_its_density():
    r, alpha, s, beta = PNBD.values()
    for x, T, t in [(0, 38.0, 4.0), (2, 38.0, 10.0), (10, 38.0, 100.0), (0, 5.0, np.inf), (40, 60.0, 3.0)]:
        A, B, R = alpha + T, beta + T, r + x

        def f(u, A=A, B=B, R=R):
            return R / (A + u) * (A / (A + u)) ** R * (B / (B + u)) ** s

        want = integrate.quad(f, 0, t, epsabs=1e-13, epsrel=1e-11, limit=200)[0]
        got = next_purchase_cdf(PNBD, x, 0 if x == 0 else T / 2, T, t, conditional_on_alive=True, kind="pnbd")
        assert got == pytest.approx(want, rel=2e-5, abs=1e-9)


def test_pnbd_with_equal_scales_has_a_closed_form():
    # A = B: f(u) = R A^(R+s) (A+u)^-(R+s+1), so F(t) = R/(R+s) (1 - (A/(A+t))^(R+s))
    params = {"r": 0.7, "alpha": 20.0, "s": 1.3, "beta": 20.0}
    x, T, t = 3, 30.0, 12.0
    A, R, s = 50.0, 3.7, 1.3
    want = R / (R + s) * (1 - (A / (A + t)) ** (R + s))
    assert next_purchase_cdf(params, x, 10, T, t, conditional_on_alive=True, kind="pnbd") == pytest.approx(want, rel=1e-9)
    tab = next_purchase_timing(params, [x], [10], [T], kind="pnbd")
    mass = R / (R + s)
    assert tab["p_buy_again_if_alive"].iloc[0] == pytest.approx(mass, rel=1e-9)
    # median given it happens: (A/(A+m))^(R+s) = 1/2
    assert tab["median_days_to_next_purchase"].iloc[0] == pytest.approx(A * (2 ** (1 / (R + s)) - 1), rel=1e-6)
    # mean given it happens: A / (R+s-1)
    assert tab["expected_days_to_next_purchase"].iloc[0] == pytest.approx(A / (R + s - 1), rel=1e-4)


@pytest.mark.parametrize("kind, params", [("bgnbd", DAILY_BG), ("pnbd", DAILY_PNBD)])
def test_alive_timing_matches_posterior_simulation(kind, params):
    """Draw lambda (and mu) from the posterior given alive, simulate the wait, compare."""
    rng = np.random.default_rng(0)
    x, T, n = 4, 200.0, 400_000
    lam = rng.gamma(params["r"] + x, 1.0, n) / (params["alpha"] + T)
    tau = rng.exponential(1.0, n) / lam
    if kind == "pnbd":
        mu = rng.gamma(params["s"], 1.0, n) / (params["beta"] + T)
        tau = np.where(rng.exponential(1.0, n) / mu < tau, np.inf, tau)
    tab = next_purchase_timing(params, [x], [150.0], [T], kind=kind)
    for k in (7, 14, 30, 60, 90):
        share = np.mean(tau <= k)
        se = np.sqrt(share * (1 - share) / n)
        assert abs(tab[f"p_purchase_{k}d_if_alive"].iloc[0] - share) < 4 * se
    happens = np.isfinite(tau)
    assert abs(tab["p_buy_again_if_alive"].iloc[0] - happens.mean()) < 4 * np.sqrt(0.25 / n)
    med = np.median(tau[happens])
    assert tab["median_days_to_next_purchase"].iloc[0] == pytest.approx(med, rel=0.01)
    mean, se_mean = tau[happens].mean(), tau[happens].std() / np.sqrt(happens.sum())
    assert abs(tab["expected_days_to_next_purchase"].iloc[0] - mean) < 5 * se_mean


@pytest.mark.parametrize("kind, params", [("bgnbd", DAILY_BG), ("mbgnbd", DAILY_BG), ("pnbd", DAILY_PNBD)])
def test_unconditional_probabilities_match_simulated_futures(kind, params, sim):
    """Simulate whole customer histories and futures from known parameters; compare predicted and observed."""
    rng = np.random.default_rng(1)
    T = rng.integers(60, 400, 30_000).astype(float)
    d = sim(kind, params, T, rng=rng)
    tab = next_purchase_timing(params, d.x, d.tx, d.T, kind=kind, horizons=(7, 30, 90))
    for k in (7, 30, 90):
        p = tab[f"p_purchase_{k}d"].to_numpy()
        observed = (d.next <= k).sum()
        se = np.sqrt(np.sum(p * (1 - p)))
        assert abs(observed - p.sum()) < 4 * se, (k, observed, p.sum(), se)
    # calibrated within groups too: repeat buyers and one-time buyers
    p30 = tab["p_purchase_30d"].to_numpy()
    for mask in (d.x == 0, d.x >= 3):
        se = np.sqrt(np.sum(p30[mask] * (1 - p30[mask])))
        assert abs((d.next[mask] <= 30).sum() - p30[mask].sum()) < 4 * se


def test_window_median_and_dates():
    tab = next_purchase_timing(DAILY_BG, [0, 3, 10], [0, 100, 190], [200, 200, 200], kind="bgnbd",
                               as_of=dt.date(2025, 12, 31), window_days=90)
    assert (tab["median_days_if_within_window"] < 90).all()
    assert (tab["median_days_if_within_window"] <= tab["median_days_to_next_purchase"]).all()
    assert tab["median_next_purchase_date"].iloc[2] == pd.Timestamp(2025, 12, 31) + pd.Timedelta(
        days=round(tab["median_days_to_next_purchase"].iloc[2]))
    # x=0: r < 1, so the mean wait does not exist and the expected date is left empty
    assert np.isinf(tab["expected_days_to_next_purchase"].iloc[0])
    assert pd.isna(tab["expected_next_purchase_date"].iloc[0])
    pn = next_purchase_timing(DAILY_PNBD, [0, 3], [0, 100], [200, 200], kind="pnbd", window_days=90)
    assert (pn["median_days_if_within_window"] < 90).all()


def test_timing_takes_a_fitted_model_and_per_customer_parameters():
    model = ParetoNBDModel.from_params(PNBD)
    a = next_purchase_timing(model, [1, 2], [10, 20], [38, 38])
    b = next_purchase_timing({**PNBD, "alpha": np.array([PNBD["alpha"]] * 2)}, [1, 2], [10, 20], [38, 38], kind="pnbd")
    pd.testing.assert_frame_equal(a, b)


def test_bad_inputs_raise_one_clear_error():
    with pytest.raises(InputError, match="recency"):
        next_purchase_timing(BG, [1], [40], [38], kind="bgnbd")
    with pytest.raises(InputError, match="Unknown timing model"):
        next_purchase_timing(BG, [1], [10], [38], kind="weibull")
    with pytest.raises(InputError, match="missing"):
        next_purchase_timing({"r": 1.0}, [1], [10], [38], kind="pnbd")
    with pytest.raises(InputError, match="days_per_unit"):
        next_purchase_timing(BG, [1], [10], [38], kind="bgnbd", days_per_unit=0)


def test_dispatch_to_regular_and_covariate_models():
    from ltvkit.models.covariates import CovariateBetaGeoModel
    from ltvkit.models.regularity import RegularBetaGeoModel

    reg = RegularBetaGeoModel(k=2)
    reg.params_ = pd.Series(DAILY_BG)
    reg.k_ = 2
    pd.testing.assert_frame_equal(next_purchase_timing(reg, [2], [50], [100]), reg.next_purchase_timing([2], [50], [100]))
    cov = CovariateBetaGeoModel()
    cov.params_ = pd.Series(DAILY_BG)
    with pytest.raises(InputError, match="covariates"):
        next_purchase_timing(cov, [2], [50], [100])
    with pytest.raises(InputError, match="covariates"):
        p_alive(cov, [2], [50], [100])

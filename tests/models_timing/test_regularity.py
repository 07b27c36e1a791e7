from __future__ import annotations

import warnings

import numpy as np
import pytest

from ltvkit.exceptions import InputError, NotFittedError
from ltvkit.models import ModifiedBetaGeoModel
from ltvkit.models.regularity import RegularBetaGeoModel, interpurchase_stats
from ltvkit.models.timing import next_purchase_timing
from ltvkit.models.timing_validation import timing_accuracy

TRUE = {"r": 2.0, "alpha": 60.0, "a": 0.5, "b": 5.0}




def _simulate(k, n, seed):
    import importlib.util
    import pathlib

    spec = importlib.util.spec_from_file_location("_tsim", pathlib.Path(__file__).with_name("conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rng = np.random.default_rng(seed)
    T = rng.integers(120, 365, n).astype(float)
    d = mod.simulate("mbgnbd", TRUE, T, k=k, rng=rng, return_times=True)
    cust = np.concatenate([[i] * len(t) for i, t in enumerate(d.times)])
    tim = np.concatenate(d.times)
    st = interpurchase_stats(cust, tim).reindex(range(n))
    d.litt = st["litt"].fillna(0.0).to_numpy()
    return d


def test_k1_is_exactly_mbgnbd():
    d = _simulate(1, 1500, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = RegularBetaGeoModel(k=1).fit(d.x, d.tx, d.T)
        mbg = ModifiedBetaGeoModel().fit(d.x, d.tx, d.T)
    assert reg.log_likelihood_ == pytest.approx(mbg.log_likelihood_, abs=1e-4)
    a = reg.next_purchase_timing(d.x[:50], d.tx[:50], d.T[:50])
    b = next_purchase_timing(reg.params_, d.x[:50], d.tx[:50], d.T[:50], kind="mbgnbd")
    np.testing.assert_allclose(a["p_alive"], b["p_alive"], rtol=1e-9)
    np.testing.assert_allclose(a["p_purchase_30d"], b["p_purchase_30d"], rtol=1e-9)
    np.testing.assert_allclose(a["median_days_to_next_purchase"], b["median_days_to_next_purchase"], rtol=1e-6)


def test_regular_buyers_recover_k_and_time_better_than_mbgnbd():
    d = _simulate(3, 2500, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = RegularBetaGeoModel(k_max=4).fit(d.x, d.tx, d.T, litt=d.litt)
        mbg = ModifiedBetaGeoModel().fit(d.x, d.tx, d.T)
    assert reg.k_ == 3
    assert reg.k_log_likelihoods_.idxmax() == 3
    back = RegularBetaGeoModel.from_dict(reg.to_dict())  # the chosen k and k_max come back
    assert (back.k, back.k_max, back.k_) == (None, 4, 3)
    np.testing.assert_array_equal(back.p_alive(d.x, d.tx, d.T), reg.p_alive(d.x, d.tx, d.T))
    assert reg.params_["alpha"] == pytest.approx(TRUE["alpha"], rel=0.25)
    tab_r = reg.next_purchase_timing(d.x, d.tx, d.T, window_days=90)
    tab_m = next_purchase_timing(mbg, d.x, d.tx, d.T, window_days=90)
    acc_r = timing_accuracy(tab_r, d.next, 90)
    acc_m = timing_accuracy(tab_m, d.next, 90)
    assert acc_r["mae_days_window"] < acc_m["mae_days_window"]
    # the regular model is calibrated on data from its own family
    for k in (7, 30, 90):
        p = tab_r[f"p_purchase_{k}d"].to_numpy()
        se = np.sqrt(np.sum(p * (1 - p)))
        assert abs((d.next <= k).sum() - p.sum()) < 4 * se


def test_erlang_survival_matches_posterior_simulation():
    model = RegularBetaGeoModel(k=3).__class__.__new__(RegularBetaGeoModel)
    RegularBetaGeoModel.__init__(model, k=3)
    import pandas as pd

    model.params_ = pd.Series(TRUE)
    model.k_ = 3
    x, tx, T = 5.0, 150.0, 200.0
    tab = model.next_purchase_timing([x], [tx], [T])
    # posterior given alive: lambda ~ Gamma(r + kx + i, alpha + T) with phase weights; simulate by importance:
    rng = np.random.default_rng(5)
    n = 400_000
    lam = rng.gamma(TRUE["r"] + 3 * x, 1.0, n) / (TRUE["alpha"] + tx)  # posterior before the silent gap
    # condition on no purchase in the 50-day gap by rejection: the renewal clock restarted at tx
    first = rng.gamma(3, 1.0, n) / lam
    keep = first > (T - tx)
    wait = first[keep] - (T - tx)
    for k in (7, 30, 90):
        share = np.mean(wait <= k)
        se = np.sqrt(share * (1 - share) / keep.sum())
        assert abs(tab[f"p_purchase_{k}d_if_alive"].iloc[0] - share) < 4 * se
    assert tab["median_days_to_next_purchase"].iloc[0] == pytest.approx(np.median(wait), rel=0.02)


def test_errors():
    with pytest.raises(InputError, match="litt"):
        RegularBetaGeoModel().fit([1, 2], [5, 6], [10, 10])
    with pytest.raises(NotFittedError):
        RegularBetaGeoModel(k=2).p_alive([1], [5], [10])


def test_k_chosen_on_a_subsample_of_many_rows_matches_the_full_choice():
    """With more distinct rows than the subsample size, k is chosen on a weighted subsample and only the chosen k
    is fitted on all rows: the same k and (to the optimiser's tolerance) the same parameters as fitting every k."""
    d = _simulate(3, 2500, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = RegularBetaGeoModel(k_max=4).fit(d.x, d.tx, d.T, litt=d.litt)
        sub = RegularBetaGeoModel(k_max=4)
        sub._subsample_above, sub._subsample_size = 300, 600  # force the subsample path on this small shop
        sub.fit(d.x, d.tx, d.T, litt=d.litt)
    assert sub.k_ == full.k_ == 3
    np.testing.assert_allclose(sub.params_.to_numpy(), full.params_.to_numpy(), rtol=1e-5)
    assert sub.log_likelihood_ == pytest.approx(full.log_likelihood_, abs=1e-4)
    # the other k: the likelihood on all rows at the subsample's optimum, at most the full fit's maximum
    for k in (1, 2, 4):
        assert sub.k_log_likelihoods_[k] <= full.k_log_likelihoods_[k] + 1e-6


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_medians_solve_the_survival_equation(k):
    """The median wait (and the median given a purchase within a window) is the root of the alive survival:
    S(median) = 1/2, and S(m_w) = 1 - (1 - S(w)) / 2, to 1e-9, for customers from a few hours to years
    since their last purchase."""
    m = RegularBetaGeoModel.from_params(TRUE)
    m.k_ = k
    rng = np.random.default_rng(k)
    x = rng.integers(0, 40, 3000).astype(float)
    T = rng.uniform(1, 1500, 3000)
    t_x = np.where(x > 0, T * rng.uniform(0, 1, 3000), 0.0)
    med = m._alive_median(x, t_x, T)
    s = m._surv_diag(med, x, t_x, T)
    np.testing.assert_allclose(s, 0.5, atol=1e-9)
    window = 30.0
    med_w = m._alive_median(x, t_x, T, window)
    level = 1 - (1 - m._surv_diag(np.full(len(x), window), x, t_x, T)) / 2
    np.testing.assert_allclose(m._surv_diag(med_w, x, t_x, T), level, atol=1e-9)
    assert np.all((med_w > 0) & (med_w < window))


def test_expected_purchases_with_k1_are_mbgnbds():
    reg = RegularBetaGeoModel.from_params(TRUE, k=1)
    mbg = ModifiedBetaGeoModel.from_params(TRUE)
    x = np.array([0.0, 1, 3, 10, 40, 2])
    tx = np.array([0.0, 20, 100, 150, 300, 200])
    T = np.array([5.0, 60, 200, 150, 365, 365])
    for t in (1.0, 30.0, 365.0):
        np.testing.assert_allclose(reg.expected_purchases(t, x, tx, T), mbg.expected_purchases(t, x, tx, T),
                                   rtol=1e-10, atol=1e-14)
    assert reg.expected_purchases(0.0, 3.0, 100.0, 200.0) == 0.0
    # one customer, several horizons
    np.testing.assert_allclose(reg.expected_purchases([10.0, 30.0, 60.0], 2.0, 30.0, 40.0),
                               mbg.expected_purchases([10.0, 30.0, 60.0], 2.0, 30.0, 40.0), rtol=1e-10)
    # a user's mistake in the horizons is one sentence, the same from both models
    for bad, words in ((-1.0, "negative"), ("soon", "must hold numbers"), ([1.0, 2.0], "2 values for 6 customers")):
        for model in (reg, mbg):
            with pytest.raises(InputError, match=words):
                model.expected_purchases(bad, x, tx, T)


def test_expected_purchases_of_regular_buyers_match_their_holdout_on_average():
    """Law of total expectation: over customers simulated from the k = 3 model, the mean of the conditional
    expectation for the next 120 days equals the mean number they then bought, overall and per calibration
    frequency (within four standard errors); the Poisson-clock MBG/NBD with the same parameters misses."""
    import importlib.util
    import pathlib

    spec = importlib.util.spec_from_file_location("_tsim", pathlib.Path(__file__).with_name("conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rng = np.random.default_rng(11)
    n, h = 6000, 120.0
    T = rng.integers(60, 300, n).astype(float)
    d = mod.simulate("mbgnbd", TRUE, T + h, k=3, rng=rng, return_times=True)
    times = [np.asarray(t[1:]) for t in d.times]  # repeat purchases (the first one is at 0)
    x = np.array([float((t <= c).sum()) for t, c in zip(times, T, strict=True)])
    tx = np.array([float(t[t <= c].max()) if (t <= c).any() else 0.0 for t, c in zip(times, T, strict=True)])
    hold = np.array([float(((t > c) & (t <= c + h)).sum()) for t, c in zip(times, T, strict=True)])
    pred = RegularBetaGeoModel.from_params(TRUE, k=3).expected_purchases(h, x, tx, T)
    poisson = ModifiedBetaGeoModel.from_params(TRUE).expected_purchases(h, x, tx, T)
    se = hold.std(ddof=1) / np.sqrt(n)
    assert abs(pred.mean() - hold.mean()) < 4 * se
    assert abs(poisson.mean() - hold.mean()) > 4 * se
    for lo, hi in ((0, 1), (1, 2), (2, 4), (4, 1000)):
        sel = (x >= lo) & (x < hi)
        assert sel.sum() > 150
        assert abs(pred[sel].mean() - hold[sel].mean()) < 4 * hold[sel].std(ddof=1) / np.sqrt(sel.sum()), (lo, hi)


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("params", [TRUE, {"r": 2.0, "alpha": 30.0, "a": 0.3, "b": 5.0},
                                    {"r": 0.2, "alpha": 2.0, "a": 1.5, "b": 1.0}])
def test_expected_purchases_equal_the_series_summed_term_by_term(k, params):
    """The tail walk (negative-binomial tails by the pmf recurrence, rows leaving as they converge) against the
    series of the docstring summed with scipy's regularized incomplete beta for every term; the second set of
    parameters (slow dropout decay, short horizon) is where the walk's rounding noise once stalled it."""
    from scipy import special

    rng = np.random.default_rng(k)
    n = 40
    T = rng.uniform(10, 700, n)
    x = rng.poisson(rng.gamma(1.0, 3.0, n)).astype(float)
    tx = np.where(x > 0, T * rng.uniform(0, 1, n), 0.0)
    m = RegularBetaGeoModel.from_params(params, k=k)
    r, alpha, a, b = (params[p] for p in ("r", "alpha", "a", "b"))
    w, p_alive = m._alive_weights(x, tx, T)
    for h in (30.0, 365.0):
        prob = (alpha + T) / (alpha + T + h)
        b_alive = b + x + 1
        total, survive = np.zeros(n), np.ones(n)
        for j in range(1, 20_000):
            if j > 1:
                survive = survive * (b_alive + j - 2) / (a + b_alive + j - 2)
            term = survive * sum(w[:, i] * (1 - special.betainc(r + k * x + i, j * k - i, prob)) for i in range(k))
            total += term
            if np.all(term < 1e-14 * total):
                break
        np.testing.assert_allclose(m.expected_purchases(h, x, tx, T), p_alive * total, rtol=1e-9)
    # several horizons at once: the same numbers
    at = m.expected_purchases_at([0.0, 30.0, 365.0], x, tx, T)
    assert at.shape == (3, n) and np.all(at[0] == 0)
    for row, h in zip(at[1:], (30.0, 365.0), strict=True):
        np.testing.assert_allclose(row, m.expected_purchases(h, x, tx, T), rtol=1e-12)

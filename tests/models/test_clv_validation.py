"""Discounted CLV and the holdout validation helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltvkit import InputError
from ltvkit.models import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    calibration_by_frequency,
    compare_models,
    cumulative_tracking,
    customer_lifetime_value,
    decile_lift,
    discounted_expected_transactions,
    gini,
    holdout_errors,
)
from ltvkit.models.validation import expected_per_customer

BG = BetaGeoModel.from_params({"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259})
GG = GammaGammaModel.from_params({"p": 6.25, "q": 3.74, "v": 15.44})


def test_monthly_clv_equals_sum_of_discounted_monthly_increments():
    x, tx, T, m = np.array([2.0, 0.0]), np.array([30.43, 0.0]), np.array([38.86, 38.86]), np.array([22.35, 0.0])
    clv = customer_lifetime_value(BG, GG, x, tx, T, m, time=12, discount_rate=0.01, freq="W", margin_rate=0.5)
    spend = GG.expected_spend(x, m)
    manual = sum((BG.expected_purchases(i * 4.345, x, tx, T) - BG.expected_purchases((i - 1) * 4.345, x, tx, T))
                 * spend / 1.01 ** i for i in range(1, 13))
    np.testing.assert_allclose(clv, 0.5 * manual, rtol=1e-12)
    assert clv[0] > clv[1] > 0


def test_continuous_discounting_matches_fine_riemann_sum():
    m = ParetoNBDModel.from_params({"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67})
    rate = 0.15
    delta = np.log1p(rate) / 52.143
    grid = np.linspace(0, 104, 20_001)
    e = m.expected_purchases(grid, np.full_like(grid, 4.0), np.full_like(grid, 30.0), np.full_like(grid, 38.0))
    mid = (grid[1:] + grid[:-1]) / 2
    riemann = np.sum(np.diff(e) * np.exp(-delta * mid))
    det = discounted_expected_transactions(m, 4, 30.0, 38.0, annual_discount_rate=rate, horizon=104, freq="W")
    assert det == pytest.approx(riemann, rel=1e-5)
    # an infinite horizon (DERT) is worth more than two years, and a higher rate is worth less
    assert discounted_expected_transactions(m, 4, 30.0, 38.0, annual_discount_rate=rate, freq="W") > det
    assert discounted_expected_transactions(m, 4, 30.0, 38.0, annual_discount_rate=0.3, horizon=104, freq="W") < det


def test_clv_rejects_unknown_freq():
    with pytest.raises(InputError, match="freq 'Q'"):
        customer_lifetime_value(BG, None, 1, 1.0, 2.0, 10.0, freq="Q")


def test_holdout_errors():
    err = holdout_errors([1.0, 2.0, 3.0], [1, 4, 3])
    assert err["mae"] == pytest.approx(2 / 3)
    assert err["rmse"] == pytest.approx(np.sqrt(4 / 3))
    assert err["bias"] == pytest.approx(-2 / 3)
    with pytest.raises(InputError, match="one of each"):
        holdout_errors([1.0], [1, 2])


def test_gini_and_decile_lift():
    rng = np.random.default_rng(0)
    actual = rng.gamma(0.5, 100, 1000)
    assert gini(actual, actual) == pytest.approx(1.0)
    assert abs(gini(rng.random(1000), actual)) < 0.15
    assert gini(-actual, actual) < -0.9
    lift = decile_lift(actual + rng.normal(0, 1, 1000), actual)
    assert list(lift["decile"]) == list(range(1, 11)) and lift["customers"].sum() == 1000
    assert lift["lift"].iloc[0] > 3 and lift["share_of_actual"].sum() == pytest.approx(1.0)
    assert lift["mean_actual"].is_monotonic_decreasing


def test_calibration_by_frequency_buckets():
    out = calibration_by_frequency([0, 0, 1, 9, 12], [0.1, 0.3, 1.0, 5.0, 7.0], [0, 1, 1, 4, 8], max_bucket=7)
    assert list(out["frequency"]) == ["0", "1", "7+"]
    assert list(out["customers"]) == [2, 1, 2]
    assert out["mean_actual"].tolist() == [0.5, 1.0, 6.0]


def test_cumulative_tracking_and_compare_models(cdnow):
    x, tx, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    bg = BetaGeoModel().fit(x, tx, T)
    pn = ParetoNBDModel().fit(x, tx, T)
    track = cumulative_tracking(bg, x, tx, T, holdout_times=[0.5, 1.5, 1.7, 3.0], horizon=3, step=1)
    assert track["period_end"].tolist() == [1.0, 2.0, 3.0]
    assert track["actual_cumulative"].tolist() == [1, 3, 4]
    assert track["predicted_cumulative"].iloc[-1] == pytest.approx(
        float(np.sum(bg.expected_purchases(3, x, tx, T))), rel=1e-9)
    # every period end from one P(alive): the same numbers as one expected_purchases call per end
    for model in (bg, pn):
        track = cumulative_tracking(model, x, tx, T, holdout_times=[0.5], horizon=39, step=3.5)
        each = [float(np.sum(model.expected_purchases(e, x, tx, T))) for e in track["period_end"]]
        np.testing.assert_allclose(track["predicted_cumulative"], each, rtol=1e-12)
        assert track["period_end"].iloc[-1] == 39 and np.all(np.diff(track["predicted_cumulative"]) > 0)
    table = compare_models({"bgnbd": bg, "pnbd": pn}, x, tx, T, actual=np.zeros(len(x)), t=39)
    assert list(table["model"]) == ["bgnbd", "pnbd"]  # BG/NBD has the lower BIC on CDNOW
    assert {"AIC", "BIC", "mae", "rmse"} <= set(table.columns)
    assert isinstance(table, pd.DataFrame)
    # the errors come from predictions made once per distinct (x, t_x, T) row: the same as one per customer
    rng = np.random.default_rng(4)
    actual = rng.poisson(1.0, len(x)).astype(float)
    table = compare_models({"bgnbd": bg, "pnbd": pn}, x, tx, T, actual=actual, t=39).set_index("model")
    for name, model in (("bgnbd", bg), ("pnbd", pn)):
        each = np.asarray(model.expected_purchases(39, x, tx, T), dtype=float)
        assert len(np.unique(np.column_stack([x, tx, T]), axis=0)) < len(x)  # rows repeat on CDNOW
        np.testing.assert_array_equal(expected_per_customer(model, 39, x, tx, T), each)
        assert table.loc[name, "mae"] == pytest.approx(np.mean(np.abs(each - actual)), rel=1e-12)
    with pytest.raises(InputError):
        expected_per_customer(bg, 39, x, tx[:-1], T)

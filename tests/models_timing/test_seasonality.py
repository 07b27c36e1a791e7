"""Seasonality of repeat buying: the profile recovers what the data were made with, the operational time keeps a
flat pace as calendar time, and `ltv predict` uses a strong season only when it helps on the shop's own holdout."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ltvkit import InputError, Workspace
from ltvkit.features import rfm_summary
from ltvkit.features.seasonality import calendar_covariates, daily_repeat_series, shop_malls
from ltvkit.models.seasonality import SeasonalProfile
from ltvkit.pipeline import predict_customers

MONTHS = np.array([0.5, 0.5, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.4, 2.5, 2.5])  # a gift shop: Nov-Dec peak


def _series(days: pd.DatetimeIndex, mult: np.ndarray, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    exposure = np.linspace(2000, 6000, len(days))
    trend = np.exp(-0.3 * np.arange(len(days)) / 365.25)
    return pd.DataFrame({"day": days, "repeat": rng.poisson(0.02 * exposure * trend * mult).astype(float),
                         "new": 0.0, "exposure": exposure})


def test_the_profile_recovers_campaign_and_month_multipliers():
    days = pd.date_range("2022-01-01", "2024-12-31", freq="D")
    cov = calendar_covariates(days, ["rakuten"])
    lift = {"rakuten:day_rule": 1.3, "rakuten:window": 1.8}
    mult = MONTHS[days.month - 1] / MONTHS[0]
    for col, m in lift.items():
        mult = mult * m ** cov[col].to_numpy()
    prof = SeasonalProfile().fit(_series(days, mult, seed=1), cov)
    assert prof.months_ and set(lift) <= set(prof.covariates_)
    for name, true in {**lift, **{f"month_{k}": MONTHS[k - 1] / MONTHS[0] for k in (4, 8, 11, 12)}}.items():
        est, se = prof.coef_[name], prof.std_err_[name]
        assert abs(est - np.log(true)) < 4 * se, (name, np.exp(est), true)
        assert se < 0.05
    # a shorter history: no month effects (one of each month cannot be told from the trend)
    short = SeasonalProfile().fit(_series(days[:400], mult[:400], seed=2), cov)
    assert not short.months_ and not any(c.startswith("month_") for c in short.coef_.index)


def test_operational_time_is_calendar_time_at_a_flat_pace_and_follows_the_season():
    days = pd.date_range("2022-01-01", "2024-12-31", freq="D")
    flat = SeasonalProfile(months=False).fit(_series(days, np.ones(len(days)), seed=3))
    tau = flat.operational(dt.date(2024, 12, 31), [0.0, 7.0, 30.0, 90.0, 365.0, 45.5])
    np.testing.assert_allclose(tau, [0.0, 7.0, 30.0, 90.0, 365.0, 45.5], rtol=0.03)
    assert np.all(np.diff(tau[:5]) > 0)
    seasonal = SeasonalProfile().fit(_series(days, MONTHS[days.month - 1], seed=4))
    # after New Year the pace is half the year's average; a year ahead is about a year
    jan = seasonal.operational(dt.date(2024, 12, 31), [30.0, 365.0])
    assert 0.4 * 30 < jan[0] < 0.7 * 30 and abs(jan[1] / 365 - 1) < 0.05
    nov = seasonal.operational(dt.date(2024, 10, 31), [30.0])
    assert nov[0] > 1.8 * 30
    with pytest.raises(InputError, match="non-negative"):
        seasonal.operational(dt.date(2024, 12, 31), [-1.0])
    with pytest.raises(InputError, match="too few"):
        SeasonalProfile().fit(_series(days[:30], np.ones(30), seed=5))


def _gift_shop(n: int = 1500, seed: int = 7) -> pd.DataFrame:
    """Customers who buy at a Poisson pace scaled by the month (MONTHS) and may stop after each purchase."""
    rng = np.random.default_rng(seed)
    start, end = pd.Timestamp("2021-07-01"), pd.Timestamp("2025-03-31")
    span = (end - start).days
    top = MONTHS.max()
    rows = []
    for c in range(n):
        t = rng.uniform(0, 0.75 * span)
        rate, p_stop = rng.gamma(2.0, 1 / 80.0), rng.beta(1.0, 12.0)
        rows.append((c, t))
        while True:
            t += rng.exponential(1 / (rate * top))
            if t >= span:
                break
            if rng.random() < MONTHS[(start + pd.Timedelta(days=t)).month - 1] / top:  # thinning
                rows.append((c, t))
                if rng.random() < p_stop:
                    break
    frame = pd.DataFrame(rows, columns=["c", "t"])
    frame["ordered_at"] = (start + pd.to_timedelta(frame["t"], unit="D")).dt.floor("s")
    k = len(frame)
    return pd.DataFrame({"source": "generic", "order_id": [f"o{i}" for i in range(k)], "line_no": 1,
                         "customer_key": "c" + frame["c"].astype(str), "ordered_at": frame["ordered_at"],
                         "sku": "gift", "quantity": 1, "unit_price": 5000, "line_amount": 5000, "shop_coupon": 0,
                         "mall_coupon": 0, "points_used": 0, "shipping_fee": 0, "status": "ordered"})


def test_predict_uses_a_strong_season_when_it_helps_and_predicts_the_quiet_months_better():
    ws = Workspace()
    orders = _gift_shop()
    ws.append_order_lines(orders)
    obs = dt.date(2024, 12, 31)
    auto = predict_customers(ws, as_of=obs, timing="model")
    by_auto = ws.read_result("predictions").to_pandas().set_index("customer_key").sort_index()
    run = ws.result_run("predictions")
    judged = run.details["seasonality"]
    assert auto["seasonality"] == "on" and auto["seasonality_reason"] == "validation"
    assert auto["seasonal_mae_seasonal"] < 0.99 * auto["seasonal_mae_plain"]
    ratio = judged["multipliers"]["month_12"] / judged["multipliers"]["month_3"]  # December against March
    assert abs(ratio / (MONTHS[11] / MONTHS[2]) - 1) < 0.25
    assert auto["seasonal_days_30d"] < 0.8 * 30  # January: a quiet month
    off = predict_customers(ws, as_of=obs, timing="model", seasonality="off")
    by_off = ws.read_result("predictions").to_pandas().set_index("customer_key").sort_index()
    assert off["seasonality"] == "off" and off["seasonality_reason"] == "option" and "seasonal_days_30d" not in off
    # what they then bought in January to March 2025 (the orders after obs, which predict did not see)
    later = orders[(orders["ordered_at"] > pd.Timestamp(obs) + pd.Timedelta(days=1))
                   & (orders["ordered_at"] < pd.Timestamp("2025-04-01"))]
    actual = later.assign(day=later["ordered_at"].dt.normalize()).drop_duplicates(["customer_key", "day"]) \
        .groupby("customer_key").size().reindex(by_auto.index, fill_value=0)
    err = {name: abs(float(frame["expected_purchases_90d"].sum()) - float(actual.sum()))
           for name, frame in (("seasonal", by_auto), ("plain", by_off))}
    assert err["seasonal"] < 0.5 * err["plain"], err
    # the timing columns stay in calendar time: the same either way
    np.testing.assert_allclose(by_auto["p_purchase_30d"], by_off["p_purchase_30d"], rtol=1e-9)


def test_daily_series_counts_repeat_days_and_exposure():
    frame = pd.DataFrame({
        "source": ["generic"] * 5 + ["rakuten"], "order_id": ["a", "b", "c", "d", "e", "f"], "line_no": 1,
        "customer_key": ["1", "1", "1", "2", "2", "2"],
        "ordered_at": pd.to_datetime(["2025-01-01 10:00", "2025-01-01 18:00", "2025-01-03 09:00", "2025-01-02 09:00",
                                      "2025-01-03 09:00", "2025-01-03 20:00"]),
        "sku": "x", "quantity": 1, "unit_price": 100, "line_amount": 100, "shop_coupon": 0, "mall_coupon": 0,
        "points_used": 0, "shipping_fee": 0, "status": "ordered"})
    ws = Workspace()
    ws.append_order_lines(frame)
    s = daily_repeat_series(ws.orders(include_cancelled=False), dt.date(2025, 1, 4))
    assert s["day"].dt.strftime("%m-%d").tolist() == ["01-01", "01-02", "01-03", "01-04"]
    # customer 2 bought on 01-03 through two sources: one repeat buyer that day, not two
    assert s["repeat"].tolist() == [0, 0, 2, 0] and s["new"].tolist() == [1, 1, 0, 0]
    assert s["exposure"].tolist() == [0, 1, 2, 2]
    assert s.attrs["mall_share"] == {"rakuten": pytest.approx(1 / 6), "yahoo": 0.0}
    assert shop_malls(s) == ["rakuten"]
    # the first days read from the prediction's own summary: the same series
    rfm = ws.engine_table("_r", rfm_summary(ws.orders(include_cancelled=False), observation_end="2025-01-04"))
    pd.testing.assert_frame_equal(daily_repeat_series(ws.orders(include_cancelled=False), dt.date(2025, 1, 4), rfm), s)
    with pytest.raises(InputError, match="seasonality"):
        predict_customers(ws, seasonality="yearly")

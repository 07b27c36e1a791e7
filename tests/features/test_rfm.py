"""rfm_summary: lifetimes' definitions, computed in the engine, from the raw CDNOW log to the paper's fit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import polars as pl
import pytest

from ltvkit import InputError, Workspace
from ltvkit.features import rfm_summary
from ltvkit.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def cdnow_log() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_key", "date", "cds", "amount"], dtype={"date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw


@pytest.fixture(scope="module")
def cdnow_rfm(cdnow_log) -> pd.DataFrame:
    return rfm_summary(cdnow_log, observation_end="1998-06-30", calibration_end="1997-09-30", freq="D",
                       freq_multiplier=7, monetary_col="amount", datetime_col="date")


def test_raw_log_reproduces_the_published_summary(cdnow_rfm):
    ref = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv").set_index("ID")
    assert len(cdnow_rfm) == 2357
    np.testing.assert_array_equal(cdnow_rfm["frequency"].to_numpy(), ref["x"].to_numpy())
    np.testing.assert_allclose(cdnow_rfm["recency"], ref["t_x"], atol=0.005)
    np.testing.assert_allclose(cdnow_rfm["T"], ref["T"], atol=0.005)
    np.testing.assert_allclose(cdnow_rfm["monetary_value"], ref["zbar"], atol=0.006)
    assert (cdnow_rfm["duration_holdout"] == 39).all()


def test_raw_log_to_fit_reproduces_the_papers(cdnow_rfm):
    x, tx, T = cdnow_rfm["frequency"], cdnow_rfm["recency"], cdnow_rfm["T"]
    bg = BetaGeoModel().fit(x, tx, T)
    np.testing.assert_allclose(bg.params_, [0.2425945, 4.4136019, 0.7929199, 2.4258881], rtol=2e-4)
    assert bg.log_likelihood_ == pytest.approx(-9582.429, abs=0.002)
    pn = ParetoNBDModel().fit(x, tx, T)
    assert pn.log_likelihood_ == pytest.approx(-9594.976, abs=0.005)
    rep = cdnow_rfm[cdnow_rfm["frequency"] > 0]
    gg = GammaGammaModel().fit(rep["frequency"], rep["monetary_value"])
    np.testing.assert_allclose(gg.params_, [6.25, 3.74, 15.44], atol=0.01)


def test_weekly_periods_collapse_same_week_purchases(cdnow_log):
    weekly = rfm_summary(cdnow_log, observation_end="1997-09-30", freq="W", monetary_col="amount")
    daily = rfm_summary(cdnow_log, observation_end="1997-09-30", freq="D", monetary_col="amount")
    assert (weekly["frequency"] <= daily["frequency"]).all()
    assert (weekly["frequency"] < daily["frequency"]).any()
    assert set(np.unique(weekly["T"] % 1)) == {0.0}
    fit = BetaGeoModel().fit(weekly["frequency"], weekly["recency"], weekly["T"])
    np.testing.assert_allclose(fit.params_[["r", "a", "b"]], [0.2426, 0.7929, 2.4259], rtol=0.25)


def test_lifetimes_definitions_on_a_small_log():
    tx = pd.DataFrame({
        "customer_key": ["a", "a", "a", "a", "b", "c"],
        "date": ["2024-01-01 09:00", "2024-01-01 23:00", "2024-01-11", "2024-01-21", "2024-01-05", "2024-02-10"],
        "amount": [10, 5, 20, 40, 7, 3],
    })
    out = rfm_summary(tx, observation_end="2024-01-31", monetary_col="amount")
    assert list(out.index) == ["a", "b"]  # c bought after the observation end
    assert out.loc["a"].tolist() == [2.0, 20.0, 30.0, 30.0]
    assert out.loc["b"].tolist() == [0.0, 0.0, 26.0, 0.0]
    monthly = rfm_summary(tx, observation_end="2024-02-29", freq="M", monetary_col="amount")
    assert monthly.loc["a", "frequency"] == 0 and monthly.loc["a", "T"] == 1 and monthly.loc["c", "T"] == 0


def test_midnight_crossing_counts_one_day():
    tx = pd.DataFrame({"customer_key": ["a", "a"], "ordered_at": pd.to_datetime(["2024-01-01 23:00",
                                                                                  "2024-01-02 01:00"])})
    out = rfm_summary(tx, observation_end=dt.date(2024, 1, 3))
    assert out.loc["a"].tolist() == [1.0, 1.0, 2.0]  # no monetary column without monetary_col


def test_holdout_columns():
    tx = pd.DataFrame({"customer_key": ["a", "a", "a", "a", "b", "c"],
                       "date": ["2024-01-01", "2024-01-05", "2024-02-03", "2024-02-03", "2024-02-10", "2024-01-20"],
                       "amount": [10, 10, 30, 10, 99, 5]})
    out = rfm_summary(tx, observation_end="2024-02-29", calibration_end="2024-01-31", monetary_col="amount")
    assert list(out.index) == ["a", "c"]  # b is new in the holdout period
    assert out.loc["a", "frequency_holdout"] == 1 and out.loc["a", "monetary_value_holdout"] == 40
    assert out.loc["c", "frequency_holdout"] == 0 and out.loc["c", "monetary_value_holdout"] == 0
    assert (out["duration_holdout"] == 29).all()


def test_polars_and_ibis_inputs_give_the_same_answer(cdnow_log):
    small = cdnow_log[cdnow_log["customer_key"] <= 200]
    pdf = rfm_summary(small, observation_end="1997-09-30", monetary_col="amount")
    pol = rfm_summary(pl.from_pandas(small), observation_end="1997-09-30", monetary_col="amount")
    assert isinstance(pol, pl.DataFrame)
    expr = rfm_summary(ibis.memtable(small), observation_end="1997-09-30", monetary_col="amount")
    assert isinstance(expr, ibis.Table)
    ib = expr.order_by("customer_key").to_pandas().set_index("customer_key")
    pd.testing.assert_frame_equal(pdf, ib, check_dtype=False)
    pd.testing.assert_frame_equal(pdf.reset_index(), pol.to_pandas(), check_dtype=False)


def test_workspace_orders_drop_cancelled_lines_and_net_coupons_and_points():
    ws = Workspace()
    base = {"source": "generic", "sku": "x", "quantity": 1, "unit_price": 1000, "line_amount": 1000,
            "shop_coupon": 0, "mall_coupon": 0, "points_used": 0, "shipping_fee": 0, "status": "ordered"}
    rows = [
        {**base, "order_id": "1", "line_no": 1, "customer_key": "k", "ordered_at": dt.datetime(2024, 1, 1, 10)},
        {**base, "order_id": "2", "line_no": 1, "customer_key": "k", "ordered_at": dt.datetime(2024, 1, 5, 10),
         "shop_coupon": 100, "mall_coupon": 50, "points_used": 30},
        {**base, "order_id": "2", "line_no": 2, "customer_key": "k", "ordered_at": dt.datetime(2024, 1, 5, 10)},
        {**base, "order_id": "3", "line_no": 1, "customer_key": "k", "ordered_at": dt.datetime(2024, 1, 9, 10),
         "status": "cancelled"},
    ]
    ws.append_order_lines(pd.DataFrame(rows))
    out = rfm_summary(ws.orders(), observation_end="2024-01-10").to_pandas()
    assert out.to_dict("records") == [{"customer_key": "k", "frequency": 1.0, "recency": 4.0, "T": 9.0,
                                       "monetary_value": 1820.0}]


def test_errors_are_one_sentence():
    tx = pd.DataFrame({"cust": ["a"], "date": ["2024-01-01"]})
    with pytest.raises(InputError, match="no customer column 'customer_key'"):
        rfm_summary(tx)
    with pytest.raises(InputError, match="freq 'Q' is not supported"):
        rfm_summary(tx, customer_col="cust", freq="Q")
    with pytest.raises(InputError, match="must be before observation_end"):
        rfm_summary(tx, customer_col="cust", observation_end="2024-01-01", calibration_end="2024-02-01")
    with pytest.raises(InputError, match="is not a date"):
        rfm_summary(tx, customer_col="cust", observation_end="soon")
    with pytest.raises(InputError, match="not list"):
        rfm_summary([1, 2])

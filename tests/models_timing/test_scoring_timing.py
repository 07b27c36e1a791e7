"""Next-purchase timing columns in ``ltv predict`` and the timing table in ``ltv validate``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ltvkit import Workspace
from ltvkit.pipeline import predict_customers
from ltvkit.scoring import validate_models
from ltvkit.synth import generate_shop

TIMING_COLUMNS = ["expected_next_purchase_date", "median_days_to_next_purchase", "p_purchase_7d", "p_purchase_14d",
                  "p_purchase_30d", "p_purchase_60d", "p_purchase_90d"]


@pytest.fixture(scope="module")
def ws():
    shop = generate_shop(customers=800, seed=3)
    w = Workspace()
    w.append_order_lines(shop.order_lines)
    yield w
    w.close()


def test_predict_has_timing_columns(ws):
    summary = predict_customers(ws, model="mbgnbd")
    scores = ws.read_result("predictions").to_pandas()
    assert set(TIMING_COLUMNS) <= set(scores.columns)
    probs = scores[[f"p_purchase_{k}d" for k in (7, 14, 30, 60, 90)]].to_numpy()
    assert ((probs >= 0) & (probs <= 1)).all()
    assert (np.diff(probs, axis=1) >= -1e-12).all()
    assert (scores["p_purchase_90d"] <= scores["p_alive"] + 1e-12).all()
    as_of = pd.Timestamp(summary["as_of"])
    dates = pd.to_datetime(scores["expected_next_purchase_date"])
    assert (dates.dropna() >= as_of).all()
    assert dates.notna().any()
    # no promise years ahead, none for customers probably gone (issue 20)
    assert (dates.dropna() <= as_of + pd.Timedelta(days=365)).all()
    assert dates[scores["p_alive"] < 0.5].isna().all()
    # predicted CLV is margin by default, as every other analysis (the shop's margin rate, not 1 = revenue)
    from ltvkit.pipeline import shop_margin_rate

    assert summary["margin_rate"] == pytest.approx(shop_margin_rate(ws)) and 0 < summary["margin_rate"] < 1


def test_validate_reports_timing_accuracy(ws):
    result = validate_models(ws, calibration_end=dt.date(2025, 6, 30))
    table = result["timing"]
    assert {"model", "mae_days_window", "ece_30d", "brier_30d"} <= set(table.columns)
    models = set(table["model"])
    regular = [m for m in models if m.startswith("mbgcnbd-")]
    assert len(regular) == 1 and 1 <= int(regular[0].split("-")[1]) <= 4  # the regularity model, k chosen
    assert models - set(regular) == {"bgnbd", "mbgnbd", "pnbd"}
    assert (table["buyers"] > 0).all()

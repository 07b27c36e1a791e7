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


# -- the timing model's helper thread (scoring._timing_items through ltvkit._threads.Ahead) -------------------

def _rows(n=300, seed=0):
    from ltvkit.models import BetaGeoModel

    data = BetaGeoModel.from_params({"r": 0.8, "alpha": 40.0, "a": 0.8, "b": 2.5}).simulate(
        np.full(n, 300.0), random_state=seed)
    x, tx, t = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    litt = np.where(x > 0, x * np.log(np.maximum(tx, 1.0) / np.maximum(x, 1.0)), 0.0)
    return {"frequency": x, "recency": tx, "T": t, "litt": litt, "n": np.ones(n)}


def test_the_timing_thread_gives_the_same_columns_as_the_model_in_this_thread():
    from ltvkit._threads import Ahead
    from ltvkit.models import RegularBetaGeoModel
    from ltvkit.scoring import _timing_items

    g = _rows()
    with Ahead(_timing_items(RegularBetaGeoModel(k=2), g, chunk_size=70)) as worker:
        fitted = next(worker)
        frames = list(worker)
    assert len(frames) == 5  # 300 rows in chunks of 70
    here = RegularBetaGeoModel(k=2).fit(g["frequency"], g["recency"], g["T"], weights=g["n"])
    assert np.allclose(fitted.params_.to_numpy(), here.params_.to_numpy(), rtol=1e-9)
    expected = here.next_purchase_timing(g["frequency"], g["recency"], g["T"])
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), expected.reset_index(drop=True),
                                  check_exact=False, rtol=1e-9)


def test_a_timing_model_that_does_not_converge_gives_none_and_no_columns():
    from ltvkit.exceptions import ConvergenceError
    from ltvkit.models import RegularBetaGeoModel
    from ltvkit.scoring import _timing_items

    class NoConvergence(RegularBetaGeoModel):
        def fit(self, *args, **kwargs):
            raise ConvergenceError("not this time")

    assert list(_timing_items(NoConvergence(k=2), _rows(), chunk_size=10)) == [None]

"""The predict/validate pipeline over a workspace, and the thin CLI on top of it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ltvkit import InputError, Workspace
from ltvkit.cli import main
from ltvkit.pipeline import predict_customers
from ltvkit.scoring import PREDICTION_COLUMNS, score_groups, validate_models

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory) -> Path:
    raw = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master", "cust", "date", "cds", "amount"], dtype={"date": str})
    raw = raw[raw["cust"] <= 1200]
    ts = pd.to_datetime(raw["date"], format="%Y%m%d") + pd.to_timedelta(np.arange(len(raw)) % 20, unit="h")
    frame = pd.DataFrame({
        "source": "generic", "order_id": [f"o{i}" for i in range(len(raw))], "line_no": 1,
        "customer_key": raw["cust"].astype(str), "ordered_at": ts, "sku": "cd", "quantity": raw["cds"],
        "unit_price": 0, "line_amount": (raw["amount"] * 100).round().astype("int64"), "shop_coupon": 0,
        "mall_coupon": 0, "points_used": 0, "shipping_fee": 0, "status": "ordered"})
    path = tmp_path_factory.mktemp("ws") / "cdnow.duckdb"
    with Workspace(path) as ws:
        ws.append_order_lines(frame)
    return path


def test_predict_writes_bounded_per_customer_table(ws_path):
    with Workspace(ws_path) as ws:
        summary = predict_customers(ws, model="pnbd", as_of="1997-09-30", chunk_size=97)
        scores = ws.read_result("predictions").to_pandas()
    assert tuple(scores.columns) == PREDICTION_COLUMNS
    assert len(scores) == summary["customers"] == 1200
    assert summary["unique_rows"] < len(scores)
    assert scores["p_alive"].between(0, 1).all()
    assert np.allclose(scores["churn_risk"], 1 - scores["p_alive"])
    assert (scores["expected_purchases_30d"] <= scores["expected_purchases_90d"]).all()
    assert (scores["expected_purchases_90d"] <= scores["expected_purchases_365d"]).all()
    assert (scores["predicted_clv"] >= 0).all() and scores["expected_spend"].gt(0).all()
    assert summary["predicted_clv_total"] == pytest.approx(scores["predicted_clv"].sum())


def test_chunked_scoring_equals_one_pass():
    from ltvkit.models import BetaGeoModel

    m = BetaGeoModel.from_params({"r": 0.24, "alpha": 31.0, "a": 0.79, "b": 2.43})
    rng = np.random.default_rng(0)
    T = rng.uniform(1, 400, 1000)
    x = rng.integers(0, 20, 1000).astype(float)
    tx = np.where(x > 0, T * rng.random(1000), 0.0)
    a = score_groups(m, x, tx, T, chunk_size=64).to_pandas()
    b = score_groups(m, x, tx, T, chunk_size=10_000).to_pandas()
    pd.testing.assert_frame_equal(a, b)


def test_auto_is_the_default_and_chooses_what_validate_chooses(ws_path):
    """The default model is chosen on the shop's own holdout from the one summary query: the same split, the
    same holdout MAE per model and the same choice as ``ltv validate`` (which summarises the split itself)."""
    with Workspace(ws_path) as ws:
        summary = predict_customers(ws, write=False)
        checked = validate_models(ws)
    assert summary["model_chosen_by"] == "validation" and summary["table"] is None
    assert summary["model"] == checked["chosen"]
    assert summary["choice_calibration_end"] == checked["calibration_end"]
    assert summary["choice_holdout_days"] == checked["holdout_days"]
    assert summary["choice_customers"] == checked["customers"]
    mae = checked["models"].set_index("model")["mae"]
    for name in ("bgnbd", "mbgnbd", "pnbd"):
        assert summary[f"holdout_mae_{name}"] == pytest.approx(mae[name], rel=1e-5)


def test_auto_on_a_subsample_of_rows_estimates_the_same_errors(ws_path):
    """Above ``max_rows`` distinct calibration rows the models are compared on a weighted subsample: the MAE
    estimates stay close to those on all rows, and the same seed gives the same numbers."""
    from ltvkit.features.rfm import rfm_summary
    from ltvkit.scoring import calibration_groups, choose_model

    with Workspace(ws_path) as ws:
        rfm = rfm_summary(ws.orders(include_cancelled=False), observation_end="1998-06-30", litt=True,
                          split_at="1997-12-31")
        groups = calibration_groups(rfm).to_pandas()
    cols = {c: groups[c].to_numpy() for c in groups.columns}
    full = choose_model(cols, horizon=181.0)
    assert set(full["mae"]) == {"bgnbd", "mbgnbd", "pnbd", "mbgcnbd"}  # MBG/CNBD-k too: the rows carry litt
    without_litt = choose_model({c: v for c, v in cols.items() if c != "litt"}, horizon=181.0)
    assert set(without_litt["mae"]) == {"bgnbd", "mbgnbd", "pnbd"}
    assert full["rows"] == len(groups) > 300
    sub = choose_model(cols, horizon=181.0, max_rows=300)
    again = choose_model(cols, horizon=181.0, max_rows=300)
    assert sub["rows"] < full["rows"] and sub == again
    assert sub["customers"] == full["customers"] == int(groups["n"].sum())
    for name, value in full["mae"].items():
        assert sub["mae"][name] == pytest.approx(value, rel=0.1)


def test_auto_falls_back_to_mbgnbd_when_the_history_is_too_short(tmp_path):
    frame = pd.DataFrame({
        "source": "generic", "order_id": ["a", "b", "c"], "line_no": 1, "customer_key": ["1", "2", "1"],
        "ordered_at": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-02"]), "sku": "x", "quantity": 1,
        "unit_price": 100, "line_amount": 100, "shop_coupon": 0, "mall_coupon": 0, "points_used": 0,
        "shipping_fee": 0, "status": "ordered"})
    with Workspace(tmp_path / "w.duckdb") as ws:
        ws.append_order_lines(frame)
        summary = predict_customers(ws, write=False, timing="model")
    assert summary["model"] == "mbgnbd" and summary["model_chosen_by"].startswith("default")
    assert "holdout_mae_mbgnbd" not in summary


def test_validate_returns_all_tables(ws_path):
    with Workspace(ws_path, read_only=True) as ws:
        out = validate_models(ws, calibration_end="1997-09-30")
    assert set(out["models"]["model"]) == {"bgnbd", "mbgnbd", "pnbd", "mbgcnbd"}
    assert out["chosen"] in {"bgnbd", "mbgnbd", "pnbd", "mbgcnbd"}
    assert out["tracking"]["actual_cumulative"].is_monotonic_increasing
    assert out["tracking"]["actual_cumulative"].iloc[-1] == pytest.approx(out["errors"]["actual_total"])
    assert 0 < out["gini"] <= 1
    assert len(out["deciles"]) == 10
    # the report's lighter call: the same comparison, choice and tracking, without the per-customer parts
    with Workspace(ws_path, read_only=True) as ws:
        light = validate_models(ws, calibration_end="1997-09-30", detail=False)
    assert set(light) == {"calibration_end", "observation_end", "holdout_days", "customers", "chosen", "models",
                          "tracking"}
    assert light["chosen"] == out["chosen"] and light["customers"] == out["customers"]
    pd.testing.assert_frame_equal(light["models"], out["models"])
    pd.testing.assert_frame_equal(light["tracking"], out["tracking"])


def test_cli_predict_csv_and_json(ws_path, capsys, tmp_path):
    assert main(["predict", "-w", str(ws_path), "--model", "bgnbd", "--as-of", "1997-09-30", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "bgnbd" and data["customers"] == 1200 and "param_alpha" in data
    out = tmp_path / "scores.parquet"
    assert main(["predict", "-w", str(ws_path), "--out", str(out)]) == 0
    capsys.readouterr()
    assert list(pd.read_parquet(out).columns) == list(PREDICTION_COLUMNS)
    assert main(["validate", "-w", str(ws_path), "--calibration-end", "1997-09-30", "--json"]) == 0
    val = json.loads(capsys.readouterr().out)
    assert {"models", "tracking", "calibration", "deciles", "errors", "chosen"} <= set(val)


def test_cli_errors_are_one_sentence(ws_path, capsys):
    assert main(["--lang", "en", "predict", "-w", str(ws_path), "--model", "nbd"]) == 1
    assert capsys.readouterr().err.strip() == "Error: Unknown model 'nbd'; choose one of bgnbd, mbgnbd, pnbd, mbgcnbd or auto."
    assert main(["--lang", "en", "validate", "-w", str(ws_path), "--calibration-end", "2001-01-01"]) == 1
    assert "--calibration-end must fall between" in capsys.readouterr().err
    with pytest.raises(InputError, match="margin-rate"):
        with Workspace(ws_path) as ws:
            predict_customers(ws, margin_rate=2.0)

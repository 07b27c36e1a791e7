"""`ltv predict` takes its next-purchase timing from the regularity model (MBG/CNBD-k) by default."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ltvkit import InputError, Workspace
from ltvkit.features import rfm_summary
from ltvkit.pipeline import predict_customers


def _regular_shop(n_customers: int = 600, seed: int = 3) -> pd.DataFrame:
    """Customers who re-buy on a steady rhythm (Erlang-4 gaps, mean 20-60 days) and may drop out after each
    purchase with a customer-level probability (beta-distributed, as in the BG story)."""
    rng = np.random.default_rng(seed)
    rows = []
    start = dt.datetime(2024, 1, 1, 10)
    for c in range(n_customers):
        t = rng.uniform(0, 300)
        mean_gap, p_drop = rng.uniform(20, 60), rng.beta(1.0, 4.0)
        while t < 700:
            rows.append((f"c{c}", start + dt.timedelta(days=float(t))))
            if rng.random() < p_drop:
                break
            t += rng.gamma(4.0, mean_gap / 4.0)
    frame = pd.DataFrame(rows, columns=["customer_key", "ordered_at"])
    n = len(frame)
    return frame.assign(source="generic", order_id=[f"o{i}" for i in range(n)], line_no=1, sku="tea",
                        quantity=1, unit_price=3000, line_amount=3000, shop_coupon=0, mall_coupon=0,
                        points_used=0, shipping_fee=0, status="ordered")


def test_litt_is_the_sum_of_log_gaps_between_purchase_days():
    tx = pd.DataFrame({"customer_key": ["a", "a", "a", "a", "b"],
                       "date": ["2024-01-01", "2024-01-01", "2024-01-11", "2024-01-15", "2024-01-05"],
                       "amount": [10, 5, 20, 3, 7]})
    r = rfm_summary(tx, observation_end="2024-01-31", monetary_col="amount", litt=True)
    assert r.loc["a", "litt"] == pytest.approx(np.log(10) + np.log(4))
    assert r.loc["b", "litt"] == 0.0
    weeks = rfm_summary(tx, observation_end="2024-01-31", monetary_col="amount", litt=True, freq_multiplier=7)
    assert weeks.loc["a", "litt"] == pytest.approx(np.log(10 / 7) + np.log(4 / 7))


def test_default_timing_comes_from_the_regularity_model():
    ws = Workspace()
    ws.append_order_lines(_regular_shop())
    as_of = dt.date(2025, 6, 30)
    regular = predict_customers(ws, as_of=as_of, model="mbgnbd")
    by_regular = ws.read_result("predictions").to_pandas().set_index("customer_key").sort_index()
    plain = predict_customers(ws, as_of=as_of, model="mbgnbd", timing="model")
    by_model = ws.read_result("predictions").to_pandas().set_index("customer_key").sort_index()
    assert regular["timing_model"].startswith("MBG/CNBD-")
    assert int(regular["timing_model"].rsplit("-", 1)[1]) >= 2  # steady rhythm: k above 1 wins
    assert plain["timing_model"] == plain["model"] == "mbgnbd"  # the transaction model itself
    # buyers this regular drive MBG/NBD to the Poisson boundary (r and alpha without bound); it still scores
    assert plain["transaction_params"]["r"] > 1e6
    assert by_model.drop(columns="expected_next_purchase_date").notna().all().all()
    p = by_regular[[f"p_purchase_{k}d" for k in (7, 14, 30, 60, 90)]].to_numpy()
    assert np.all((p >= 0) & (p <= 1)) and np.all(np.diff(p, axis=1) >= -1e-12)
    # the CLV columns come from the transaction model either way; only the timing columns differ
    np.testing.assert_allclose(by_regular.predicted_clv, by_model.predicted_clv)
    assert not np.allclose(by_regular.p_purchase_30d, by_model.p_purchase_30d)


def test_auto_chooses_the_regularity_model_for_a_steady_rhythm_and_fits_it_once():
    """On buyers with Erlang-4 gaps, --model auto compares MBG/CNBD-k with the others on the holdout of the
    calibration split and it wins; the chosen model then gives the scores and the timing columns (one fit)."""
    ws = Workspace()
    ws.append_order_lines(_regular_shop())
    as_of = dt.date(2025, 6, 30)
    auto = predict_customers(ws, as_of=as_of)
    mae = {name: auto[f"holdout_mae_{name}"] for name in ("bgnbd", "mbgnbd", "pnbd", "mbgcnbd")}
    assert auto["model"] == "mbgcnbd" == min(mae, key=mae.get) and auto["model_chosen_by"] == "validation"
    assert mae["mbgcnbd"] < 0.97 * min(mae["bgnbd"], mae["mbgnbd"], mae["pnbd"])
    k = int(auto["timing_model"].rsplit("-", 1)[1])
    assert k >= 2 and ws.result_run("predictions").details["timing_k"]["k"] == k
    scores = ws.read_result("predictions").to_pandas().set_index("customer_key").sort_index()
    # the same model as a transaction model alone (--timing model): the same scores and timing
    alone = predict_customers(ws, as_of=as_of, model="mbgcnbd", timing="model")
    assert alone["timing_model"] == auto["timing_model"]
    by_alone = ws.read_result("predictions").to_pandas().set_index("customer_key").sort_index()
    for col in ("predicted_clv", "expected_purchases_90d", "p_purchase_30d"):
        np.testing.assert_allclose(by_alone[col], scores[col], rtol=1e-6)


def test_unknown_timing_model_is_one_sentence():
    ws = Workspace()
    ws.append_order_lines(_regular_shop(50))
    with pytest.raises(InputError, match="Unknown timing model"):
        predict_customers(ws, timing="erlang")


def test_the_regularity_order_is_chosen_once_and_reused_while_the_data_are_the_same():
    ws = Workspace()
    ws.append_order_lines(_regular_shop())
    as_of = dt.date(2025, 6, 30)
    first = predict_customers(ws, as_of=as_of)
    scores_first = ws.read_result("predictions").to_pandas().set_index("customer_key").sort_index()
    second = predict_customers(ws, as_of=as_of)
    scores_second = ws.read_result("predictions").to_pandas().set_index("customer_key").sort_index()
    k1 = ws.result_run("predictions").details["timing_k"]
    assert k1["chosen_by"] == "stored"
    assert second["timing_model"] == first["timing_model"] == f"MBG/CNBD-{k1['k']}"
    np.testing.assert_allclose(scores_second.p_purchase_30d, scores_first.p_purchase_30d, rtol=1e-6)
    np.testing.assert_allclose(scores_second.predicted_clv, scores_first.predicted_clv, rtol=1e-9)
    # other data (a later day): k is chosen again
    predict_customers(ws, as_of=dt.date(2025, 7, 31))
    assert ws.result_run("predictions").details["timing_k"]["chosen_by"] == "likelihood"

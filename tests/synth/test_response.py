"""Simulated responses to messages: only delivered, non-holdout messages act; the truth is recorded."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ltvkit.exceptions import InputError
from ltvkit.synth import LINE_COLUMNS, Effect, generate_shop, simulate_experiment, simulate_response


@pytest.fixture(scope="module")
def shop():
    return generate_shop(customers=1500, seed=5)


def _sends(shop, scenario: str, n: int = 300) -> pd.DataFrame:
    keys = shop.truth["customer_key"].to_numpy()[:n]
    state = np.where(np.arange(n) % 10 == 0, "holdout", np.where(np.arange(n) % 10 == 1, "failed", "sent"))
    at = dt.datetime.combine(shop.observation_end + dt.timedelta(days=1), dt.time(10))
    return pd.DataFrame({"scenario": scenario, "customer_key": keys, "send_at": at, "holdout": state == "holdout",
                         "state": state, "channel": "line"})


def test_lift_adds_orders_only_for_delivered_messages(shop):
    sends = _sends(shop, "a")
    res = simulate_response(shop, sends, {"a": Effect("lift", 1.0)}, seed=1)
    delivered = set(sends.loc[sends["state"] == "sent", "customer_key"])
    assert res.changes["induced_orders"] == len(delivered)
    new = res.lines.loc[~res.lines["order_id"].isin(shop.holdout_lines["order_id"])]
    assert set(new["customer_key"]) == delivered and list(res.lines.columns) == list(LINE_COLUMNS)
    row = res.truth.iloc[0]
    assert row["treated"] == int((~sends["holdout"]).sum())  # failed sends are in the truth's treated group
    share = len(delivered) / row["treated"]  # intention to treat: the effect diluted by the failed sends
    assert 0 < row["true_conversion_uplift"] <= share
    assert row["true_orders_uplift_per_customer"] == pytest.approx(share)


def test_annoy_drops_orders_of_frequent_buyers_only_and_zero_changes_nothing(shop):
    sends = _sends(shop, "b", 1500)
    res = simulate_response(shop, sends, {"b": Effect("annoy", 1.0)}, seed=1)
    prior = shop.order_lines.groupby("customer_key", observed=True)["order_id"].nunique()
    gone = shop.holdout_lines.loc[~shop.holdout_lines["order_id"].isin(res.lines["order_id"]), "customer_key"]
    assert len(gone) and (prior.reindex(gone.unique()).fillna(0) >= 3).all()
    assert res.truth.iloc[0]["true_conversion_uplift"] < 0
    same = simulate_response(shop, sends, {"b": Effect("lift", 0.0)}, seed=1)
    assert len(same.lines) == len(shop.holdout_lines) and same.truth.iloc[0]["true_conversion_uplift"] == 0


def test_effects_are_checked_and_the_experiment_records_its_truth():
    with pytest.raises(InputError):
        Effect("discount", 0.1)
    f = simulate_experiment(2000, 0, effect=0.05)
    assert {"treated", "converted", "y0", "y1"} <= set(f.columns)
    assert f.attrs["true_uplift"] == pytest.approx(float((f["y1"].astype(float) - f["y0"]).mean()))
    assert 0.02 < f.attrs["true_uplift"] < 0.08

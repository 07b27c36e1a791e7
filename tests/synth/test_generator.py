from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from synthhelp import next_order_rates, rhythm_gap_ratios

from ltvkit.exceptions import InputError
from ltvkit.store.schema import STATUSES
from ltvkit.synth import DEFAULT_PARAMS, LINE_COLUMNS, SyntheticShop, generate_shop


def _orders(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.drop_duplicates("order_id")[["order_id", "customer_key", "ordered_at", "subscription_id",
                                              "delivery_count"]]


def _regular(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders placed by the customer (subscription deliveries after the first are not)."""
    return orders[orders["delivery_count"].fillna(1).astype(int) <= 1]


def test_same_seed_same_shop_other_seed_other_shop():
    a = generate_shop(customers=500, seed=3)
    b = generate_shop(customers=500, seed=3)
    c = generate_shop(customers=500, seed=4)
    pd.testing.assert_frame_equal(a.order_lines, b.order_lines)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    pd.testing.assert_frame_equal(a.holdout_lines, b.holdout_lines)
    assert not a.truth["purchase_rate"].equals(c.truth["purchase_rate"])


def test_columns_types_and_periods(shop):
    assert tuple(shop.order_lines.columns) == LINE_COLUMNS
    assert tuple(shop.holdout_lines.columns) == LINE_COLUMNS
    ol, hl = shop.order_lines, shop.holdout_lines
    assert ol["ordered_at"].dtype == "datetime64[us]"
    end = pd.Timestamp(shop.observation_end + dt.timedelta(days=1))
    assert ol["ordered_at"].max() < end <= hl["ordered_at"].min()
    assert hl["ordered_at"].max() < end + pd.Timedelta(days=shop.holdout_days)
    assert ol["ordered_at"].min() >= pd.Timestamp(shop.start)
    assert set(ol["status"].astype(str)) == set(STATUSES)
    assert (ol["line_amount"] == ol["unit_price"] * ol["quantity"]).all()
    # lines of an order are numbered 1..n and share customer and time
    g = ol.groupby("order_id", sort=False)
    assert (g["line_no"].max() == g.size()).all()
    assert (g["customer_key"].nunique() == 1).all() and (g["ordered_at"].nunique() == 1).all()
    # acquisition happens in the observation period only; every customer has a first order there
    assert set(ol["customer_key"]) == set(shop.truth["customer_key"])


def test_order_level_money_is_allocated_by_line_amount(shop):
    ol = shop.order_lines
    for col in ("shop_coupon", "mall_coupon", "points_used", "shipping_fee"):
        total = ol.groupby("order_id")[col].transform("sum")
        order_amount = ol.groupby("order_id")["line_amount"].transform("sum")
        exact = total * ol["line_amount"] / order_amount
        assert (np.abs(ol[col] - exact) < 1).all(), col
    paid = ol.groupby("order_id")[["line_amount", "shop_coupon", "mall_coupon", "points_used"]].sum()
    assert (paid["shop_coupon"] + paid["mall_coupon"] + paid["points_used"] <= paid["line_amount"]).all()


def test_contact_data_is_unique_per_customer(shop):
    t = shop.truth
    contact = t["last_name"] + t["first_name"] + "|" + t["phone"] + "|" + t["zip"]
    assert contact.is_unique
    assert t["email"].is_unique
    assert "".join(t["last_name"] + t["first_name"] + t["city"]).encode("cp932")  # CP932-safe


def test_repeat_purchases_follow_the_latent_rates(shop):
    """Loyal customers off rhythm buy at rate lambda while alive (Pareto/NBD): compare with the expectation."""
    t = shop.truth
    obs_end = pd.Timestamp(shop.observation_end + dt.timedelta(days=1))
    alive_days = ((np.minimum(t["dropout_at"], obs_end) - t["acquired_at"]).dt.total_seconds() / 86400).clip(lower=0)
    expected = t["purchase_rate"] * alive_days
    for mask in (~t["rhythm"] & (t["type"] == "loyal"), t["type"] == "point_driven"):
        ratio = t.loc[mask, "repeat_orders_observed"].sum() / expected[mask].sum()
        assert 0.93 < ratio < 1.07, ratio
    # rhythm customers renew at regular gaps whose mean is 1 / purchase_rate
    orders = _regular(_orders(shop.order_lines))
    orders = orders[orders["customer_key"].isin(t.loc[t["rhythm"], "customer_key"])].sort_values(
        ["customer_key", "ordered_at"])
    gap = orders.groupby("customer_key")["ordered_at"].diff().dt.total_seconds() / 86400
    rate = orders["customer_key"].map(t.set_index("customer_key")["purchase_rate"])
    assert (gap * rate).mean() == pytest.approx(1.0, abs=0.04)
    # heterogeneity: latent rates follow Gamma(r, alpha); off rhythm they are the purchase rate
    r, alpha = DEFAULT_PARAMS["r"], DEFAULT_PARAMS["alpha"]
    assert t["latent_rate"].mean() == pytest.approx(r / alpha, rel=0.03)
    assert t["latent_rate"].var() == pytest.approx(r / alpha**2, rel=0.1)
    assert (t.loc[~t["rhythm"], "latent_rate"] == t.loc[~t["rhythm"], "purchase_rate"]).all()


def test_campaign_acquired_customers_drop_out_faster_and_are_worth_less(shop):
    t = shop.truth
    camp = t["acquired_in_campaign"]
    factor = t.loc[camp, "dropout_rate"].mean() / t.loc[~camp, "dropout_rate"].mean()
    assert factor == pytest.approx(DEFAULT_PARAMS["campaign_dropout_factor"], rel=0.12)
    assert t.loc[camp, "repeat_orders_observed"].mean() < 0.85 * t.loc[~camp, "repeat_orders_observed"].mean()


def test_campaign_share_point_driven_vs_loyal_vs_base_rate(shop):
    orders = _regular(_orders(shop.order_lines))
    orders = orders[orders.duplicated("customer_key")]  # repeat orders (first orders follow acquisition)
    flags = shop.calendar.flag_array(orders["ordered_at"].to_numpy(), "rakuten")
    types = orders["customer_key"].map(shop.truth.set_index("customer_key")["type"])
    share = pd.Series(flags).groupby(types.to_numpy()).mean()
    base = shop.calendar.base_rate(shop.start, shop.observation_end, "rakuten")
    # loyal customers ignore campaigns; their evening peak puts a few more orders into windows opening at 20:00
    assert share["loyal"] == pytest.approx(base, abs=0.06)
    assert share["loyal"] == pytest.approx(shop.campaign_share_expected["loyal"], abs=0.03)
    assert share["point_driven"] == pytest.approx(shop.campaign_share_expected["point_driven"], abs=0.03)
    assert share["point_driven"] > share["loyal"] + 0.25


def test_point_driven_customers_use_points_and_mall_coupons(shop):
    ol = shop.order_lines.merge(shop.truth[["customer_key", "type"]], on="customer_key")
    g = ol.groupby("type")[["points_used", "mall_coupon", "line_amount"]].sum()
    paid_by_mall = (g["points_used"] + g["mall_coupon"]) / g["line_amount"]
    assert paid_by_mall["point_driven"] > 2.5 * paid_by_mall["loyal"]


def test_replenishment_intervals_are_near_the_item_cycle(shop):
    rel = rhythm_gap_ratios(shop)
    assert len(rel) > 500
    assert rel.median() == pytest.approx(1.0, abs=0.08)
    assert ((rel > 0.7) & (rel < 1.4)).mean() > 0.75


def test_subscription_retention_by_delivery_count(shop):
    s = shop.subscriptions
    hazard = DEFAULT_PARAMS["subscription_cancel_hazard"]
    for k in (1, 2, 3):
        # at risk after delivery k: reached k and the next delivery fell due while the customer was active
        at_risk = s[(s["deliveries"] > k) | (s["cancelled_after"] == k)]
        rate = (at_risk["cancelled_after"] == k).mean()
        se = np.sqrt(hazard[k - 1] * (1 - hazard[k - 1]) / len(at_risk))
        assert abs(rate - hazard[k - 1]) < 4 * se, (k, rate)
    # the order lines carry the same deliveries: counts 1..n, one cycle apart
    lines = pd.concat([shop.order_lines, shop.holdout_lines])
    sub = lines[lines["subscription_id"].notna()].sort_values(["subscription_id", "delivery_count"])
    n = sub.groupby("subscription_id")["delivery_count"].agg(["max", "size"])
    assert (n["max"] == n["size"]).all()
    assert (n["max"] == s.set_index("subscription_id").loc[n.index, "deliveries"]).all()
    gaps = sub.groupby("subscription_id")["ordered_at"].diff().dropna().dt.total_seconds() / 86400
    cyc = s.set_index("subscription_id").loc[sub["subscription_id"], "cycle_days"].to_numpy()[1:]
    first = sub["delivery_count"].to_numpy()[1:] == 1
    assert np.allclose(gaps.to_numpy(), cyc[~first], atol=1 / 86400 + 1e-9)


def test_cross_sell_affinities_raise_the_next_purchase(shop):
    lines = pd.concat([shop.order_lines, shop.holdout_lines])
    for x, y in (("FD-COF-500", "DG-FLT-100"), ("DG-DET-1L", "DG-SOF-1L")):
        p_after, p_base = next_order_rates(lines, x, y)
        assert p_after > 2 * p_base, (x, y, p_after, p_base)


def test_trial_buyers_upgrade_to_full_size(shop):
    lines = pd.concat([shop.order_lines, shop.holdout_lines])
    cat = shop.catalog.set_index("sku")
    first = lines.sort_values(["ordered_at", "line_no"]).groupby("customer_key").head(1)
    trial_first = first[first["sku"].astype(str).map(cat["role"]) == "trial"]
    orders = lines.drop_duplicates(["customer_key", "order_id"]).sort_values("ordered_at")
    second_ids = orders.groupby("customer_key")["order_id"].nth(1)
    second = lines[lines["order_id"].isin(second_ids)]
    upgrade = dict(zip(trial_first["customer_key"], trial_first["sku"].astype(str).map(cat["upgrade_to"]), strict=True))
    bought = second.groupby("customer_key")["sku"].agg(lambda x: set(x.astype(str)))
    both = [c for c in upgrade if c in bought.index]
    rate = np.mean([upgrade[c] in bought[c] for c in both])
    assert len(both) > 200
    assert rate > 0.3


def test_holdout_truth_matches_holdout_lines(shop):
    hold = _orders(shop.holdout_lines).groupby("customer_key").size()
    t = shop.truth.set_index("customer_key")
    assert (t["orders_holdout"].loc[hold.index] == hold).all()
    assert t["orders_holdout"].sum() == len(_orders(shop.holdout_lines))
    regular = _regular(_orders(shop.holdout_lines)).groupby("customer_key").size()
    expected = t["expected_holdout_orders"]
    assert regular.sum() == pytest.approx(expected.sum(), rel=0.08)


def test_acquisition_costs_are_per_channel(shop):
    costs = shop.acquisition_costs
    assert set(costs.columns) >= {"channel", "spend", "start", "end"}
    counts = shop.truth["acquisition_channel"].value_counts()
    for row in costs.itertuples():
        assert row.customers == counts.get(row.channel, 0)
        assert row.spend == row.customers * row.cac


def test_own_site_shop_has_no_points_or_campaign_types():
    s = generate_shop(customers=800, seed=2, mall="shopify")
    assert (s.truth["type"] == "loyal").all()
    assert s.order_lines[["points_used", "mall_coupon"]].to_numpy().sum() == 0
    assert set(s.truth["acquisition_channel"]) <= {"own_site", "line"}


def test_save_and_load_round_trip(tmp_path):
    s = generate_shop(customers=300, seed=5)
    s.save(tmp_path / "shop")
    back = SyntheticShop.load(tmp_path / "shop")
    import pyarrow.parquet as pq

    assert pq.read_schema(tmp_path / "shop" / "order_lines.parquet").field("ordered_at").type.unit == "us"
    pd.testing.assert_frame_equal(back.order_lines.astype({c: str for c in ("sku", "source", "status")}),
                                  s.order_lines.astype({c: str for c in ("sku", "source", "status")}),
                                  check_dtype=False, check_categorical=False)
    assert back.meta() == s.meta()
    assert (tmp_path / "shop" / "acquisition_costs.csv").exists()


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"mall": "amazon"}, "mall"), ({"customers": 0}, "customers"), ({"params": {"nope": 1}}, "nope"),
    ({"observation_end": dt.date(2020, 1, 1)}, "observation_end"),
])
def test_bad_arguments_say_what_to_do(kwargs, word):
    with pytest.raises(InputError, match=word):
        generate_shop(**kwargs)

"""Every export the synth writers produce round-trips through its real importer."""

from __future__ import annotations

import importlib

import pandas as pd
import pytest

from ltvkit import Workspace
from ltvkit.synth import generate_shop
from ltvkit.synth.writers import (
    RAKUTEN_HEADERS,
    SHOPIFY_HEADERS,
    YAHOO_ITEM_HEADERS,
    YAHOO_ORDER_HEADERS,
    write_export,
)

_ingest = importlib.import_module("ltvkit.ingest")
pytestmark = pytest.mark.skipif(not hasattr(_ingest, "import_orders"),
                                reason="ltvkit.ingest.import_orders is not in this checkout yet")

# What each format cannot carry (and so is not compared):
#   rakuten/yahoo: no category or cost column (a return is read from the sub-status サブステータス / StoreStatus).
#   shopify: no subscription fields, no cost.
NOT_CARRIED = {
    "rakuten": {"category", "cost"},
    "yahoo": {"category", "cost", "point_rate"},
    "shopify": {"cost", "subscription_id", "delivery_count", "point_rate"},
    "generic": set(),
}
RETURNS_CARRIED = {"rakuten": True, "yahoo": True, "shopify": True, "generic": True}
CASES = [("rakuten", "rakuten", "demo"), ("yahoo", "yahoo", "demo"), ("shopify", "shopify", "demo"),
         ("rakuten", "generic", "demo"), ("rakuten", "rakuten", "wide")]


def _canon(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = df[cols].copy()
    for c in cols:
        if isinstance(out[c].dtype, pd.CategoricalDtype) or out[c].dtype == object or str(out[c].dtype) == "str":
            out[c] = out[c].astype(object).where(out[c].notna(), None).astype(object)
    for c in ("line_no", "quantity", "delivery_count"):
        if c in out:
            out[c] = out[c].astype("Int64")
    for c in ("unit_price", "line_amount", "shop_coupon", "mall_coupon", "points_used", "shipping_fee", "cost"):
        if c in out:
            out[c] = out[c].astype("Int64")
    if "ordered_at" in out:
        out["ordered_at"] = pd.to_datetime(out["ordered_at"]).astype("datetime64[us]")
    if "point_rate" in out:
        out["point_rate"] = out["point_rate"].astype(float)
    return out.sort_values(["order_id", "line_no"]).reset_index(drop=True)


@pytest.mark.parametrize(("mall", "fmt", "catalog"), CASES)
def test_export_round_trips_through_its_importer(tmp_path, mall, fmt, catalog):
    shop = generate_shop(customers=1_500, seed=11, mall=mall, catalog=catalog)
    files = write_export(shop, tmp_path, fmt)
    ws = Workspace()
    result = ws.import_orders(files if len(files) > 1 else files[0])
    assert result.quarantined == 0
    got = ws.orders().to_pandas()
    expected = shop.order_lines.copy()
    if not RETURNS_CARRIED[fmt]:
        expected["status"] = expected["status"].astype(str).replace("returned", "ordered")
    cols = [c for c in expected.columns if c not in NOT_CARRIED[fmt] and c != "customer_key"]
    pd.testing.assert_frame_equal(_canon(got, cols), _canon(expected, cols), check_dtype=False)
    # customers: the importer's keys map one-to-one onto the synthetic customers
    pairs = pd.DataFrame({"order_id": got["order_id"], "imported": got["customer_key"]}).merge(
        shop.order_lines[["order_id", "customer_key"]].drop_duplicates(), on="order_id")[["imported", "customer_key"]].drop_duplicates()
    assert pairs["imported"].nunique() == pairs["customer_key"].nunique() == len(pairs) == len(shop.truth)
    if fmt == "generic":
        assert (pairs["imported"] == pairs["customer_key"]).all()


def test_rakuten_keys_are_the_contact_hash(tmp_path):
    from ltvkit.ingest.identity import contact_key

    shop = generate_shop(customers=200, seed=12)
    (path,) = write_export(shop, tmp_path, "rakuten")
    ws = Workspace()
    ws.import_orders(path)
    got = ws.orders().to_pandas()[["order_id", "customer_key"]].drop_duplicates()
    want = shop.order_lines[["order_id", "customer_key"]].drop_duplicates().merge(shop.truth, on="customer_key")
    secret = ws.identity_secret()
    want["key"] = [contact_key(secret, r.last_name + r.first_name, r.phone, r.zip) for r in want.itertuples()]
    merged = got.merge(want[["order_id", "key"]], on="order_id")
    assert (merged["customer_key"] == merged["key"]).all()


def test_headers_are_the_documented_layouts(tmp_path):
    shop = generate_shop(customers=50, seed=1)
    (rak,) = write_export(shop, tmp_path, "rakuten")
    first = rak.read_bytes().split(b"\n", 1)[0].decode("cp932")
    assert [h.strip('"') for h in first.split(",")] == list(RAKUTEN_HEADERS)
    order, item = write_export(shop, tmp_path, "yahoo")
    assert pd.read_csv(order, encoding="cp932", nrows=0).columns.tolist() == list(YAHOO_ORDER_HEADERS)
    assert pd.read_csv(item, encoding="cp932", nrows=0).columns.tolist() == list(YAHOO_ITEM_HEADERS)
    (sh,) = write_export(shop, tmp_path, "shopify")
    df = pd.read_csv(sh, dtype=str, keep_default_na=False)
    assert df.columns.tolist() == list(SHOPIFY_HEADERS)
    later_rows = df["Name"].duplicated()
    assert (df.loc[later_rows, "Email"] == "").all() and (df.loc[~later_rows, "Email"] != "").all()
    # Rakuten repeats order values on every line and marks cancellations with 900
    rk = pd.read_csv(rak, encoding="cp932", dtype=str)
    assert rk.groupby("注文番号")["ポイント利用額"].nunique().max() == 1
    cancelled = shop.order_lines.loc[shop.order_lines["status"] == "cancelled", "order_id"]
    assert set(rk.loc[rk["ステータス"] == "900", "注文番号"]) == set(cancelled)


@pytest.mark.parametrize("fmt", ["rakuten", "yahoo", "shopify"])
def test_chunked_writing_gives_the_same_file(tmp_path, monkeypatch, fmt):
    import ltvkit.synth.writers as writers

    shop = generate_shop(customers=150, seed=13, mall=fmt)
    whole = write_export(shop, tmp_path / "whole", fmt)
    monkeypatch.setattr(writers, "_CHUNK_ROWS", 37)
    chunked = write_export(shop, tmp_path / "chunked", fmt)
    for a, b in zip(whole, chunked, strict=True):
        assert a.read_bytes() == b.read_bytes()

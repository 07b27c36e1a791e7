from __future__ import annotations

import datetime as dt

from conftest import lines
from fixtures import (
    RAKUTEN_LEGACY_HEADER,
    RAKUTEN_PAY_HEADER,
    rakuten_legacy_row,
    rakuten_pay_row,
    write_csv,
)

from ltvkit.ingest import import_orders
from ltvkit.ingest.identity import contact_key


def test_rakuten_pay_cp932_one_row_per_item_with_allocation(ws, tmp_path):
    rows = [
        rakuten_pay_row("338811-20240105-0001", 1, price="1,000", qty=2, points=100, shop_coupon=301, mall_coupon=50,
                        shipping=550, 申込番号="SUB-1", 申込お届け回数="3", ポイント倍率="5"),
        rakuten_pay_row("338811-20240105-0001", 2, price=1000, qty=1, points=100, shop_coupon=301, mall_coupon=50,
                        shipping=550, 申込番号="SUB-1", 申込お届け回数="3"),
        rakuten_pay_row("338811-20240106-0002", 1, status="900", when="2024/1/6 9:05"),
    ]
    path = write_csv(tmp_path / "rakuten.csv", RAKUTEN_PAY_HEADER, rows, encoding="cp932")
    assert path.read_bytes().decode("cp932").startswith('"注文番号"')
    result = import_orders(ws, path)
    assert (result.preset, result.encoding, result.imported, result.quarantined) == ("rakuten", "cp932", 3, 0)
    got = lines(ws)
    first, second, cancelled = got
    assert first["line_amount"] == 2000 and second["line_amount"] == 1000
    # order totals allocated 2:1 with integer largest remainders; sums equal the order totals
    assert first["points_used"] + second["points_used"] == 100
    assert (first["points_used"], second["points_used"]) == (67, 33)
    assert (first["shop_coupon"], second["shop_coupon"]) == (201, 100)
    assert first["mall_coupon"] + second["mall_coupon"] == 50
    assert first["shipping_fee"] + second["shipping_fee"] == 550
    assert first["subscription_id"] == "SUB-1" and first["delivery_count"] == 3 and first["point_rate"] == 5.0
    assert first["sku"] == "sku-1" and first["product_name"] == "テスト商品1号①"
    assert first["ordered_at"] == dt.datetime(2024, 1, 5, 13, 5)
    assert cancelled["status"] == "cancelled" and first["status"] == "ordered"
    assert cancelled["ordered_at"] == dt.datetime(2024, 1, 6, 9, 5)
    # the customer key is the keyed hash of name + phone + zip, equal to the Python definition
    secret = ws.identity_secret()
    assert first["customer_key"] == contact_key(secret, "山田太郎", "09012345678", "1500001")
    assert {r["customer_key"] for r in got} == {first["customer_key"]}
    assert all(not str(v).count("@") for r in got for v in r.values())


def test_rakuten_legacy_layout_with_full_width_headers(ws, tmp_path):
    assert "注文者郵便番号１" in RAKUTEN_LEGACY_HEADER
    rows = [rakuten_legacy_row("111-20180305-01", 1, price="１，２００", qty="２", points=0),
            rakuten_legacy_row("111-20180305-02", 1, status="キャンセル", date="2018年3月6日", time="21:00:00")]
    path = write_csv(tmp_path / "old.csv", RAKUTEN_LEGACY_HEADER, rows, encoding="cp932")
    result = import_orders(ws, path)
    assert (result.preset, result.imported, result.quarantined) == ("rakuten", 2, 0)
    a, b = lines(ws)
    assert (a["unit_price"], a["quantity"], a["line_amount"]) == (1200, 2, 2400)
    assert a["shipping_fee"] == 0  # -99999 means "no value" in the legacy file
    assert a["ordered_at"] == dt.datetime(2018, 3, 5, 9, 5)
    assert b["ordered_at"] == dt.datetime(2018, 3, 6, 21, 0) and b["status"] == "cancelled"
    assert a["customer_key"] == contact_key(ws.identity_secret(), "佐藤花子", "0612345678", "5300001")
    assert ws.con.execute("SELECT prefecture FROM customers").fetchone()[0] == "大阪府"


def test_unknown_extra_columns_are_ignored_and_order_does_not_matter(ws, tmp_path):
    header = list(reversed(RAKUTEN_PAY_HEADER)) + ["SKU管理番号", "新しい列"]
    rows = [rakuten_pay_row("1-20240105-1", 1, 新しい列="x")]
    result = import_orders(ws, write_csv(tmp_path / "r.csv", header, rows, encoding="cp932"))
    assert result.imported == 1 and lines(ws)[0]["unit_price"] == 1980


def _largest_remainder(total: int, weights: list[int]) -> list[int]:
    """Reference: floor shares of |total| by weight, the units left to the largest remainders (earlier first)."""
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    w_sum = sum(weights)
    base = [abs(total) * w // w_sum for w in weights]
    rest = [abs(total) * w % w_sum for w in weights]
    left = abs(total) - sum(base)
    for i in sorted(range(len(weights)), key=lambda i: (-rest[i], i))[:left]:
        base[i] += 1
    return [b if total >= 0 else -b for b in base]


def test_order_amounts_allocated_alike_in_small_and_large_orders(ws, tmp_path):
    import random

    rng = random.Random(7)
    # two-line orders take a closed form, up to 32 lines a self-join, above that windows
    sizes = {"338811-20240105-0001": 3, "338811-20240105-0002": 7, "338811-20240105-0003": 33,
             "338811-20240105-0004": 60, **{f"338811-20240106-{k:04d}": 2 for k in range(40)}}
    rows, expected = [], {}
    for order, n in sizes.items():
        prices = [rng.choice([0, 500, 980, 1000, 1980, 3333]) for _ in range(n)]
        qtys = [rng.choice([1, 1, 2, 3]) for _ in range(n)]
        totals = {"points_used": rng.randrange(1, 5000), "shop_coupon": rng.randrange(0, 999),
                  "shipping_fee": 550, "mall_coupon": 0}
        for k in range(n):
            rows.append(rakuten_pay_row(order, k + 1, price=prices[k], qty=qtys[k], points=totals["points_used"],
                                        shop_coupon=totals["shop_coupon"], shipping=totals["shipping_fee"]))
        weights = [p * q for p, q in zip(prices, qtys, strict=True)]
        expected[order] = {f: _largest_remainder(t, weights) for f, t in totals.items()}
    path = write_csv(tmp_path / "big.csv", RAKUTEN_PAY_HEADER, rows, encoding="cp932")
    assert import_orders(ws, path).imported == sum(sizes.values())
    got = lines(ws)
    for order in sizes:
        mine = sorted((r for r in got if r["order_id"] == order), key=lambda r: r["line_no"])
        for field, want in expected[order].items():
            assert [r[field] for r in mine] == want, (order, field)

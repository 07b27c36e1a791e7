from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import lines, quarantine
from fixtures import (
    AMAZON_HEADER,
    NEXT_ENGINE_HEADER,
    SHOPIFY_HEADER,
    YAHOO_ITEM_HEADER,
    YAHOO_ORDER_HEADER,
    write_csv,
)

from ltvkit.exceptions import MappingError
from ltvkit.ingest import import_orders
from ltvkit.ingest.identity import email_key


def _yahoo(tmp_path, encoding="cp932"):
    orders = [
        {"OrderId": "store-10001", "OrderTime": "2024/02/01 10:00:00", "OrderStatus": "5", "DeviceType": "2",
         "BillName": "鈴木一郎", "BillMailAddress": "Ichiro@Example.jp", "BillPrefecture": "愛知県", "UsePoint": "300",
         "TotalMallCouponDiscount": "100", "StoreCouponDiscount": "0", "ShipCharge": "0", "Total": "2700"},
        {"OrderId": "store-10002", "OrderTime": "2024/02/02 11:00:00", "OrderStatus": "4",
         "BillMailAddress": "ichiro@example.jp", "UsePoint": "0"},
        {"OrderId": "store-10003", "OrderTime": "2024/02/03 11:00:00", "BillMailAddress": "x@example.jp"},
    ]
    items = [
        {"OrderId": "store-10001", "LineId": "1", "ItemId": "tea-1", "Title": "煎茶", "UnitPrice": "1000", "Quantity": "2"},
        {"OrderId": "store-10001", "LineId": "2", "ItemId": "cup-1", "Title": "湯呑", "UnitPrice": "1000", "Quantity": "1"},
        {"OrderId": "store-10002", "LineId": "1", "ItemId": "tea-1", "Title": "煎茶", "UnitPrice": "1000", "Quantity": "1"},
        {"OrderId": "store-99999", "LineId": "1", "ItemId": "tea-1", "Title": "煎茶", "UnitPrice": "1000", "Quantity": "1"},
    ]
    o = write_csv(tmp_path / "yahoo_order.csv", YAHOO_ORDER_HEADER, orders, encoding=encoding)
    i = write_csv(tmp_path / "yahoo_item.csv", YAHOO_ITEM_HEADER, items, encoding=encoding)
    return o, i


@pytest.mark.parametrize("reverse", [False, True])
def test_yahoo_order_and_item_files_joined_on_order_id(ws, tmp_path, reverse):
    o, i = _yahoo(tmp_path)
    result = import_orders(ws, [i, o] if reverse else [o, i])
    assert result.preset == "yahoo" and result.imported == 3
    a, b, c = lines(ws)
    assert (a["order_id"], a["line_no"], a["sku"], a["line_amount"]) == ("store-10001", 1, "tea-1", 2000)
    assert a["points_used"] + b["points_used"] == 300 and (a["points_used"], b["points_used"]) == (200, 100)
    assert a["mall_coupon"] + b["mall_coupon"] == 100
    assert c["status"] == "cancelled"
    assert a["customer_key"] == c["customer_key"] == email_key(ws.identity_secret(), "ichiro@example.jp")
    reasons = {(r[0], r[4]) for r in quarantine(ws)}
    assert ("yahoo_item.csv", "the item row has no order row with the same OrderId") in reasons
    assert ("yahoo_order.csv", "the order row has no item rows with the same OrderId") in reasons


def test_shopify_first_row_order_fields_offsets_and_statuses(ws, tmp_path):
    rows = [
        {"Name": "#1001", "Email": "a@example.com", "Financial Status": "paid", "Created at": "2024-01-31 23:30:00 +0000",
         "Lineitem quantity": "1", "Lineitem name": "Mug", "Lineitem price": "1500.00", "Lineitem sku": "MUG",
         "Shipping": "500", "Discount Amount": "300", "Source": "web", "Billing Province Name": "Tokyo"},
        {"Name": "#1001", "Lineitem quantity": "2", "Lineitem name": "Tea", "Lineitem price": "750.00",
         "Lineitem sku": "TEA"},
        {"Name": "#1002", "Email": "b@example.com", "Financial Status": "refunded", "Created at": "2024-02-01 10:00:00 +0900",
         "Lineitem quantity": "1", "Lineitem name": "Mug", "Lineitem price": "1500", "Lineitem sku": "MUG"},
        {"Name": "#1003", "Email": "b@example.com", "Financial Status": "paid", "Created at": "2024-02-02 10:00:00 +0900",
         "Cancelled at": "2024-02-02 12:00:00 +0900", "Lineitem quantity": "1", "Lineitem name": "Mug",
         "Lineitem price": "1500", "Lineitem sku": "MUG"},
    ]
    result = import_orders(ws, write_csv(tmp_path / "orders_export.csv", SHOPIFY_HEADER, rows, quote_all=False))
    assert result.preset == "shopify" and result.imported == 4 and result.quarantined == 0
    a, b, c, d = lines(ws)
    assert a["ordered_at"] == dt.datetime(2024, 2, 1, 8, 30) == b["ordered_at"]  # UTC -> Asia/Tokyo, next month
    assert a["customer_key"] == b["customer_key"] == email_key(ws.identity_secret(), "a@example.com")
    assert a["shipping_fee"] + b["shipping_fee"] == 500 and a["shop_coupon"] + b["shop_coupon"] == 300
    assert (c["status"], d["status"], a["status"]) == ("returned", "cancelled", "ordered")


def test_amazon_tab_separated_utc_to_shop_time(ws, tmp_path):
    rows = [{"order-id": "503-1234567-0000001", "order-item-id": "111", "purchase-date": "2021-10-19T17:36:10+00:00",
             "buyer-email": "xyz@marketplace.amazon.co.jp", "sku": "A-1", "product-name": "本",
             "quantity-purchased": "2", "item-price": "3000", "shipping-price": "0", "item-promotion-discount": "-200"}]
    path = write_csv(tmp_path / "amazon.txt", AMAZON_HEADER, rows, delimiter="\t", quote_all=False)
    result = import_orders(ws, path)
    assert result.preset == "amazon" and result.imported == 1
    (a,) = lines(ws)
    assert a["ordered_at"] == dt.datetime(2021, 10, 20, 2, 36, 10)
    assert (a["unit_price"], a["line_amount"], a["shop_coupon"]) == (1500, 3000, 200)


def test_next_engine_customer_code_is_the_key(ws, tmp_path):
    rows = [{"店舗伝票番号": "NE-1", "受注日": "2024/03/01 12:00:00", "受注名": "高橋", "受注メールアドレス": "t@example.jp",
             "受注住所１": "北海道札幌市", "商品コード": "P-1", "商品名": "米", "商品価格": "５，０００", "受注数量": "1",
             "ポイント": "100", "発送料": "800", "顧客コード": "C000123"},
            {"店舗伝票番号": "NE-2", "受注日": "2024/03/02 12:00:00", "受注メールアドレス": "u@example.jp",
             "商品コード": "P-1", "商品名": "米", "商品価格": "5000", "受注数量": "1"}]
    result = import_orders(ws, write_csv(tmp_path / "ne.csv", NEXT_ENGINE_HEADER, rows, encoding="cp932"))
    assert result.preset == "next-engine" and result.imported == 2
    a, b = lines(ws)
    assert a["customer_key"] == "C000123" and a["unit_price"] == 5000 and a["points_used"] == 100
    assert b["customer_key"] == email_key(ws.identity_secret(), "u@example.jp")
    assert ws.con.execute("SELECT prefecture FROM customers WHERE customer_key = 'C000123'").fetchone()[0] == "北海道"


def test_generic_parquet_with_canonical_names_needs_no_mapping(ws, tmp_path):
    table = pa.table({
        "order_id": ["o1", "o1", "o2"], "line_no": [1, 2, 1], "customer_id": ["c1", "c1", "c2"],
        "ordered_at": pa.array([dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 2, 9)],
                               pa.timestamp("us")),
        "sku": ["s1", "s2", "s1"], "quantity": [1, 2, 1], "unit_price": [100, 200, 100],
        "points_used": [10, 0, 0], "status": ["ordered", "ordered", "cancelled"],
    })
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path)
    result = import_orders(ws, path)
    assert (result.preset, result.imported, result.quarantined) == ("generic", 3, 0)
    a, b, c = lines(ws)
    assert (a["customer_key"], a["line_amount"], b["line_amount"], a["points_used"]) == ("c1", 100, 400, 10)
    assert c["status"] == "cancelled" and a["ordered_at"] == dt.datetime(2024, 1, 1, 9)


def test_generic_csv_and_excel_with_yaml_mapping(ws, tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("source: myshop\ncolumns:\n  order_id: 注文ID\n  customer_id: 会員ID\n"
                       "  ordered_at: [日付, 時刻]\n  sku: 商品コード\n  quantity: 個数\n  unit_price: 価格\n"
                       "  shipping_fee: 送料\norder_level: [shipping_fee]\nstatus:\n  cancelled: [取消済]\n",
                       encoding="utf-8")
    header = ["注文ID", "会員ID", "日付", "時刻", "商品コード", "個数", "価格", "送料", "状態"]
    rows = [{"注文ID": "A1", "会員ID": "M1", "日付": "2024年1月5日", "時刻": "13:05", "商品コード": "X", "個数": "1",
             "価格": "¥1,000", "送料": "500", "状態": ""},
            {"注文ID": "A1", "会員ID": "M1", "日付": "2024年1月5日", "時刻": "13:05", "商品コード": "Y", "個数": "1",
             "価格": "¥1,000", "送料": "500", "状態": ""}]
    csv_path = write_csv(tmp_path / "own.csv", header, rows, encoding="utf-8-sig")
    result = import_orders(ws, csv_path, mapping=mapping)
    assert (result.preset, result.source, result.imported) == ("generic", "myshop", 2)
    got = lines(ws)
    assert sum(r["shipping_fee"] for r in got) == 500
    assert got[0]["ordered_at"] == dt.datetime(2024, 1, 5, 13, 5)

    import pandas as pd

    xlsx = tmp_path / "own.xlsx"
    pd.DataFrame(rows, columns=header).assign(注文ID=["B1", "B1"]).to_excel(xlsx, index=False)
    result = import_orders(ws, xlsx, mapping=mapping)
    assert result.imported == 2 and result.quarantined == 0


def test_mapping_that_does_not_fit_is_one_sentence(ws, tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  order_id: 注文ID\n  colour: 色\n", encoding="utf-8")
    path = write_csv(tmp_path / "x.csv", ["注文ID"], [{"注文ID": "1"}])
    with pytest.raises(MappingError, match="unknown field"):
        import_orders(ws, path, mapping=mapping)
    mapping.write_text("columns:\n  order_id: 注文ID\n  ordered_at: 日付\n", encoding="utf-8")
    with pytest.raises(MappingError, match="lacks the column"):
        import_orders(ws, path, mapping=mapping)


def test_time_zones_workspace_and_file(tmp_path):
    from ltvkit import Workspace

    header = ["order_id", "customer_id", "ordered_at", "sku", "quantity", "unit_price"]
    rows = [{"order_id": "1", "customer_id": "c", "ordered_at": "2024-01-01 00:30:00", "sku": "s", "quantity": 1,
             "unit_price": 1},
            {"order_id": "2", "customer_id": "c", "ordered_at": "2024-01-01T00:30:00+09:00", "sku": "s", "quantity": 1,
             "unit_price": 1}]
    path = write_csv(tmp_path / "t.csv", header, rows)
    ws = Workspace(timezone="America/New_York")
    import_orders(ws, path, timezone="UTC")  # naive times in the file are UTC; offsets are honoured
    got = [r["ordered_at"] for r in lines(ws)]
    assert got == [dt.datetime(2023, 12, 31, 19, 30), dt.datetime(2023, 12, 31, 10, 30)]
    assert [r["order_date"] for r in lines(ws)] == [dt.date(2023, 12, 31)] * 2
    ws.close()

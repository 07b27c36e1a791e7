from __future__ import annotations

import codecs
import unicodedata

import duckdb
import pytest
from fixtures import (
    AMAZON_HEADER,
    NEXT_ENGINE_HEADER,
    RAKUTEN_LEGACY_HEADER,
    RAKUTEN_PAY_HEADER,
    SHOPIFY_HEADER,
    YAHOO_ITEM_HEADER,
    YAHOO_ORDER_HEADER,
    write_csv,
)

from ltvkit.exceptions import InputError, UnknownFormatError
from ltvkit.ingest import detect_reader, get_reader, import_orders
from ltvkit.ingest._csv import norm_header, sniff_file, sql_clean_number, sql_int, sql_money, sql_timestamp
from ltvkit.ingest.identity import (
    contact_key,
    email_key,
    sql_customer_keys,
    sql_identity_material,
    sql_key_from_material,
)


@pytest.mark.parametrize("header, preset", [
    (RAKUTEN_PAY_HEADER, "rakuten"), (RAKUTEN_LEGACY_HEADER, "rakuten"), (YAHOO_ORDER_HEADER, "yahoo"),
    (YAHOO_ITEM_HEADER, "yahoo"), (SHOPIFY_HEADER, "shopify"), (AMAZON_HEADER, "amazon"),
    (NEXT_ENGINE_HEADER, "next-engine"),
    (["order_id", "customer_id", "ordered_at", "sku", "quantity", "unit_price"], "generic"),
])
def test_detects_each_preset_from_the_header_alone(header, preset):
    assert detect_reader({norm_header(h) for h in header}, "f.csv").name == preset


def test_full_width_and_spaced_headers_match_after_nfkc():
    fw = [unicodedata.normalize("NFKC", h).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
          for h in RAKUTEN_PAY_HEADER]
    assert "注文者郵便番号１" in fw
    assert detect_reader({norm_header(h) for h in fw}, "f.csv").name == "rakuten"
    assert norm_header("注文者住所：都道府県") == norm_header("注文者住所:都道府県")
    assert norm_header(" Created  at ") == norm_header("created at")


def test_not_an_order_file_is_one_sentence_listing_presets(ws, tmp_path):
    path = write_csv(tmp_path / "members.csv", ["会員番号", "氏名", "ランク"], [{"会員番号": "1"}])
    with pytest.raises(UnknownFormatError) as info:
        import_orders(ws, path)
    msg = str(info.value)
    assert "\n" not in msg and msg.endswith(".") and "rakuten, yahoo, shopify, amazon, next-engine, generic" in msg
    for content, expect in ((b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a text CSV"), (b"", "empty")):
        bad = tmp_path / "x.csv"
        bad.write_bytes(content)
        with pytest.raises(UnknownFormatError, match=expect):
            import_orders(ws, bad)
    with pytest.raises(InputError, match="Unknown preset"):
        import_orders(ws, path, preset="ebay")
    with pytest.raises(UnknownFormatError, match="No file"):
        import_orders(ws, tmp_path / "missing.csv")


def test_two_files_must_be_a_yahoo_pair(ws, tmp_path):
    a = write_csv(tmp_path / "a.csv", RAKUTEN_PAY_HEADER, [])
    with pytest.raises(InputError, match="Yahoo"):
        import_orders(ws, [a, a])
    assert get_reader("next_engine").name == "next-engine"


@pytest.mark.parametrize("encoding, expect", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp932", "cp932")])
def test_encoding_detection(tmp_path, encoding, expect):
    path = write_csv(tmp_path / "e.csv", RAKUTEN_PAY_HEADER, [{"商品名": "髙島屋①～ソ表"}], encoding=encoding)
    info = sniff_file(path)
    assert info.encoding == expect and info.headers[0] == "注文番号"
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(codecs.BOM_UTF8)


def test_ascii_start_with_shift_jis_later_is_read_as_cp932(ws, tmp_path):
    header = ["order_id", "customer_id", "ordered_at", "sku", "product_name", "quantity", "unit_price"]
    rows = [{"order_id": f"o{i}", "customer_id": "c", "ordered_at": "2024-01-01", "sku": "s", "product_name": "tea",
             "quantity": 1, "unit_price": 1} for i in range(60000)]
    rows.append({**rows[0], "order_id": "last", "product_name": "日本茶"})
    path = write_csv(tmp_path / "late.csv", header, rows, encoding="cp932")
    result = import_orders(ws, path)
    assert result.encoding == "cp932" and result.imported == 60001
    assert ws.con.execute("SELECT product_name FROM order_lines WHERE order_id = 'last'").fetchall()[0][0] == "日本茶"


def _sql(con, expr_fn, value):
    con.execute("CREATE OR REPLACE TEMP TABLE v AS SELECT CAST(? AS VARCHAR) AS x", [value])
    return con.execute(f"SELECT {expr_fn('x')} FROM v").fetchall()[0][0]


@pytest.mark.parametrize("text, money, whole", [
    ("1,980", 1980, 1980), ("１，９８０", 1980, 1980), ("¥2,480", 2480, 2480), ("￥３９８０円", 3980, 3980),
    ("12.0", 12, 12), ("2.5", 3, None), ("abc", None, None), ("", None, None), ("−３", -3, -3),
])
def test_japanese_numbers(text, money, whole):
    con = duckdb.connect()
    assert _sql(con, lambda x: sql_money(sql_clean_number(x)), text) == money
    assert _sql(con, lambda x: sql_int(sql_clean_number(x)), text) == whole


@pytest.mark.parametrize("text, expect", [
    ("2024/1/5 13:05", "2024-01-05 13:05:00"), ("2024年1月5日 13:05", "2024-01-05 13:05:00"),
    ("２０２４／０１／０５", "2024-01-05 00:00:00"), ("2024-01-05T13:05:00+09:00", "2024-01-05 13:05:00"),
    ("2024-01-01 12:00:00 +0900", "2024-01-01 12:00:00"), ("2021-10-19T17:36:10+00:00", "2021-10-20 02:36:10"),
    ("2024-01-31T15:30:00Z", "2024-02-01 00:30:00"), ("20240105", "2024-01-05 00:00:00"), ("2024-13-01", None),
])
def test_japanese_and_iso_dates_to_tokyo_wall_clock(text, expect):
    con = duckdb.connect()
    got = _sql(con, lambda x: sql_timestamp(x, shop_tz="Asia/Tokyo", naive_tz="Asia/Tokyo"), text)
    assert (str(got) if got else None) == expect


def test_sql_and_python_customer_keys_agree():
    con = duckdb.connect()
    secret = b"s3cret" * 20  # longer than a block: hashed first, as HMAC does
    exprs = {"customer_id": None, "email": "e", "name": "n", "phone": "p", "zip": "z"}
    material = sql_identity_material(("contact", "email"), exprs)
    cases = [("山田 太郎", "+81-90-1234-5678", "150-0001", None), ("", "", "", " Foo@Example.JP "),
             ("ｻﾄｳ", "０９０１２３４５６７８", "", None)]
    for name, phone, zip_, email in cases:
        con.execute("CREATE OR REPLACE TEMP TABLE r AS SELECT CAST(? AS VARCHAR) n, CAST(? AS VARCHAR) p, "
                    "CAST(? AS VARCHAR) z, CAST(? AS VARCHAR) e",
                    [name or None, phone or None, zip_ or None, email])
        got = con.execute(f"SELECT {sql_key_from_material(secret, material)} FROM r").fetchall()[0][0]
        want = contact_key(secret, name, phone, zip_) or email_key(secret, email or "")
        assert got == want and got.startswith("h:")
        con.execute(f"CREATE OR REPLACE TEMP TABLE mats AS SELECT {material} AS m FROM r")
        assert con.execute(sql_customer_keys(secret, "mats")).fetchall() == [
            (con.execute("SELECT m FROM mats").fetchall()[0][0], want)]
    assert contact_key(secret, "山田太郎", "09012345678", "1500001") == contact_key(secret, "山田 太郎", "+81 90-1234-5678", "150-0001")

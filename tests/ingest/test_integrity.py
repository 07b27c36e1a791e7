"""Regression tests of issue 19 (import integrity): every hostile input is built here, by the test."""

from __future__ import annotations

import pytest
from conftest import lines, quarantine
from fixtures import (
    RAKUTEN_PAY_HEADER,
    YAHOO_ITEM_HEADER,
    YAHOO_ORDER_HEADER,
    rakuten_pay_row,
    write_csv,
)

from ltvkit.ingest import import_orders


def _three_lines(middle_price: object = 500) -> list[dict[str, object]]:
    return [rakuten_pay_row("o-1", 1, price=1000, points=300, shipping=550),
            rakuten_pay_row("o-1", 2, price=middle_price, points=300, shipping=550),
            rakuten_pay_row("o-1", 3, price=700, points=300, shipping=550),
            rakuten_pay_row("o-2", 1, price=900)]


def _snapshot(ws, where="TRUE"):
    return [{k: v for k, v in r.items() if k != "import_id"} for r in lines(ws, where)]


# -- 1. re-import keeps line identity ---------------------------------------------------------------------

def test_reimport_with_a_bad_middle_line_keeps_the_previous_order(ws, tmp_path):
    import_orders(ws, write_csv(tmp_path / "a.csv", RAKUTEN_PAY_HEADER, _three_lines(), encoding="cp932"))
    before = _snapshot(ws, "order_id = 'o-1'")
    assert [(r["sku"], r["points_used"]) for r in before] == [("sku-1", 136), ("sku-2", 68), ("sku-3", 96)]
    result = import_orders(ws, write_csv(tmp_path / "b.csv", RAKUTEN_PAY_HEADER, _three_lines("abc"), encoding="cp932"))
    assert _snapshot(ws, "order_id = 'o-1'") == before
    assert result.updated == 0 and result.unchanged == 1  # o-2
    reasons = {(r[1], r[4]) for r in quarantine(ws) if r[0] == "b.csv"}
    assert (3, "the price is missing or not a number") in reasons
    assert {line for line, _ in reasons} == {2, 3, 4}  # the good lines of o-1 are kept, and said so


def test_a_new_order_with_a_bad_line_keeps_the_true_positions_of_its_other_lines(ws, tmp_path):
    import_orders(ws, write_csv(tmp_path / "b.csv", RAKUTEN_PAY_HEADER, _three_lines("abc"), encoding="cp932"))
    got = [(r["line_no"], r["sku"], r["points_used"], r["shipping_fee"]) for r in lines(ws, "order_id = 'o-1'")]
    assert [g[:2] for g in got] == [(1, "sku-1"), (3, "sku-3")]
    assert sum(g[2] for g in got) == 300 and sum(g[3] for g in got) == 550
    # the fixed file fills in line 2 and moves no other line
    result = import_orders(ws, write_csv(tmp_path / "a.csv", RAKUTEN_PAY_HEADER, _three_lines(), encoding="cp932"))
    assert [(r["line_no"], r["sku"]) for r in lines(ws, "order_id = 'o-1'")] == [(1, "sku-1"), (2, "sku-2"), (3, "sku-3")]
    assert result.imported == 1


# -- 3. quarantine history --------------------------------------------------------------------------------

def test_quarantine_of_a_file_survives_the_import_of_another_file_with_the_same_name(ws, tmp_path):
    (tmp_path / "shopA").mkdir()
    (tmp_path / "shopB").mkdir()
    bad = [rakuten_pay_row(f"a-{i}", 1, qty="x") for i in range(3)] + [rakuten_pay_row("a-9", 1)]
    import_orders(ws, write_csv(tmp_path / "shopA" / "orders.csv", RAKUTEN_PAY_HEADER, bad, encoding="cp932"))
    import_orders(ws, write_csv(tmp_path / "shopB" / "orders.csv", RAKUTEN_PAY_HEADER, [rakuten_pay_row("b-1", 1)],
                                encoding="cp932"))
    assert ws.info()["quarantined"] == 3
    assert len(quarantine(ws)) == 3


# -- 4. one bad row does not abort the file ---------------------------------------------------------------

def test_a_product_beyond_64_bits_is_quarantined_and_the_rest_imports(ws, tmp_path):
    rows = [rakuten_pay_row("o-1", 1, price=9_000_000_000_000_000_000 // 10, qty=100), rakuten_pay_row("o-2", 1)]
    result = import_orders(ws, write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, rows, encoding="cp932"))
    assert (result.imported, result.quarantined) == (1, 1)
    assert quarantine(ws)[0][1] == 2 and "too large" in quarantine(ws)[0][4]


# -- 6. only decimal digits are numbers -------------------------------------------------------------------

@pytest.mark.parametrize("text", ["0x10", "1e3", "1_000", "0b11", "inf", "nan", "1E3", "0X1F"])
@pytest.mark.parametrize("column", ["qty", "price"])
def test_non_decimal_numbers_are_quarantined(ws, tmp_path, text, column):
    rows = [rakuten_pay_row("o-1", 1, **{column: text}), rakuten_pay_row("o-2", 1, qty="２", price="1,980円")]
    result = import_orders(ws, write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, rows, encoding="cp932"))
    assert (result.imported, result.quarantined) == (1, 1)
    assert [(r["order_id"], r["quantity"], r["unit_price"]) for r in lines(ws)] == [("o-2", 2, 1980)]


# -- 7. bad structure -------------------------------------------------------------------------------------

def test_an_order_number_shared_by_two_buyers_on_two_dates_is_not_one_order(ws, tmp_path):
    rows = [rakuten_pay_row("o-1", 1), rakuten_pay_row("o-2", 1),
            rakuten_pay_row("o-1", 2, when="2024-03-09 10:00:00", name=("鈴木", "一郎"), phone=("080", "1111", "2222"))]
    result = import_orders(ws, write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, rows, encoding="cp932"))
    assert ws.con.execute("SELECT count(DISTINCT customer_key) FROM order_lines WHERE order_id = 'o-1'").fetchall() == [(1,)]
    assert result.quarantined == 1
    (q,) = quarantine(ws)
    assert q[1] == 4 and q[2] == "注文番号" and "another buyer" in q[4]


def _yahoo(tmp_path, orders, items):
    o = write_csv(tmp_path / "order.csv", YAHOO_ORDER_HEADER, orders)
    i = write_csv(tmp_path / "item.csv", YAHOO_ITEM_HEADER, items)
    return [o, i]


def _yorder(oid, mail="a@example.com", when="2024-01-05 10:00:00"):
    return {"OrderId": oid, "OrderTime": when, "OrderStatus": "2", "BillMailAddress": mail, "UsePoint": 0,
            "ShipCharge": 0, "BillName": "山田", "BillPhoneNumber": "0312345678", "BillZipCode": "1000001"}


def _yitem(oid, line, price=1000):
    return {"OrderId": oid, "LineId": line, "Quantity": 1, "ItemId": f"i{line}", "Title": "t", "UnitPrice": price}


def test_a_repeated_yahoo_order_row_is_quarantined_as_a_duplicate(ws, tmp_path):
    files = _yahoo(tmp_path, [_yorder("y-1"), _yorder("y-1"), _yorder("y-2")],
                   [_yitem("y-1", 1), _yitem("y-2", 1)])
    result = import_orders(ws, files)
    assert result.imported == 2 and result.quarantined == 1
    (q,) = quarantine(ws)
    assert (q[0], q[1]) == ("order.csv", 3) and "repeats an earlier row" in q[4]


def test_a_file_with_a_duplicated_used_header_is_refused(ws, tmp_path):
    from ltvkit.exceptions import UnknownFormatError

    header = [*RAKUTEN_PAY_HEADER, "単価"]
    path = write_csv(tmp_path / "r.csv", header, [rakuten_pay_row("o-1", 1)], encoding="cp932")
    with pytest.raises(UnknownFormatError, match="単価.*twice"):
        import_orders(ws, path)


# -- 8. quarantine line numbers are file lines ------------------------------------------------------------

def test_line_numbers_count_file_lines_after_quoted_newlines(ws, tmp_path):
    rows = [rakuten_pay_row("o-1", 1, コメント="二行の\r\nコメント"), rakuten_pay_row("o-2", 1, qty="x"),
            rakuten_pay_row("o-3", 1, コメント="三行\r\nの\r\nコメント"), rakuten_pay_row("o-4", 1, price="y")]
    path = write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, rows, encoding="cp932")
    result = import_orders(ws, path)
    assert result.quarantined == 2
    text = path.read_bytes().decode("cp932").split("\r\n")
    got = {r[1]: r[3] for r in quarantine(ws)}
    assert got == {4: "x", 8: "y"}
    assert text[3].startswith('"o-2"') and text[7].startswith('"o-4"')


def test_a_malformed_row_after_quoted_newlines_is_named_by_its_file_line(ws, tmp_path):
    path = tmp_path / "g.csv"
    path.write_text('order_id,customer_id,ordered_at,sku,product_name,quantity,unit_price\n'
                    'o1,c1,2024-01-05,s,"two\nlines",1,100\n'
                    'o2,c1,2024-01-05,s,x,1,100,extra\n'
                    'o3,c1,2024-01-05,s,x,1,100\n', encoding="utf-8")
    result = import_orders(ws, path, preset="generic")
    assert (result.imported, result.quarantined) == (2, 1)
    assert quarantine(ws)[0][1] == 4


# -- 2. a UTF-8 file with a bad byte stays UTF-8 ----------------------------------------------------------

def test_a_large_utf8_file_with_one_bad_byte_past_4_mib_is_read_as_utf8(ws, tmp_path):
    rows = [rakuten_pay_row(f"o-{n}", 1, qty="２", 商品名=f"テスト商品{n}") for n in range(8000)]
    path = write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, rows)
    data = path.read_bytes()
    assert len(data) > 4 << 20
    victim = data.index("テスト商品7900".encode())  # in row o-7900, past the first 4 MiB
    assert victim > 4 << 20
    path.write_bytes(data[:victim] + b"\xff" + data[victim + 1:])
    result = import_orders(ws, path)
    assert result.encoding.startswith("utf-8")
    assert (result.imported, result.quarantined) == (7999, 1)
    (q,) = quarantine(ws)
    assert q[1] == 7902 and q[4].endswith(f"(invalid UTF-8 at byte {victim})")
    names = {r[0] for r in ws.con.execute("SELECT product_name FROM order_lines").fetchall()}
    assert "テスト商品5099" in names and all(n.startswith("テスト商品") for n in names)


def test_a_quoted_value_followed_by_text_invents_no_order(ws, tmp_path):
    # the engine resynchronises after `"...\x01,"` at the end of a line on its own terms: it used to blank the line
    # before (losing o2) and import an order numbered '\r\n"o4' made of the two lines after it
    rows = [f'"o{n}","c{n}","2024-01-05 10:00","s{n}","品","1","{100 * n}"' for n in range(1, 6)]
    rows[2] = '"o3","c3","2024-01-05 10:00\x01,"s3","品","1","'
    path = tmp_path / "g.csv"
    path.write_text('"order_id","customer_id","ordered_at","sku","product_name","quantity","unit_price"\r\n'
                    + "\r\n".join(rows) + "\r\n", encoding="utf-8")
    result = import_orders(ws, path, preset="generic")
    assert (result.imported, result.quarantined, result.rows_read) == (4, 1, 5)
    (q,) = quarantine(ws)
    assert q[1] == 4 and "followed by text" in q[4]
    assert ws.con.execute("SELECT order_id, unit_price FROM order_lines ORDER BY 1").fetchall() == [
        ("o1", 100), ("o2", 200), ("o4", 400), ("o5", 500)]


def test_a_quote_never_closed_loses_only_its_own_line(ws, tmp_path):
    rows = [f"o{n},c{n % 7},2024-01-05 10:00,s{n % 5},商品{n % 5},1,{100 + n}" for n in range(400)]
    rows[300] = rows[300].replace("商品", '"商品')
    path = tmp_path / "g.csv"
    path.write_text("order_id,customer_id,ordered_at,sku,product_name,quantity,unit_price\n" + "\n".join(rows) + "\n",
                    encoding="utf-8")
    result = import_orders(ws, path, preset="generic")
    assert (result.imported, result.quarantined, result.rows_read) == (399, 1, 400)
    (q,) = quarantine(ws)
    assert q[1] == 302 and "never closed" in q[4]
    assert ws.con.execute("SELECT max(unit_price) FROM order_lines").fetchall() == [(499,)]
    log = ws.con.execute("SELECT content_hash, file_path FROM import_log").fetchall()[0]
    import hashlib

    assert log == (hashlib.sha256(path.read_bytes()).hexdigest(), str(path.resolve()))

from __future__ import annotations

from conftest import lines, quarantine
from fixtures import RAKUTEN_PAY_HEADER, YAHOO_ITEM_HEADER, YAHOO_ORDER_HEADER, rakuten_pay_row, write_csv

from ltvkit.ingest import REASONS, import_orders


def _generic(tmp_path, rows, name="g.csv"):
    header = ["order_id", "line_no", "customer_id", "ordered_at", "sku", "product_name", "quantity", "unit_price",
              "points_used", "point_rate"]
    return write_csv(tmp_path / name, header, rows)


def _ok(**kw):
    row = {"order_id": "o1", "line_no": "1", "customer_id": "c1", "ordered_at": "2024-01-05 10:00", "sku": "s",
           "quantity": "1", "unit_price": "100"}
    row.update(kw)
    return row


def test_every_row_reason_is_recorded_with_line_column_and_value(ws, tmp_path):
    cases = {
        "missing_order_id": (_ok(order_id=""), None, None),
        "bad_date": (_ok(order_id="o2", ordered_at="2024-13-45"), "ordered_at", "2024-13-45"),
        "date_out_of_range": (_ok(order_id="o3", ordered_at="1899-01-01"), "ordered_at", "1899-01-01"),
        "bad_quantity": (_ok(order_id="o4", quantity="1.5"), "quantity", "1.5"),
        "negative_quantity": (_ok(order_id="o5", quantity="-2"), "quantity", "-2"),
        "bad_price": (_ok(order_id="o6", unit_price="abc"), "unit_price", "abc"),
        "negative_price": (_ok(order_id="o7", unit_price="-5"), "unit_price", "-5"),
        "bad_amount": (_ok(order_id="o8", points_used="many"), "points_used", "many"),
        "bad_number": (_ok(order_id="o9", point_rate="x2"), "point_rate", "x2"),
        "bad_line_no": (_ok(order_id="o10", line_no="first"), "line_no", "first"),
        "missing_item": (_ok(order_id="o11", sku=""), None, None),
        "missing_customer": (_ok(order_id="o12", customer_id=""), None, None),
        "duplicate_line": (_ok(order_id="o1"), "line_no", "1"),
    }
    rows = [_ok()] + [row for row, _, _ in cases.values()] + [_ok(order_id="o99")]
    result = import_orders(ws, _generic(tmp_path, rows))
    assert result.imported == 2 and result.quarantined == len(cases) and result.rows_read == len(rows)
    got = {r[1]: r for r in quarantine(ws)}
    for line, (key, (_, column, value)) in enumerate(cases.items(), start=3):
        file, _, col, val, reason = got[line]
        assert (file, col, val, reason) == ("g.csv", column, value, REASONS[key].sentence), key
    assert [r["order_id"] for r in lines(ws)] == ["o1", "o99"]


def test_malformed_rows_and_the_lines_after_them(ws, tmp_path):
    path = tmp_path / "bad.csv"
    good = '"o{n}","1","c1","2024-01-05","s","","1","100","",""'
    text = ('"order_id","line_no","customer_id","ordered_at","sku","product_name","quantity","unit_price",'
            '"points_used","point_rate"\n' + good.format(n=1) + "\n" + '"o2","1","c1"\n' + good.format(n=3) + "\n"
            + good.format(n=4).replace('"100"', '"bad"') + "\n")
    path.write_text(text, encoding="utf-8")
    result = import_orders(ws, path)
    assert result.imported == 2 and result.quarantined == 2 and result.rows_read == 4
    q = quarantine(ws)
    assert q[0][1] == 3 and q[0][4].startswith(REASONS["malformed_row"].sentence)
    assert q[1][1] == 5 and q[1][3] == "bad"  # line numbers still count the rejected row


def test_contact_data_never_becomes_a_quarantine_value(ws, tmp_path):
    # Rakuten falls back to the (masked) e-mail when name/phone/zip are missing: a row with neither is quarantined
    rows = [rakuten_pay_row("1-1-1", 1, name=("", ""), phone=("", "", ""), zip_=("", ""),
                            注文者メールアドレス=""),
            rakuten_pay_row("1-1-2", 1, name=("", ""), phone=("", "", ""), zip_=("", ""))]
    result = import_orders(ws, write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, rows, encoding="cp932"))
    assert result.quarantined == 1 and result.imported == 1
    (row,) = quarantine(ws)
    assert row[3] is None and row[4] == REASONS["missing_customer"].sentence
    assert "@" not in str(ws.con.execute("SELECT * FROM quarantine").fetchall())


def test_yahoo_reasons(ws, tmp_path):
    o = write_csv(tmp_path / "o.csv", YAHOO_ORDER_HEADER, [{"OrderId": "s-1", "OrderTime": "2024-01-01 10:00",
                                                          "BillMailAddress": "a@b.jp"}])
    i = write_csv(tmp_path / "i.csv", YAHOO_ITEM_HEADER, [{"OrderId": "s-2", "LineId": "1", "ItemId": "x",
                                                         "UnitPrice": "1", "Quantity": "1"}])
    result = import_orders(ws, [o, i])
    assert result.valid_rows == 0 and result.quarantined == 2
    assert {r[4] for r in quarantine(ws)} == {REASONS["orphan_item"].sentence, REASONS["order_without_items"].sentence}


def test_strict_imports_nothing_but_records_the_reasons(ws, tmp_path):
    result = import_orders(ws, _generic(tmp_path, [_ok(), _ok(order_id="o2", quantity="x")]), strict=True)
    assert result.imported == 0 and result.quarantined == 1
    assert ws.con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0] == 0
    assert ws.con.execute("SELECT status FROM import_log").fetchall()[0][0] == "strict-rejected"


def test_all_reasons_are_tested():
    tested = {"missing_order_id", "bad_date", "date_out_of_range", "bad_quantity", "negative_quantity", "bad_price",
              "negative_price", "bad_amount", "bad_number", "bad_line_no", "missing_item", "missing_customer",
              "duplicate_line", "malformed_row", "orphan_item", "order_without_items",
              # tests/ingest/test_integrity.py
              "amount_too_large", "invalid_utf8", "conflicting_order", "duplicate_order_row", "order_kept"}
    assert tested == set(REASONS)

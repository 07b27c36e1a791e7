from __future__ import annotations

from conftest import lines
from fixtures import RAKUTEN_PAY_HEADER, rakuten_pay_row, write_csv

from ltvkit.ingest import import_orders


def _rows(status_2="500", extra=False):
    rows = [rakuten_pay_row("o-1", 1, price=1000), rakuten_pay_row("o-1", 2, price=500),
            rakuten_pay_row("o-2", 1, status=status_2)]
    if extra:
        rows.append(rakuten_pay_row("o-3", 1, when="2024-02-01 08:00:00"))
    return rows


def test_same_file_twice_creates_no_duplicates(ws, tmp_path):
    path = write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, _rows(), encoding="cp932")
    first = import_orders(ws, path)
    second = import_orders(ws, path)
    assert (first.imported, first.updated, first.unchanged) == (3, 0, 0)
    assert (second.imported, second.updated, second.unchanged) == (0, 0, 3)
    assert ws.con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0] == 3
    log = ws.con.execute("SELECT file_name, content_hash, imported, unchanged, status FROM import_log ORDER BY import_id").fetchall()
    assert [r[0] for r in log] == ["r.csv", "r.csv"] and log[0][1] == log[1][1] and len(log[0][1]) == 64
    assert (log[1][2], log[1][3], log[1][4]) == (0, 3, "done")


def test_overlapping_file_applies_cancellation_and_adds_new_orders(ws, tmp_path):
    import_orders(ws, write_csv(tmp_path / "jan.csv", RAKUTEN_PAY_HEADER, _rows(), encoding="cp932"))
    result = import_orders(ws, write_csv(tmp_path / "jan_feb.csv", RAKUTEN_PAY_HEADER,
                                         _rows(status_2="900", extra=True), encoding="cp932"))
    assert (result.imported, result.updated, result.unchanged) == (1, 1, 2)
    got = {(r["order_id"], r["line_no"]): r for r in lines(ws)}
    assert len(got) == 4 and got[("o-2", 1)]["status"] == "cancelled"
    cust = ws.con.execute("SELECT orders, revenue FROM customers").fetchall()
    assert cust == [(2, 1000 + 500 + 1980)]  # o-1 and o-3; the cancelled o-2 does not count
    products = dict(ws.con.execute("SELECT sku, list_price FROM products").fetchall())
    assert products == {"sku-1": 1980, "sku-2": 500}


def test_a_line_removed_from_an_order_is_removed_on_reimport(ws, tmp_path):
    import_orders(ws, write_csv(tmp_path / "a.csv", RAKUTEN_PAY_HEADER, _rows(), encoding="cp932"))
    import_orders(ws, write_csv(tmp_path / "b.csv", RAKUTEN_PAY_HEADER, _rows()[:1], encoding="cp932"))
    assert [(r["order_id"], r["line_no"]) for r in lines(ws)] == [("o-1", 1), ("o-2", 1)]


def test_contacts_only_with_keep_contacts(ws, tmp_path):
    path = write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, _rows(), encoding="cp932")
    import_orders(ws, path)
    assert ws.con.execute("SELECT count(*) FROM contacts").fetchall()[0][0] == 0
    dump = str(ws.con.execute("SELECT * FROM order_lines").fetchall()) + str(ws.con.execute("SELECT * FROM customers").fetchall())
    assert "山田" not in dump and "090" not in dump
    import_orders(ws, path, keep_contacts=True)
    name, phone, zip_ = ws.con.execute("SELECT name, phone, zip FROM contacts").fetchall()[0]
    assert (name, phone, zip_) == ("山田太郎", "09012345678", "1500001")


def test_workspace_method_returns_the_same_counts_and_ibis_reads_after(tmp_path):
    from ltvkit import Workspace

    path = write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, _rows(), encoding="cp932")
    ws = Workspace(tmp_path / "w.duckdb")
    result = ws.import_orders(path)
    assert result.to_dict()["imported"] == 3 and result.import_id == 1
    assert ws.orders().count().execute() == 3
    assert ws.orders(include_cancelled=False).count().execute() == 3
    ws.close()

from __future__ import annotations

import json

from fixtures import RAKUTEN_PAY_HEADER, YAHOO_ITEM_HEADER, YAHOO_ORDER_HEADER, rakuten_pay_row, write_csv

from ltvkit.cli import main


def test_import_prints_counts_and_first_reasons(tmp_path, capsys):
    rows = [rakuten_pay_row("o-1", 1), rakuten_pay_row("o-2", 1, qty="たくさん")]
    path = write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, rows, encoding="cp932")
    ws = str(tmp_path / "w.duckdb")
    assert main(["--lang", "en", "import", str(path), "--workspace", ws]) == 0
    out = capsys.readouterr().out
    assert "imported 1" in out and "quarantined 1" in out
    assert "line 3, column 個数: the quantity is missing or not a whole number" in out
    assert main(["--lang", "en", "import", str(path), "--workspace", ws, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["unchanged"], data["quarantined"], data["preset"]) == (1, 1, "rakuten")
    assert main(["--lang", "en", "import", str(path), "--workspace", ws, "--strict"]) == 1
    assert "--strict" in capsys.readouterr().err
    assert main(["info", "--workspace", ws, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["order_lines"] == 1


def test_no_valid_row_and_non_order_file_exit_non_zero_with_one_sentence(tmp_path, capsys):
    ws = str(tmp_path / "w.duckdb")
    bad = write_csv(tmp_path / "bad.csv", RAKUTEN_PAY_HEADER, [rakuten_pay_row("o-1", 1, when="?")], encoding="cp932")
    assert main(["--lang", "en", "import", str(bad), "--workspace", ws]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: No valid order row was found in bad.csv")
    other = tmp_path / "notes.txt"
    other.write_text("hello,world\n1,2\n", encoding="utf-8")
    assert main(["--lang", "en", "import", str(other), "--workspace", ws]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: notes.txt does not look like an order export") and "Traceback" not in err
    assert main(["--lang", "en", "import", str(other), "--preset", "nope", "--workspace", ws]) == 1
    assert "Unknown preset" in capsys.readouterr().err


def test_yahoo_pair_on_the_command_line(tmp_path, capsys):
    o = write_csv(tmp_path / "o.csv", YAHOO_ORDER_HEADER, [{"OrderId": "s-1", "OrderTime": "2024-01-01 10:00",
                                                          "BillMailAddress": "a@b.jp"}], encoding="cp932")
    i = write_csv(tmp_path / "i.csv", YAHOO_ITEM_HEADER, [{"OrderId": "s-1", "LineId": "1", "ItemId": "x",
                                                         "UnitPrice": "100", "Quantity": "1"}], encoding="cp932")
    assert main(["--lang", "en", "import", str(i), str(o), "--workspace", str(tmp_path / "w.duckdb"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["preset"] == "yahoo" and data["imported"] == 1

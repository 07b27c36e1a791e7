from __future__ import annotations

import json
import re

import openpyxl
import pytest

from ltvkit import InputError, MissingDataError, Workspace
from ltvkit.reports import ReportSettings, Section, build_report, build_report_data
from ltvkit.reports._json import script_json

EXPECTED_SECTIONS = ["kpi", "cohorts", "f2", "segments", "points", "cac", "predictive", "recommend", "ltvlab"]
MEASURED_ONLY = ["crm_results"]  # shown once `ltv crm results` has stored a measurement
KANA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_every_section_is_built_from_the_demo_shop(reports):
    for lang, paths in reports.items():
        data = paths.data
        assert [s.key for s in data.sections] == EXPECTED_SECTIONS, (lang, data.unavailable)
        assert [u.key for u in data.unavailable] == MEASURED_ONLY
        kpis = {k.key: k.value for k in data.section("kpi").kpis}
        assert kpis["customers"] > 100 and kpis["aov"] > 0 and 0 < kpis["f2_rate"] < 1
        assert kpis["textbook_ltv"] == pytest.approx(
            kpis["aov"] * kpis["purchases_per_year"] * kpis["lifespan_years"], rel=1e-9)


def test_one_sentence_per_chart_in_the_right_language(reports, hostile):
    for lang, paths in reports.items():
        charts = paths.data.charts()
        assert len(charts) >= 12
        for chart in charts:
            assert chart.sentence, (lang, chart.key)
            if lang == "ja":
                assert KANA.search(chart.sentence), chart.sentence
                assert chart.sentence.endswith("。")
            else:
                assert not re.search(r"[\u3040-\u30ff]", chart.sentence.replace(hostile["channel"], "")), chart.sentence
                assert chart.sentence.endswith(".")


def test_sentences_are_written_from_the_numbers(reports):
    data = reports["en"].data
    f2 = next(c for c in data.charts() if c.key == "f2_windows")
    rates = f2.table.frame.set_index("window_days")["f2_rate"]
    assert f"{rates[30] * 100:.1f}%" in f2.sentence and f"{rates[365] * 100:.1f}%" in f2.sentence
    kpi = data.section("kpi")
    aov = next(k for k in kpi.kpis if k.key == "aov")
    assert aov.text("en") in kpi.intro


def test_to_dict_is_json(reports):
    payload = json.loads(json.dumps(reports["ja"].data.to_dict(), ensure_ascii=False))
    assert [s["key"] for s in payload["sections"]] == EXPECTED_SECTIONS
    assert payload["sections"][0]["kpis"][0]["text"]


def test_stored_results_are_reused(shop_ws, reports):
    ws, _ = shop_ws
    for name in ("predictions", "recommendations", "tracking", "segments_rfm", "segments_cpm", "point_dependence"):
        assert ws.has_result(name), name
    from ltvkit.reports.sections import predictive, recommend

    before = ws.runs()
    data = build_report_data(ws, lang="en", strict=True,
                             builders=[("predictive", predictive.build), ("recommend", recommend.build)])
    assert [s.key for s in data.sections] == ["predictive", "recommend"]
    assert ws.runs() == before


def test_html_is_self_contained_and_escapes_data(reports, hostile):
    html = reports["ja"].html.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="ja">' in html
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?://""", html)
    for name in (hostile["product"], hostile["category"], hostile["channel"]):
        assert name not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # exactly our own script elements: the JSON data, plotly.js and the page script
    assert len(re.findall(r"<script\b", html)) == 3


def test_no_personal_data_anywhere(reports, hostile):
    for paths in reports.values():
        html = paths.html.read_text(encoding="utf-8")
        as_json = json.dumps(paths.data.to_dict(), ensure_ascii=False)
        wb = openpyxl.load_workbook(paths.xlsx, read_only=True)
        cells = " ".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
        for value in hostile["contact"].values():
            assert value not in html and value not in as_json and value not in cells


def test_excel_has_one_sheet_per_table_with_japanese_headers(reports):
    paths = reports["ja"]
    wb = openpyxl.load_workbook(paths.xlsx)
    tables = paths.data.tables()
    assert len(wb.sheetnames) == 1 + len(tables)
    assert wb.sheetnames[0] == "概要"
    names = set(wb.sheetnames)
    assert "RFMグループ" in names and "CPM分析（10セグメント）" in names
    cohort = wb["コホート別 12か月・24か月LTV"]
    headers = [c.value for c in cohort[1]]
    assert headers[:3] == ["初回購入月", "新規顧客数", "年間LTV（売上）"]
    assert cohort.max_row == len(next(t for t in tables if t.key == "cohort_ltv").frame) + 1
    en = openpyxl.load_workbook(reports["en"].xlsx)
    assert en.sheetnames[0] == "Summary" and "RFM groups" in en.sheetnames


def test_excel_keeps_formula_like_text_as_text(tmp_path):
    import pandas as pd

    from ltvkit.reports import ReportData, TableBlock, write_xlsx

    frame = pd.DataFrame({"product": ["=HYPERLINK(\"http://x\")", "ok"], "n": [1, 2]})
    data = ReportData("en", {}, [Section("s", "S", tables=[TableBlock("t", "T", frame, kinds={"n": "int"})])], [],
                      __import__("datetime").datetime(2026, 1, 1))
    path = write_xlsx(data, tmp_path / "x.xlsx")
    sheet = openpyxl.load_workbook(path)["T"]
    assert sheet["A2"].value == "=HYPERLINK(\"http://x\")" and sheet["A2"].data_type == "s"
    assert sheet["B3"].value == 2


def test_script_json_cannot_break_out_of_its_element():
    hostile = "</script><!-- & \u2028\u2029 <b>"
    text = script_json({"name": hostile})
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == {"name": hostile}


def test_a_broken_import_in_a_section_fails_loudly(shop_ws):
    def missing_module(ws, settings):
        raise ModuleNotFoundError("No module named 'ltvkit.nothing'", name="ltvkit.nothing")

    with pytest.raises(ModuleNotFoundError, match="ltvkit.nothing"):
        build_report_data(shop_ws[0], lang="ja", builders=[("predictive", missing_module)])


def test_missing_analyses_are_listed_and_the_report_still_renders(shop_ws, tmp_path):
    ws, _ = shop_ws

    def no_data(ws, settings):
        return None

    def needs_data(ws, settings):
        raise MissingDataError("Run `ltv predict` first.")

    data = build_report_data(ws, ReportSettings(lang="ja"), builders=[
        ("kpi", __import__("ltvkit.reports.sections.kpi", fromlist=["build"]).build),
        ("recommend", no_data), ("points", needs_data)])
    assert [s.key for s in data.sections] == ["kpi"]
    reasons = {u.key: u.reason for u in data.unavailable}
    assert reasons["recommend"] == "データが足りません"
    assert reasons["points"] == "Run `ltv predict` first."
    html = data.to_html()
    assert "まだ利用できない分析" in html and 'data-unavailable="points"' in html


def test_an_unexpected_error_is_listed_unless_strict(shop_ws):
    ws, _ = shop_ws

    def broken(ws, settings):
        raise ZeroDivisionError("boom")

    with pytest.warns(RuntimeWarning, match="boom"):
        data = build_report_data(ws, lang="en", builders=[("cac", broken)])
    assert data.unavailable[0].reason == "could not be computed: ZeroDivisionError: boom"
    with pytest.raises(ZeroDivisionError):
        build_report_data(ws, lang="en", builders=[("cac", broken)], strict=True)


def test_read_only_settings_compute_nothing(tmp_path, make_shop):
    ws, _ = make_shop(tmp_path / "ro.duckdb", customers=150, seed=5)
    from ltvkit.reports.sections import predictive, recommend

    data = build_report_data(ws, lang="en", compute_missing=False, strict=True,
                             builders=[("predictive", predictive.build), ("recommend", recommend.build)])
    assert [u.key for u in data.unavailable] == ["predictive", "recommend"]
    assert "ltv predict" in data.unavailable[0].reason and "ltv recommend" in data.unavailable[1].reason
    assert not ws.has_result("predictions") and not ws.has_result("recommendations")
    ws.close()


def test_empty_workspace_is_one_clear_error(tmp_path):
    with pytest.raises(MissingDataError, match="holds no orders"):
        build_report(Workspace(), out=tmp_path / "r.html")


def test_unknown_language_is_rejected(shop_ws):
    from ltvkit import InputError

    with pytest.raises(InputError, match="use ja or en"):
        build_report_data(shop_ws[0], lang="fr")


def _tiny_shop() -> Workspace:
    import datetime as dt

    import pandas as pd

    rows = []
    for c in range(6):
        for k in range(c % 3 + 1):
            rows.append(dict(source="rakuten", order_id=f"o{c}-{k}", line_no=1, customer_key=f"c{c}",
                             ordered_at=dt.datetime(2025, 1, 1 + c + 3 * k, 10), sku=f"s{k}", product_name=f"p{k}",
                             category="cat", quantity=1, unit_price=1000, line_amount=1000, shop_coupon=0,
                             mall_coupon=0, points_used=0, shipping_fee=0, status="ordered"))
    ws = Workspace()
    ws.append_order_lines(pd.DataFrame(rows))
    return ws


def test_a_tiny_shop_still_gets_a_report():
    ws = _tiny_shop()
    data = build_report_data(ws, lang="ja", strict=True)
    keys = [s.key for s in data.sections] + [u.key for u in data.unavailable]
    assert sorted(keys) == sorted(EXPECTED_SECTIONS + MEASURED_ONLY)
    kpis = {k.key: k.value for k in data.section("kpi").kpis}
    assert kpis["customers"] == 6 and kpis["orders"] == 12 and kpis["aov"] == 1000
    assert all(u.reason and "\n" not in u.reason for u in data.unavailable)
    assert "<!DOCTYPE html>" in data.to_html()


def test_settings_choose_the_language_and_the_rows_shown(tmp_path):
    ws = _tiny_shop()
    paths = build_report(ws, settings=ReportSettings(lang="en", max_table_rows=2), out=tmp_path / "r.html")
    html = paths.html.read_text(encoding="utf-8")
    assert paths.data.lang == "en" and paths.xlsx is None
    rfm = next(tb for tb in paths.data.tables() if tb.key == "rfm_segments")
    assert len(rfm.frame) > 2
    assert f"Showing 2 of {len(rfm.frame)} rows; the Excel file has them all." in html


def test_the_report_builds_within_its_engine_memory_limit(shop_ws, monkeypatch):
    """LTV_REPORT_MEMORY caps DuckDB while the sections run (the shared order tables spill beyond it: at 5,000,000
    customers the peak fell from 8.3 to 1.8 GB), and the previous cap is given back afterwards; a value that is
    not a memory size is one clear error naming the setting."""
    ws = shop_ws[0]

    def limit() -> str:
        return str(ws.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])

    seen = []

    def probe(w, settings):
        seen.append(limit())

    before = limit()
    monkeypatch.setenv("LTV_REPORT_MEMORY", "300MB")
    build_report_data(ws, lang="en", builders=[("probe", probe)])
    assert seen and seen[0].startswith("286.1") and seen[0] != before  # 300 MB in MiB
    assert limit() == before
    monkeypatch.setenv("LTV_REPORT_MEMORY", "lots")
    with pytest.raises(InputError, match="LTV_REPORT_MEMORY='lots' is not a memory size") as caught:
        build_report_data(ws, lang="en", builders=[("probe", probe)])
    assert "LTV_REPORT_MEMORY='lots' はメモリの大きさではありません" in caught.value.localized("ja")
    assert limit() == before and len(seen) == 1

from __future__ import annotations

import openpyxl
import pytest

from ltvkit.cli import main
from ltvkit.reports import sections


@pytest.fixture
def few_sections(monkeypatch):
    """The CLI is a shell: test it with a few sections (every section is tested on the library side)."""
    monkeypatch.setattr(sections, "BUILDERS", (("kpi", sections.kpi.build), ("cac", sections.cac.build),
                                               ("predictive", sections.predictive.build),
                                               ("recommend", sections.recommend.build)))


def test_ltv_report_writes_html_and_excel(tmp_path, make_shop, capsys, few_sections):
    ws, costs = make_shop(tmp_path / "w.duckdb", customers=150, seed=7)
    ws.close()
    costs_file = tmp_path / "costs.csv"
    costs.to_csv(costs_file, index=False)
    html, xlsx = tmp_path / "out" / "r.html", tmp_path / "out" / "r.xlsx"
    rc = main(["report", "--workspace", str(tmp_path / "w.duckdb"), "--lang", "en", "--out", str(html),
               "--xlsx", str(xlsx), "--costs", str(costs_file)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert f"Wrote {html}" in out and f"Wrote {xlsx}" in out and "4 sections" in out
    text = html.read_text(encoding="utf-8")
    assert '<html lang="en">' in text and "Customer lifetime value report" in text
    assert "LTV/CAC" in text
    assert openpyxl.load_workbook(xlsx).sheetnames[0] == "Summary"


def test_ltv_report_read_only_lists_what_is_missing(tmp_path, make_shop, capsys, few_sections):
    ws, _ = make_shop(tmp_path / "w.duckdb", customers=120, seed=8)
    ws.close()
    html = tmp_path / "r.html"
    rc = main(["report", "--workspace", str(tmp_path / "w.duckdb"), "--lang", "ja", "--out", str(html), "--read-only"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "ltv predict" in out and "ltv recommend" in out
    assert "まだ利用できない分析" in html.read_text(encoding="utf-8")


def test_ltv_report_errors_are_one_sentence(tmp_path, capsys):
    rc = main(["--lang", "en", "report", "--workspace", str(tmp_path / "none.duckdb")])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("Error: No workspace at") and "Traceback" not in err
    from ltvkit import Workspace

    Workspace(tmp_path / "empty.duckdb").close()
    rc = main(["--lang", "en", "report", "--workspace", str(tmp_path / "empty.duckdb"), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert rc == 1 and err.strip() == ("Error: The workspace holds no orders yet; import an export with "
                                       "`ltv import FILE` or run `ltv demo`.")
    rc = main(["--lang", "en", "report", "--workspace", str(tmp_path / "empty.duckdb"), "--lang", "fr"])
    assert rc == 1 and capsys.readouterr().err.strip() == "Error: Unknown language 'fr'; use --lang ja or --lang en."


def test_ltv_report_takes_the_margin_settings(tmp_path, make_shop, capsys, monkeypatch):
    monkeypatch.setattr(sections, "BUILDERS", (("kpi", sections.kpi.build),))
    ws, _ = make_shop(tmp_path / "w.duckdb", customers=120, seed=9)
    ws.close()
    config = tmp_path / "margin.yaml"
    config.write_text("cost_rate: 0.9\n", encoding="utf-8")
    from ltvkit import Workspace

    for args in ([], ["--margin-config", str(config)]):
        assert main(["report", "-w", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "r.html"), *args]) == 0
    capsys.readouterr()
    with Workspace(tmp_path / "w.duckdb", read_only=True) as w:
        costs = sorted(r.params["margin"].get("cost_rate", 0.4) if isinstance(r.params.get("margin"), dict) else 0.4
                       for r in w.runs(kind="summary"))
    assert 0.9 in costs  # the report's KPIs were computed under --margin-config

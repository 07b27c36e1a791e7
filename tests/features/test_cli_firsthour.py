"""The first hour of a Japanese CRM manager at the terminal: yen, %, months, ✓/—, 80 columns, CSV for Excel,
one meaning per flag, ``ltv cac`` without costs."""

import json
import unicodedata

import pandas as pd
import pytest

from ltvkit.cli import main
from ltvkit.cli._common import console
from ltvkit.i18n import column_kind


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def cells(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.fixture
def narrow(monkeypatch):
    monkeypatch.setattr(console, "_width", 80)


def test_column_kinds_from_names():
    assert column_kind("margin_share") == "pct" and column_kind("f2_rate") == "pct"
    assert column_kind("revenue") == "yen" and column_kind("cum_margin_per_customer") == "yen"
    assert column_kind("ltv_cac") == "ratio" and column_kind("mean_orders") is None


def test_summary_reads_in_yen_and_percent_with_whom_customers_count(shop_file, capsys, narrow):
    code, out, _ = run(capsys, "summary", "-w", str(shop_file), "--lang", "ja")
    assert code == 0
    assert "17,000円" in out and "%" in out and "顧客数（基準日までに購入）" in out
    assert "ltv info は取り込んだ全顧客" in out and "貢献利益" not in out
    assert all(cells(line) <= 80 for line in out.splitlines() if line.startswith(("┌", "│", "└")))


def test_f2_table_fits_80_columns_with_months_percent_and_checks(shop_file, capsys, narrow):
    code, out, _ = run(capsys, "f2", "-w", str(shop_file), "--windows", "30,60")
    assert code == 0
    table = [line for line in out.splitlines() if line[:1] in "┏┃┡│└"]
    assert table and all(cells(line) <= 80 for line in table)
    assert "2024年1月" in out and "T00:00:00" not in out and "True" not in out
    assert "%" in out and "…" not in "".join(table)
    assert "--wide" in out  # the columns left out are named
    code, wide, _ = run(capsys, "f2", "-w", str(shop_file), "--windows", "30,60", "--wide")
    assert code == 0 and "確定" in wide and "✓" in wide and "--wide で表示" not in wide


def test_pareto_is_sorted_and_labelled(shop_file, capsys):
    code, out, _ = run(capsys, "segments", "-w", str(shop_file), "--pareto", "--json")
    rows = json.loads(out)
    shares = [r["top_share"] for r in rows]
    assert code == 0 and shares == sorted(shares)
    assert {r["row"] for r in rows} >= {"top", "margin_80"}
    code, out, _ = run(capsys, "segments", "-w", str(shop_file), "--pareto")
    assert "粗利の80%" in out and "%" in out


def test_csv_files_for_people_have_a_bom_and_stdout_csv_stays_plain(shop_file, capsys, tmp_path):
    target = tmp_path / "seg.csv"
    assert run(capsys, "segments", "-w", str(shop_file), "--kind", "cpm", "--out", str(target))[0] == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    sjis = tmp_path / "seg_sjis.csv"
    assert run(capsys, "--encoding", "cp932", "segments", "-w", str(shop_file), "--kind", "cpm",
               "--out", str(sjis))[0] == 0
    assert not sjis.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "初回" in "".join(pd.read_csv(sjis, encoding="cp932")["segment"])
    code, out, _ = run(capsys, "segments", "-w", str(shop_file), "--kind", "cpm", "--csv")
    assert code == 0 and out.startswith("segment,")
    code, _, err = run(capsys, "--lang", "en", "--encoding", "latin9", "info", "-w", str(shop_file))
    assert code == 1 and "latin9" in err


def test_one_meaning_per_flag_name():
    import typer.main

    from ltvkit.cli._app import app
    from ltvkit.cli._docs import leaf_commands

    meaning: dict[str, set[str]] = {}
    for name, command in leaf_commands(typer.main.get_command(app)):
        opts = {o: (p.help or "") for p in command.params for o in p.opts}
        for flag in ("--customers", "--window-days"):
            if flag in opts:
                meaning.setdefault(flag, set()).add(name)
        for flag in ("--json", "--csv", "--out", "--lang"):
            if name in ("info", "import", "validate", "summary", "segments", "predict"):
                assert flag in opts, (name, flag)
    # --window-days now means one thing only: the measurement window of `ltv crm results` (issue 15's name)
    assert meaning.get("--customers", set()) <= {"demo"} and meaning.get("--window-days", set()) <= {"crm results"}


def test_help_shows_flags_without_a_type(capsys):
    assert main(["summary", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--json" in out and "<bool>" not in out


def test_cac_without_costs_shows_breakeven_only(shop_file, capsys):
    code, out, _ = run(capsys, "cac", "-w", str(shop_file), "--lang", "ja")
    assert code == 0 and "限界CPA" in out and "--costs" in out and "--profit-goal" in out
    code, out, _ = run(capsys, "cac", "-w", str(shop_file), "--json")
    rows = json.loads(out)
    assert code == 0 and {r["channel"] for r in rows} >= {"ads"}
    assert all("target_cpa" not in r and "cac" not in r for r in rows)


def test_cac_unknown_channel_lists_the_known_ones(shop_file, capsys, tmp_path):
    costs = tmp_path / "costs.csv"
    costs.write_text("channel,spend\nrpp,1000\nads,2000\n", encoding="utf-8")
    code, _, err = run(capsys, "--lang", "en", "cac", "-w", str(shop_file), "--costs", str(costs))
    assert code == 1 and "rpp" in err and "ads" in err and "search" in err


def test_target_cpa_needs_a_profit_goal(shop_file, capsys, tmp_path):
    costs = tmp_path / "costs.yaml"
    costs.write_text("- {channel: ads, spend: 2000}\n", encoding="utf-8")
    _, out, _ = run(capsys, "cac", "-w", str(shop_file), "--costs", str(costs), "--json")
    assert "target_cpa" not in json.loads(out)[0]
    _, out, _ = run(capsys, "cac", "-w", str(shop_file), "--costs", str(costs), "--profit-goal", "0.5", "--json")
    row = json.loads(out)[0]
    assert row["target_cpa"] == pytest.approx(row["breakeven_cpa"] / 2)


def test_info_and_import_write_csv_and_files(shop_file, capsys, tmp_path):
    code, out, _ = run(capsys, "info", "-w", str(shop_file), "--csv")
    assert code == 0 and out.startswith("name,value") and "customers" in out
    target = tmp_path / "info.xlsx"
    assert run(capsys, "info", "-w", str(shop_file), "--out", str(target))[0] == 0 and target.exists()
    code, out, _ = run(capsys, "info", "-w", str(shop_file))
    assert "取り込んだ顧客数（全員）" in out


def test_cpm_shows_all_ten_segments(shop_file, capsys):
    code, out, _ = run(capsys, "segments", "-w", str(shop_file), "--kind", "cpm", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 10 and sum(r["customers"] for r in rows) == 3
    assert any(r["customers"] == 0 for r in rows)


def test_point_and_rfm_segments_have_distinct_names():
    from ltvkit.i18n import label

    assert label("loyal", "ja") != label("Loyal", "ja")


def test_at_risk_lists_only_plausibly_alive_customers_by_value_at_stake(make_ws):
    import datetime as dt

    import ibis

    from ltvkit.features import at_risk_customers

    rows = []
    for c, amount, last in [("gone", 90_000, "2023-01-10"), ("rich", 50_000, "2025-01-10"),
                            ("mid", 40_000, "2025-02-10"), ("safe", 30_000, "2025-02-20"),
                            ("small", 100, "2025-02-01"), ("small2", 100, "2025-02-01")]:
        rows += [{"c": c, "at": "2022-12-01 10:00", "amount": amount}, {"c": c, "at": f"{last} 10:00", "amount": 10}]
    ws = make_ws(rows)
    scores = ibis.memtable(pd.DataFrame({
        "customer_key": ["gone", "rich", "mid", "safe", "small", "small2"],
        "p_alive": [0.0, 0.3, 0.7, 0.95, 0.5, 0.5]}))
    got = at_risk_customers(ws.orders(), scores, dt.date(2025, 3, 1), valuable_share=0.7).to_pandas()
    listed = list(got["customer_key"])
    # gone (P(alive) 0, last order 2 years ago) and safe (P(alive) 0.95) are left out; mid outranks rich:
    # 0.7 × 40,010 = 28,007 > 0.3 × 50,010 = 15,003
    assert listed == ["mid", "rich"]
    assert got["value_at_stake"].iloc[0] == pytest.approx(0.7 * 40_010)

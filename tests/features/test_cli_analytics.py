import json

import pandas as pd
import pytest

from ltvkit import Workspace
from ltvkit.cli import main
from ltvkit.cli._common import console


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(console, "_width", 250)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_json(shop_file, capsys):
    code, out, _ = run(capsys, "summary", "-w", str(shop_file), "--as-of", "2025-03-01", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["customers"] == 3 and data["orders"] == 6 and data["revenue"] == 17_000
    code, out, _ = run(capsys, "summary", "-w", str(shop_file), "--lang", "en")
    assert code == 0 and "average order value" in out


def test_cohorts_csv_table_and_out(shop_file, capsys, tmp_path):
    code, out, _ = run(capsys, "cohorts", "-w", str(shop_file), "--csv", "--metric", "orders")
    assert code == 0
    header = out.splitlines()[0].split(",")
    assert header[:4] == ["cohort", "cohort_size", "30", "60"] and "margin_ltv_12m" in header
    code, out, _ = run(capsys, "cohorts", "-w", str(shop_file), "--split", "campaign", "--by", "week")
    assert code == 0 and "キャンペーン" in out and "★粗利LTV 12か月" in out
    target = tmp_path / "c.parquet"
    assert run(capsys, "cohorts", "-w", str(shop_file), "--long", "--out", str(target))[0] == 0
    assert set(pd.read_parquet(target).columns) >= {"cohort", "period", "retention", "cum_margin_per_customer"}
    with Workspace(shop_file, read_only=True) as ws:
        assert ws.has_result("cohorts")


def test_f2_and_golden(shop_file, capsys):
    code, out, _ = run(capsys, "f2", "-w", str(shop_file), "--windows", "30,60", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["window_days"] for r in rows} == {30, 60}
    code, out, _ = run(capsys, "f2", "-w", str(shop_file), "--golden", "--min-at-risk", "1", "--json")
    assert code == 0 and json.loads(out)["golden"][0]["first_category"] == "food"


def test_segments_and_points_store_per_customer_tables(shop_file, capsys, tmp_path):
    code, out, _ = run(capsys, "segments", "-w", str(shop_file), "--json")
    assert code == 0 and {r["segment"] for r in json.loads(out)} >= {"Prospects"}
    target = tmp_path / "cust.csv"
    code, out, _ = run(capsys, "segments", "-w", str(shop_file), "--kind", "cpm", "--lang", "en",
                       "--customers-out", str(target))
    assert code == 0 and "lapsed" in out
    assert "customer_key" in pd.read_csv(target).columns
    code, out, _ = run(capsys, "points", "-w", str(shop_file), "--csv")
    assert code == 0 and out.startswith("point_segment,")
    code, out, _ = run(capsys, "points", "-w", str(shop_file), "--compare", "--json")
    assert code == 0 and {r["group"] for r in json.loads(out)} == {"organic", "point_acquired"}
    with Workspace(shop_file, read_only=True) as ws:
        stored = ws.read_result("point_dependence").to_pandas()
        assert set(stored.customer_key) == {"a", "b", "c"}
        assert stored.point_dependence_score.between(0, 1).all()
        assert ws.has_result("segments_rfm") and ws.has_result("segments_cpm")


def test_cac_command(shop_file, capsys, tmp_path):
    costs = tmp_path / "costs.yaml"
    costs.write_text("- {channel: ads, spend: 2000}\n- {channel: search, cac: 400}\n", encoding="utf-8")
    code, out, _ = run(capsys, "cac", "-w", str(shop_file), "--costs", str(costs), "--ltv-window-days", "180",
                       "--json")
    rows = {r["channel"]: r for r in json.loads(out)}
    assert code == 0 and rows["ads"]["cac"] == 1000 and rows["search"]["cac"] == 400


def test_user_mistakes_are_one_sentence(shop_file, capsys, tmp_path):
    for args, needle in [
        (["cohorts", "--metric", "height"], "Unknown cohort metric"),
        (["cohorts", "--split", "colour"], "Unknown cohort split"),
        (["segments", "--kind", "abc"], "Unknown segment kind"),
        (["f2", "--windows", "a,b"], "--windows"),
        (["summary", "--as-of", "yesterday"], "is not a date"),
        (["summary", "--lang", "fr"], "Unknown language"),
        (["cac", "--costs", str(tmp_path / "none.csv")], "No costs file"),
    ]:
        code, _, err = run(capsys, "--lang", "en", *args, "-w", str(shop_file))
        assert code == 1, args
        assert err.startswith("Error: ") and needle in err and "Traceback" not in err
    code, _, err = run(capsys, "--lang", "en", "summary", "-w", str(tmp_path / "nowhere.duckdb"))
    assert code == 1 and "No workspace" in err

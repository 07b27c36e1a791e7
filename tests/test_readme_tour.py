"""The README's tour runs verbatim, line by line, in an empty folder (on a small demo shop)."""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

import pandas as pd
import pytest

from ltvkit import Workspace
from ltvkit.cli import main
from ltvkit.i18n import t

ROOT = Path(__file__).resolve().parents[1]
TOUR_CUSTOMERS = 300


def tour_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A tour", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def test_the_tour_block_is_what_the_test_runs():
    lines = tour_lines()
    assert lines[0].startswith("ltv demo ") and "--customers 20000" in lines[0]
    assert lines[1].startswith("export LTV_WORKSPACE=")
    assert all(line.startswith("ltv ") for line in lines[2:]), "the tour has only ltv commands after the export"
    words = {shlex.split(line, comments=True)[1] for line in lines if line.startswith("ltv ")}
    assert {"demo", "info", "import", "products", "summary", "cohorts", "f2", "report"} <= words


@pytest.mark.slow
def test_the_readme_tour_runs_verbatim(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LTV_WORKSPACE", raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    started = time.perf_counter()
    for line in tour_lines():
        args = shlex.split(line, comments=True)
        if args[0] == "export":
            name, _, value = args[1].partition("=")
            monkeypatch.setenv(name, value)
            continue
        assert args[0] == "ltv", line
        argv = args[1:]
        if argv[0] == "demo":  # the one change: a small shop, so that the test stays quick
            argv[argv.index("--customers") + 1] = str(TOUR_CUSTOMERS)
        status = main(argv)
        out, err = capsys.readouterr()
        assert status == 0, f"`{line}` exited {status}:\n{err}{out}"
        assert out.strip() or err.strip(), f"`{line}` printed nothing"
        assert "Traceback" not in out + err
        if argv[:2] == ["f2", "--golden"]:  # the demo's catalogue categories reach the first-category analyses
            assert re.search(r"食品|日用品|ギフト", out), f"`{line}` shows no category:\n{out}"
    assert (tmp_path / "ltv-demo" / "ltv.duckdb").exists()
    assert (tmp_path / "predictions.parquet").exists() and (tmp_path / "recs.csv").exists()
    sheets = pd.read_excel(tmp_path / "report.xlsx", sheet_name=None)
    label = t("report.recommend.category", "ja")
    shown = [frame[label] for frame in sheets.values() if label in frame.columns]
    assert shown and all(col.notna().any() for col in shown), "the report's カテゴリ column is empty"
    with Workspace(tmp_path / "ltv-demo" / "ltv.duckdb", read_only=True) as ws:
        # the run of `ltv cohorts --split first_category` (the report stores its own monthly run after it)
        run = next(r for r in ws.runs(kind="cohorts")
                   if r.result == "result_cohorts" and r.params.get("split") == "first_category")
        cohorts = ws.read_result("cohorts", run_id=run.run_id).to_pandas()
    split = cohorts[[c for c in cohorts.columns if c in ("split", "segment", "first_category")][0]]
    assert split.notna().all() and not split.isin(["(none)", ""]).any()
    assert {"スキンケア", "食品"} <= set(split)
    print(f"tour: {time.perf_counter() - started:.0f} s")


def test_after_the_demo_a_missing_default_workspace_points_to_the_demos(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LTV_WORKSPACE", raising=False)
    assert main(["info", "--lang", "en"]) == 1
    assert "export LTV_WORKSPACE" not in capsys.readouterr().err  # no demo here: the plain sentence
    (tmp_path / "ltv-demo").mkdir()
    Workspace(tmp_path / "ltv-demo" / "ltv.duckdb").close()
    assert main(["info", "--lang", "en"]) == 1
    assert "export LTV_WORKSPACE=ltv-demo/ltv.duckdb" in capsys.readouterr().err

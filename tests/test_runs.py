"""Runs: every stored result belongs to a run; a plain read sees the newest; old runs can be pruned."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from ltvkit import InputError, MissingDataError, StoreError, Workspace, __version__
from ltvkit.cli import main
from ltvkit.store import applied_migrations


def _frame(values):
    return pd.DataFrame({"customer_key": [f"c{i}" for i in range(len(values))], "score": values})


def test_each_write_is_a_run_and_a_plain_read_sees_the_newest():
    ws = Workspace()
    ws.write_result("scores", _frame([0.1]), kind="test", as_of=dt.date(2025, 1, 31), params={"k": 1})
    ws.write_result("scores", _frame([0.2, 0.3]), kind="test", as_of=dt.date(2025, 2, 28), params={"k": 2})
    assert ws.read_result("scores").to_pandas()["score"].tolist() == [0.2, 0.3]
    latest = ws.result_run("scores")
    assert (latest.kind, latest.as_of, latest.params, latest.row_count) == ("test", dt.date(2025, 2, 28), {"k": 2}, 2)
    assert latest.code_version == __version__
    first = ws.result_run("scores", as_of=dt.date(2025, 1, 31))
    assert first.run_id < latest.run_id
    # a message planned from the first run can still read exactly those scores
    assert ws.read_result("scores", run_id=first.run_id).to_pandas()["score"].tolist() == [0.1]
    assert ws.result_run("scores", params={"k": 1}).run_id == first.run_id
    assert ws.result_run("scores", params={"k": 3}) is None
    with pytest.raises(MissingDataError, match="stored no result_scores"):
        ws.read_result("scores", run_id=999)


def test_one_run_can_store_several_results():
    ws = Workspace()
    run_id = ws.start_run("validation", as_of=dt.date(2025, 1, 1), details={"chosen": "pnbd"})
    ws.write_result("tracking", _frame([1.0]), run_id=run_id)
    ws.write_result("model_comparison", _frame([2.0]), run_id=run_id)
    runs = ws.runs(kind="validation")
    assert {r.result for r in runs} == {"result_tracking", "result_model_comparison"}
    assert {r.run_id for r in runs} == {run_id} and runs[0].details == {"chosen": "pnbd"}


def test_prune_keeps_the_newest_runs_of_each_result():
    ws = Workspace()
    for i in range(4):
        ws.write_result("a", _frame([float(i)]), kind="a")
    ws.write_result("b", _frame([9.0]), kind="b")  # older runs of a do not push b out
    gone = ws.prune_runs(2)
    assert len(gone) == 2
    assert [r.result for r in ws.runs()] == ["result_b", "result_a", "result_a"]
    assert ws.read_result("a").to_pandas()["score"].tolist() == [3.0]
    assert ws.read_result("b").to_pandas()["score"].tolist() == [9.0]
    assert not [t for t in ws.table_names() if t.endswith(tuple(f"__run_{g}" for g in gone))]
    with pytest.raises(InputError, match="at least 1"):
        ws.prune_runs(0)


def test_a_read_only_workspace_stores_nothing(tmp_path):
    Workspace(tmp_path / "w.duckdb").close()
    with Workspace(tmp_path / "w.duckdb", read_only=True) as ws, pytest.raises(StoreError, match="read-only"):
        ws.write_result("x", _frame([1.0]))


def test_results_written_before_runs_become_runs(tmp_path):
    """A workspace of migrations m001-m002 (result tables + result_log) opens with one run per result."""
    path = tmp_path / "old.duckdb"
    Workspace(path).close()
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM schema_migrations WHERE name = 'm003_runs'")
    for name in ("run_results", "runs"):
        con.execute(f"DROP VIEW IF EXISTS result_log; DROP TABLE {name}")
    con.execute("DROP SEQUENCE run_id_seq")
    con.execute("CREATE TABLE result_log (table_name VARCHAR PRIMARY KEY, kind VARCHAR, as_of DATE, params VARCHAR, "
                "created_at TIMESTAMP NOT NULL, row_count BIGINT)")
    con.execute("CREATE TABLE result_predictions AS SELECT 'c1' AS customer_key, 0.5 AS p_alive")
    con.execute("INSERT INTO result_log VALUES ('result_predictions', 'predictions', DATE '2025-12-31', "
                "'{\"model\": \"pnbd\"}', TIMESTAMP '2026-01-01 10:00:00', 1)")
    con.close()
    with Workspace(path, read_only=True) as old, pytest.raises(StoreError, match="older ltvkit"):
        old.runs()
    ws = Workspace(path)
    assert applied_migrations(ws.con)[-1] == "m003_runs"
    run = ws.result_run("predictions")
    assert (run.kind, run.as_of, run.params, run.code_version) == (
        "predictions", dt.date(2025, 12, 31), {"model": "pnbd"}, "before-runs")
    assert ws.read_result("predictions").to_pandas()["p_alive"].tolist() == [0.5]
    assert ws.con.execute("SELECT table_name, run_id FROM result_log").fetchall() == [
        ("result_predictions", run.run_id)]


def test_ltv_runs_list_and_prune(tmp_path, capsys):
    path = tmp_path / "w.duckdb"
    with Workspace(path) as ws:
        for i in range(3):
            ws.write_result("scores", _frame([float(i)]), kind="test", params={"i": i})
    assert main(["runs", "list", "--workspace", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["runs"]
    assert [(r["run_id"], r["result"], r["params"]) for r in rows] == [
        (3, "result_scores", {"i": 2}), (2, "result_scores", {"i": 1}), (1, "result_scores", {"i": 0})]
    assert main(["runs", "prune", "--keep", "1", "--workspace", str(path), "--lang", "en"]) == 0
    assert "Removed 2 run(s): 1, 2." in capsys.readouterr().out
    assert main(["runs", "list", "--workspace", str(path), "--kind", "test"]) == 0
    printed = capsys.readouterr().out
    assert "scores" in printed and "i=2" in printed and "i=1" not in printed
    assert main(["runs", "prune", "--keep", "0", "--workspace", str(path)]) == 1
    assert capsys.readouterr().err.startswith("エラー: --keep は1以上")

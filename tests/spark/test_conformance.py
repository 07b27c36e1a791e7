"""Every analytics command gives the same --json under --engine spark (PySpark local[2]) as under DuckDB.

Integers compare exactly, floats to 1e-9 relative, rows in any order; only the seconds a fit took may differ.
Each engine writes its runs to its own copy of the demo workspace, the commands in the same order, so the run
ids must agree too.
"""

from __future__ import annotations

import json

import pytest

from ltvkit.cli import main
from ltvkit.testing.conformance import assert_same_json as assert_same
from ltvkit.testing.conformance import normalise_json as _normal

pytestmark = pytest.mark.spark

COMMANDS = {
    "summary": ["summary"],
    "cohorts": ["cohorts"],
    "cohorts-campaign-months": ["cohorts", "--split", "campaign", "--period", "months", "--long"],
    "f2": ["f2"],
    "f2-golden": ["f2", "--golden"],
    "segments": ["segments"],
    "segments-cpm": ["segments", "--kind", "cpm"],
    "segments-pareto": ["segments", "--pareto"],
    "points": ["points"],
    "points-compare": ["points", "--compare"],
    "cac": ["cac", "--costs", "{costs}", "--profit-goal", "0.3"],
    "predict": ["predict"],
    "recommend": ["recommend", "--k", "3"],
}


def _run(capsys, args):
    capsys.readouterr()
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_json_is_the_same_on_spark(name, capsys, spark_env, demo_shop, engine_workspaces):
    args = [a.format(costs=demo_shop["costs"]) for a in COMMANDS[name]]
    duck = _run(capsys, [*args, "--workspace", str(engine_workspaces["duckdb"]), "--json"])
    spark = _run(capsys, [*args, "--workspace", str(engine_workspaces["spark"]), "--json", "--engine", "spark"])
    assert duck, "the command printed nothing to compare"
    assert_same(_normal(duck), _normal(spark))


def test_report_data_is_the_same_on_spark(spark_env, demo_shop, tmp_path):
    """`ltv report` has no --json: the report's data (every section's tables and figures) is compared instead, each
    engine on a fresh copy of the demo workspace so that every section is computed, not read from a stored run."""
    import shutil

    from ltvkit import Workspace
    from ltvkit.reports import build_report

    got = {}
    for engine in ("duckdb", "spark"):
        path = tmp_path / f"{engine}.duckdb"
        shutil.copyfile(demo_shop["workspace"], path)
        with Workspace(path) as ws:
            ws.use_engine(engine, master="local[2]")
            data = build_report(ws, out=tmp_path / f"{engine}.html", lang="en").data
            got[engine] = json.loads(json.dumps(data.to_dict(), default=str))
            got[engine].pop("generated_at")
    assert len(got["duckdb"]["sections"]) >= 5
    assert_same(_normal(got["duckdb"]), _normal(got["spark"]))


def test_spark_writes_the_scores_duckdb_writes(spark_env, demo_shop, tmp_path, capsys):
    """`predict --scores-parquet`: Spark writes the per-customer scores itself; they equal DuckDB's."""
    import shutil

    import pyarrow.dataset as ds

    frames = {}
    for engine in ("duckdb", "spark"):
        path = tmp_path / f"{engine}.duckdb"
        shutil.copyfile(demo_shop["workspace"], path)
        _run(capsys, ["predict", "--workspace", str(path), "--json", "--engine", engine,
                      "--scores-parquet", str(tmp_path / f"scores-{engine}")])
        rows = ds.dataset(tmp_path / f"scores-{engine}").to_table().to_pylist()
        frames[engine] = json.loads(json.dumps(rows, default=str))  # dates as text, as --json writes them
    assert len(frames["duckdb"]) > 200
    assert_same(_normal(frames["duckdb"]), _normal(frames["spark"]))

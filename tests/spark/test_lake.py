"""Spark reads a folder of Parquet parts written by `ltv import --out-parquet` (no workspace import needed) and
gives what DuckDB gives on a workspace that imported the same export."""

from __future__ import annotations

import json

import pytest

from ltvkit.cli import main
from ltvkit.testing.conformance import assert_same_json, normalise_json

pytestmark = pytest.mark.spark


def test_spark_on_imported_parquet_parts_equals_duckdb_on_the_workspace(capsys, spark_env, demo_shop, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("LTV_IDENTITY_SECRET", "the shop's shared secret")
    export = next((demo_shop["root"] / "exports").glob("*.csv"))
    lake, ws = tmp_path / "lake", tmp_path / "ltv.duckdb"
    assert main(["import", str(export), "--out-parquet", str(lake)]) == 0
    assert main(["import", str(export), "--workspace", str(ws)]) == 0
    assert not any(lake.rglob("*.duckdb"))
    capsys.readouterr()
    def _run(args):
        assert main(args) == 0
        return json.loads(capsys.readouterr().out)

    for args in (["summary"], ["segments", "--kind", "cpm"], ["f2"]):
        duck = _run([*args, "--workspace", str(ws), "--json"])
        monkeypatch.setenv("LTV_SPARK_DATA", str(lake))
        spark = _run([*args, "--workspace", str(ws), "--json", "--engine", "spark"])
        monkeypatch.delenv("LTV_SPARK_DATA")
        assert duck
        assert_same_json(normalise_json(duck), normalise_json(spark))


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_engine_table_reads_chunks_one_at_a_time_and_a_failing_chunk_raises_its_own_error(engine, spark_env,
                                                                                       demo_shop, tmp_path):
    """What the scoring path hands the engine (the scores of the distinct rows, a chunk at a time): every
    chunk's rows arrive, in order; an error while making a chunk is raised as itself; the driver's files go
    when the workspace closes."""
    import shutil

    import pyarrow as pa

    from ltvkit import Workspace

    path = tmp_path / "ltv.duckdb"
    shutil.copyfile(demo_shop["workspace"], path)
    made = []

    def chunks(fail_at=None):
        for i in range(3):
            if i == fail_at:
                raise ValueError("chunk 1 could not be made")
            made.append(i)
            yield pa.table({"i": pa.array([i * 10 + j for j in range(4)], pa.int64()), "x": [0.5 * i] * 4})

    ws = Workspace(path)
    ws.use_engine(engine, master="local[2]")
    t = ws.engine_table("_chunks", chunks())
    got = t.to_pyarrow().to_pandas().sort_values("i")
    assert got["i"].tolist() == [i * 10 + j for i in range(3) for j in range(4)]
    assert got["x"].tolist() == [0.0] * 4 + [0.5] * 4 + [1.0] * 4
    with pytest.raises(ValueError, match="chunk 1 could not be made"):
        ws.engine_table("_chunks_bad", chunks(fail_at=1))
    scratch = ws._scratch_dir
    assert (scratch is not None) == (engine == "spark")
    ws.close()
    assert scratch is None or not scratch.exists()

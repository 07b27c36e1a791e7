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

"""--engine and LTV_ENGINE choose the engine of the analytics commands (no Spark session needed here)."""

from __future__ import annotations

import pytest

from ltvkit import Workspace
from ltvkit.cli import main
from ltvkit.store import parse_spark_conf
from ltvkit.synth import generate_shop

COMMANDS = ["summary", "cohorts", "f2", "segments", "points", "cac", "predict", "recommend", "report"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    path = tmp_path_factory.mktemp("engine") / "ltv.duckdb"
    with Workspace(path) as ws:
        ws.append_order_lines(generate_shop(customers=60, seed=2).order_lines)
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_every_analytics_command_takes_engine(command, shop, capsys):
    assert main([command, "--workspace", str(shop), "--engine", "bogus", "--lang", "en"]) == 1
    assert "Unknown engine 'bogus'; choose one of duckdb, spark." in capsys.readouterr().err


def test_ltv_engine_reaches_the_spark_path(shop, capsys, monkeypatch, tmp_path):
    """LTV_ENGINE=spark with LTV_SPARK_DATA at a folder without order lines stops at that folder, before any
    Spark session starts: the environment chose the engine."""
    monkeypatch.setenv("LTV_ENGINE", "spark")
    monkeypatch.setenv("LTV_SPARK_DATA", str(tmp_path))
    assert main(["summary", "--workspace", str(shop), "--lang", "en"]) == 1
    assert f"{tmp_path} has no order_lines folder" in capsys.readouterr().err
    monkeypatch.setenv("LTV_ENGINE", "duckdb")
    assert main(["summary", "--workspace", str(shop), "--json"]) == 0


def test_ltv_engine_is_checked(shop, capsys, monkeypatch):
    monkeypatch.setenv("LTV_ENGINE", "oracle")
    assert main(["summary", "--workspace", str(shop), "--lang", "en"]) == 1
    assert "oracle" in capsys.readouterr().err


def test_spark_conf_pairs():
    assert parse_spark_conf("spark.driver.memory=8g; spark.sql.shuffle.partitions = 200;") == {
        "spark.driver.memory": "8g", "spark.sql.shuffle.partitions": "200"}
    assert parse_spark_conf("") == {}
    with pytest.raises(ValueError, match="key=value"):
        parse_spark_conf("spark.driver.memory")


def test_scores_parquet_holds_the_scores_predict_stores(shop, tmp_path, capsys):
    import json
    import shutil

    import pyarrow.dataset as ds

    stored, lake = tmp_path / "stored.duckdb", tmp_path / "lake.duckdb"
    for p in (stored, lake):
        shutil.copyfile(shop, p)
    assert main(["predict", "--workspace", str(stored), "--json"]) == 0
    want = json.loads(capsys.readouterr().out)
    assert main(["predict", "--workspace", str(lake), "--json", "--scores-parquet", str(tmp_path / "scores")]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["table"] is None and got["run_id"] is None and got["customers"] == want["customers"] > 0
    with Workspace(stored, read_only=True) as ws:
        expected = ws.read_result("predictions").to_pyarrow().to_pandas().sort_values("customer_key", ignore_index=True)
    with Workspace(lake, read_only=True) as ws:
        assert not ws.has_result("predictions")  # written to the folder, not to the workspace
    written = ds.dataset(tmp_path / "scores").to_table().to_pandas().sort_values("customer_key", ignore_index=True)
    from decimal import Decimal

    import numpy as np
    import pandas as pd

    # floats to 1e-12 relative (the two engines may sum in another order), everything else exactly
    assert list(written.columns) == list(expected.columns) and len(written) == len(expected)
    for col in expected.columns:
        w, e = written[col], expected[col]
        if any(pd.api.types.is_float_dtype(x) or isinstance(x.dropna().iloc[0] if x.notna().any() else None, Decimal)
               for x in (w, e)):  # a mean of yen amounts can arrive as a DECIMAL
            np.testing.assert_allclose(pd.to_numeric(w).to_numpy(dtype=float, na_value=np.nan),
                                       pd.to_numeric(e).to_numpy(dtype=float, na_value=np.nan),
                                       rtol=1e-12, err_msg=col)
        else:
            assert w.astype(object).where(w.notna(), None).tolist() == e.astype(object).where(e.notna(), None).tolist(), col
    assert main(["predict", "--workspace", str(lake), "--scores-parquet", str(tmp_path / "s"), "--csv"]) == 1

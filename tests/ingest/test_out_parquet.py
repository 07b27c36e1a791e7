"""`ltv import --out-parquet` and `ltv publish --parquet`: canonical Parquet parts, partitioned by order month."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.dataset as ds
import pytest

from ltvkit import Workspace
from ltvkit.cli import main
from ltvkit.synth import generate_shop, write_export


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A Rakuten export in CP932 (as Rakuten writes it), from the demo's generator."""
    path = write_export(generate_shop(customers=150, seed=5), tmp_path_factory.mktemp("export"))[0]
    path.read_bytes().decode("cp932")  # really CP932: this raises otherwise
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    return path


def _lines(folder) -> pd.DataFrame:
    data = ds.dataset(folder / "order_lines", format="parquet", partitioning="hive").to_table().to_pandas()
    return data


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in frame.columns if c not in ("import_id", "order_month")]
    return frame[cols].sort_values(["source", "order_id", "line_no"], ignore_index=True)


def test_import_to_parquet_gives_the_lines_a_workspace_import_gives(export, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LTV_IDENTITY_SECRET", "one secret for every task")
    lake = tmp_path / "lake"
    assert main(["import", str(export), "--out-parquet", str(lake), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["encoding"] == "cp932" and result["imported"] > 0
    assert not (tmp_path / "ltv.duckdb").exists()
    got = _lines(lake)
    with Workspace(tmp_path / "ws.duckdb") as ws:
        ws.import_orders(export)
        want = ws.table("order_lines").to_pyarrow().to_pandas()
    assert len(got) == len(want) == result["imported"]
    pd.testing.assert_frame_equal(_canonical(got), _canonical(want[got.columns.drop("order_month")]),
                                  check_dtype=False)
    months = got["order_date"].map(lambda d: f"{d:%Y-%m}")
    assert (months == got["order_month"].astype(str)).all()
    files = sorted(p.name for p in (lake / "order_lines").rglob("*.parquet"))
    assert all(f.startswith("rakuten_orders-") for f in files)
    # the same file again replaces its own parts (one task per file, rerun safely)
    assert main(["import", str(export), "--out-parquet", str(lake)]) == 0
    assert sorted(p.name for p in (lake / "order_lines").rglob("*.parquet")) == files
    assert len(_lines(lake)) == len(got)


def test_hashed_keys_need_a_shared_secret(export, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LTV_IDENTITY_SECRET", raising=False)
    assert main(["import", str(export), "--out-parquet", str(tmp_path / "lake"), "--lang", "en"]) == 1
    assert "LTV_IDENTITY_SECRET" in capsys.readouterr().err
    assert not (tmp_path / "lake" / "order_lines").exists()


def test_publish_writes_the_workspace_by_order_month(export, tmp_path, capsys):
    ws_path = tmp_path / "ws.duckdb"
    with Workspace(ws_path) as ws:
        ws.import_orders(export)
        want = ws.table("order_lines").to_pyarrow().to_pandas()
    lake = tmp_path / "published"
    assert main(["publish", "--parquet", str(lake), "--workspace", str(ws_path), "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["order_lines"] == len(want)
    got = _lines(lake)
    pd.testing.assert_frame_equal(_canonical(got), _canonical(want), check_dtype=False)
    assert {p.name for p in (lake / "order_lines").iterdir()} == {f"order_month={d:%Y-%m}" for d in want["order_date"]}
    assert (lake / "products").is_dir()
    assert main(["publish", "--parquet", str(lake), "--workspace", str(ws_path)]) == 0  # replaced, not doubled
    assert len(_lines(lake)) == len(want)

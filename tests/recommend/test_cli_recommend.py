from __future__ import annotations

import json

import pandas as pd
import pytest

from ltvkit import Workspace
from ltvkit.cli import main


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory, sim_shop):
    path = tmp_path_factory.mktemp("rec") / "w.duckdb"
    lines = sim_shop.order_lines
    small = lines[lines["customer_key"].isin(lines["customer_key"].unique()[:300])]
    with Workspace(path) as ws:
        ws.append_order_lines(small.drop(columns=["order_date"]))
    return path


def test_recommend_json_and_stored(ws_path, capsys):
    assert main(["recommend", "-w", str(ws_path), "--k", "3", "--json", "--lang", "en"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"customer_key", "rank", "sku", "score", "reason"} <= set(rows[0])
    assert max(r["rank"] for r in rows) == 3
    with Workspace(ws_path, read_only=True) as ws:
        assert ws.read_result("recommendations").count().execute() == len(rows)


def test_recommend_json_and_csv_are_streamed_in_chunks(ws_path, capsys, monkeypatch):
    """At millions of customers the lists are printed a chunk at a time (never all rows, nor their JSON text,
    in memory): the output is the same text as the whole table's, chunk boundaries and all."""
    import ltvkit.pipeline as pipeline
    from ltvkit.cli._common import emit

    seen: list[int] = []
    whole = pipeline.recommendation_chunks

    def small_chunks(ws, data, rows=100_000):
        for frame in whole(ws, data, rows=7):
            seen.append(len(frame))
            yield frame

    monkeypatch.setattr(pipeline, "recommendation_chunks", small_chunks)
    for flag in ("--json", "--csv"):
        seen.clear()
        assert main(["recommend", "-w", str(ws_path), "--k", "3", flag, "--lang", "en"]) == 0
        streamed = capsys.readouterr().out
        assert len(seen) > 3 and max(seen) <= 7
        with Workspace(ws_path, read_only=True) as ws:
            stored = ws.read_result("recommendations").to_pyarrow().to_pandas()
        emit(stored, json_=flag == "--json", csv_=flag == "--csv")
        assert streamed == capsys.readouterr().out
        assert sum(seen) == len(stored)


def test_recommend_out_file_and_csv(ws_path, tmp_path, capsys):
    out = tmp_path / "rec.csv"
    assert main(["recommend", "-w", str(ws_path), "--k", "2", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns[:5]) == ["customer_key", "rank", "sku", "score", "reason"]
    assert df["reason"].str.contains("買い替え|一緒に|購入|人気|いつも").all()
    capsys.readouterr()
    assert main(["recommend", "-w", str(ws_path), "--k", "1", "--csv", "--as-of", "2024-03-01"]) == 0
    assert capsys.readouterr().out.startswith("customer_key,rank,sku,score,reason")


def test_evaluate_prints_comparison(ws_path, capsys):
    assert main(["recommend", "-w", str(ws_path), "--evaluate", "--json", "--horizon-days", "60"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = [m["model"] for m in data["models"]]
    assert names[:4] == ["ltvkit", "P-TopFreq", "GP-TopFreq", "Popularity"]
    assert data["replenishment"]["rebought"] > 0
    # the blend ltvkit chose on the history before the cut, with its validation scores
    assert data["blend"]["status"] in {"tuned", "kept", "fallback", "default"}
    assert set(data["blend"]["params"]) >= {"alpha", "repeat_weight", "together_weight"}
    assert main(["recommend", "-w", str(ws_path), "--evaluate", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    # the line that says how the blend was chosen (chosen, kept or fallen back), whichever it was here
    assert "P-TopFreq" in out
    assert {"tuned": "ltvkit blend chosen", "kept": "ltvkit kept the default blend: on the",
            "fallback": "ltvkit fell back", "default": "ltvkit kept the default blend: only"}[data["blend"]["status"]] in out


def test_due_soon(ws_path, capsys):
    assert main(["recommend", "-w", str(ws_path), "--due-soon", "--within-days", "10", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["days_until_due"] <= 10 for r in rows)


@pytest.mark.parametrize("args, message", [
    (["--as-of", "2024-13-01"], "is not a date"),
    (["--as-of", "2001-01-01"], "later --as-of"),
    (["--k", "0"], "--k must be"),
    (["--lang", "fr"], "Unknown language"),
])
def test_mistakes_are_one_sentence(ws_path, capsys, args, message):
    assert main(["--lang", "en", "recommend", "-w", str(ws_path), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error:") and message in err and "Traceback" not in err


def test_missing_workspace(tmp_path, capsys):
    assert main(["--lang", "en", "recommend", "-w", str(tmp_path / "none.duckdb")]) == 1
    assert "No workspace" in capsys.readouterr().err


@pytest.mark.parametrize("args, column", [
    (["--rules", "category", "--rule-window-days", "60"], "antecedent"),
    (["--rules", "sku"], "lift"),
    (["--bundles"], "sku_a"),
    (["--upsell"], "upsell_sku"),
])
def test_rules_upsell_bundles(ws_path, capsys, args, column):
    assert main(["recommend", "-w", str(ws_path), *args, "--csv"]) == 0
    assert column in capsys.readouterr().out.splitlines()[0]


def test_one_listing_at_a_time(ws_path, capsys):
    assert main(["--lang", "en", "recommend", "-w", str(ws_path), "--upsell", "--bundles"]) == 1
    assert "Choose one of" in capsys.readouterr().err
    assert main(["--lang", "en", "recommend", "-w", str(ws_path), "--rules", "brand"]) == 1
    assert "--rules sku" in capsys.readouterr().err

"""The one pipeline: one analysis date for every command, each result stored under a run, reused by the report."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from ltvkit import Workspace, pipeline
from ltvkit.cli import main
from ltvkit.features import CpmSettings
from ltvkit.synth import generate_shop


@pytest.fixture(scope="module")
def shop_path(tmp_path_factory):
    """A small synthetic shop whose newest line is a cancelled order, 20 days after the last valid one."""
    shop = generate_shop(customers=400, seed=11)
    lines = shop.order_lines.copy()
    last = lines[lines["status"] == "ordered"]["ordered_at"].max()
    late = lines.iloc[[0]].copy()
    late["order_id"], late["status"] = "late-cancelled", "cancelled"
    late["ordered_at"] = last + pd.Timedelta(days=20)
    path = tmp_path_factory.mktemp("pipeline") / "shop.duckdb"
    with Workspace(path) as ws:
        ws.append_order_lines(pd.concat([lines, late], ignore_index=True))
    return path, last.date()


def test_one_analysis_date_for_every_command(shop_path, capsys):
    path, last_valid = shop_path
    with Workspace(path, read_only=True) as ws:
        assert pipeline.resolve_as_of(ws) == last_valid
        assert pipeline.resolve_as_of(ws, "2024-01-31") == dt.date(2024, 1, 31)
    assert main(["predict", "--workspace", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == last_valid.isoformat()
    assert main(["summary", "--workspace", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == last_valid.isoformat()
    assert main(["recommend", "--workspace", str(path), "--k", "3", "--json"]) == 0
    capsys.readouterr()
    with Workspace(path, read_only=True) as ws:
        for name in ("predictions", "summary", "recommendations"):
            assert ws.result_run(name).as_of == last_valid, name


def test_every_result_is_stored_under_a_run_and_reused_on_request(shop_path):
    path, day = shop_path
    with Workspace(path) as ws:
        first = pipeline.segments(ws, kind="cpm")
        again = pipeline.segments(ws, kind="cpm", reuse=True)
        assert first.run is not None and not first.reused
        assert again.reused and again.run.run_id == first.run.run_id
        fresh = pipeline.segments(ws, kind="cpm")  # a command always computes: a new run
        assert fresh.run.run_id > first.run.run_id
        other = pipeline.segments(ws, kind="cpm", cpm=CpmSettings(lapse_days=120), reuse=True)
        assert not other.reused and other.run.params["cpm"]["lapse_days"] == 120
        assert ws.result_run("segments_cpm").run_id == other.run.run_id
        life, gold = pipeline.golden(ws, day, by_category=False)
        assert life.run.run_id == gold.run.run_id
        reread = pipeline.golden(ws, day, by_category=False, reuse=True)
        assert reread[1].reused and list(reread[1].data.columns) == list(gold.data.columns)


def test_nothing_stored_and_nothing_computed_reads_as_none(shop_path):
    path, day = shop_path
    with Workspace(path) as ws:
        assert pipeline.f2(ws, day - dt.timedelta(days=3), windows=(45,), compute=False) is None


def test_a_read_only_workspace_computes_without_storing(shop_path):
    path, day = shop_path
    with Workspace(path, read_only=True) as ws:
        before = ws.runs()
        res = pipeline.cohort_summary_result(ws, day - dt.timedelta(days=7))
        assert res.run is None and len(res.data)
        assert ws.runs() == before


def test_the_report_reads_what_the_commands_stored(shop_path):
    from ltvkit.reports import build_report_data
    from ltvkit.reports.sections import predictive, segments

    path, _ = shop_path
    with Workspace(path) as ws:
        pipeline.segments(ws, kind="rfm")
        pipeline.segments(ws, kind="cpm")
        pipeline.predictions(ws)
        pipeline.validation(ws)
        before = ws.runs()
        data = build_report_data(ws, lang="en", strict=True,
                                 builders=[("segments", segments.build), ("predictive", predictive.build)])
        assert [s.key for s in data.sections] == ["segments", "predictive"]
        assert ws.runs() == before


def test_shared_order_tables_group_the_lines_once_and_change_no_result(shop_path):
    """Inside `shared_order_tables` every analysis reads one stored order table per set of arguments (and one
    stored numbering of its orders per customer); each
    result equals the one computed from the lines (money means not rounded by the stored sums' types), and the
    stored tables are gone afterwards, on a read-only workspace too."""
    from ltvkit.features import cohort_summary, f2_table
    from ltvkit.features._orders import order_table, ranked_orders
    from ltvkit.features.points import point_ltv_curves
    from ltvkit.features.views import view

    path, _ = shop_path

    def analyses(ws):
        day = pipeline.resolve_as_of(ws)
        return {
            "cohorts": cohort_summary(ws.orders(), day, split="channel"),
            "f2": f2_table(ws.orders(), day),
            "first_product": view("first_product", ws.orders(), day).to_pandas(),
            "monthly": view("monthly", ws.orders(), day).to_pandas(),
            "curves": point_ltv_curves(ws.orders(), day),
        }

    def temp_tables(ws):
        return {r[0] for r in ws.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}

    with Workspace(path, read_only=True) as ws:
        plain = analyses(ws)
        with pipeline.shared_order_tables(ws):
            shared = analyses(ws)
            day = pipeline.resolve_as_of(ws)
            one = order_table(ws.orders(), as_of=day)
            assert one.equals(order_table(ws.orders(), as_of=day))  # the same stored table, asked again
            assert len(temp_tables(ws)) == 2  # the orders, and their numbering per customer
            assert ranked_orders(one).equals(ranked_orders(one))
            assert order_table(ws.orders(), as_of=day, detail=False).columns == (
                "source", "order_id", "customer_key", "order_date", "revenue", "margin")
            other = order_table(ws.orders(), as_of=day - dt.timedelta(days=30))
            assert len(temp_tables(ws)) == 3 and other.count().execute() < one.count().execute()
        assert temp_tables(ws) == set()
        assert not order_table(ws.orders(), as_of=day).equals(one)  # outside the block: from the lines again
    assert plain["first_product"]["ltv_365d"].map(lambda v: round(v, 2) != v).any()  # means keep their decimals
    for name, frame in plain.items():
        pd.testing.assert_frame_equal(shared[name], frame, check_exact=False, rtol=1e-12, obj=name)

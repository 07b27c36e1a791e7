from __future__ import annotations

import duckdb
import pytest

from ltvkit.cli import main
from ltvkit.cli.demo import DEMO_STEPS, DemoContext, DemoStep, run_demo


def test_ltv_demo_generates_imports_and_says_where_everything_is(tmp_path, capsys):
    out = tmp_path / "demo"
    rc = main(["demo", "--customers", "300", "--seed", "1", "--out", str(out), "--lang", "en"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert (out / "ltv.duckdb").exists()
    assert (out / "exports" / "rakuten_orders.csv").exists()
    assert (out / "truth" / "truth.parquet").exists()
    assert str(out / "ltv.duckdb") in printed.replace("\n", "")
    con = duckdb.connect(str(out / "ltv.duckdb"), read_only=True)
    # the history the demo generated (the CRM loop imports the period after its sends as a second import)
    n_lines, n_customers = con.execute(
        "SELECT count(*), count(DISTINCT customer_key) FROM order_lines "
        "WHERE import_id = (SELECT min(import_id) FROM import_log)").fetchone()
    truth = con.execute(f"SELECT count(*) FROM '{out / 'truth' / 'truth.parquet'}'").fetchone()[0]
    expected_lines = con.execute(f"SELECT count(*) FROM '{out / 'truth' / 'order_lines.parquet'}'").fetchone()[0]
    con.close()
    assert n_customers == truth == 300
    assert n_lines == expected_lines


def test_demo_options_are_checked(tmp_path, capsys):
    assert main(["demo", "--customers", "3", "--out", str(tmp_path)]) == 1
    assert "--customers" in capsys.readouterr().err
    assert main(["demo", "--lang", "fr", "--out", str(tmp_path)]) == 1


def test_a_failing_step_is_reported_and_the_others_still_run(tmp_path):
    calls = []

    def ok(ctx):
        calls.append("ok")
        return "fine"

    def boom(ctx):
        raise ValueError("broken analysis")

    steps = [DemoStep("summary", ok), DemoStep("cohorts", boom), DemoStep("segments", ok)]
    ctx = DemoContext(out=tmp_path, workspace=tmp_path / "w.duckdb", customers=10, seed=0, lang="en")
    results = run_demo(ctx, steps=steps)
    assert [r.status for r in results] == ["done", "failed", "done"]
    assert "broken analysis" in results[1].detail
    assert calls == ["ok", "ok"]


def test_a_broken_import_in_a_step_stops_the_demo(tmp_path):
    def broken(ctx):
        raise ModuleNotFoundError("No module named 'ltvkit.nothing'", name="ltvkit.nothing")

    ctx = DemoContext(out=tmp_path, workspace=tmp_path / "w.duckdb", customers=10, seed=0, lang="en")
    with pytest.raises(ModuleNotFoundError, match="ltvkit.nothing"):
        run_demo(ctx, steps=[DemoStep("summary", broken)])


def test_default_steps_start_with_generate_export_import():
    assert [s.key for s in DEMO_STEPS[:3]] == ["generate", "export", "import"]


def test_demo_never_overwrites_a_workspace_it_did_not_make(tmp_path, capsys):
    from ltvkit import Workspace

    own = tmp_path / "mine.duckdb"
    Workspace(own).close()
    rc = main(["--lang", "en", "demo", "--customers", "50", "--out", str(tmp_path / "d"), "--workspace", str(own)])
    assert rc == 1
    assert "did not make" in capsys.readouterr().err
    assert own.exists()


def test_the_same_seed_gives_the_same_customer_keys_and_another_seed_other_keys(tmp_path):
    def keys(name: str, seed: int) -> set[str]:
        ctx = DemoContext(out=tmp_path / name, workspace=tmp_path / name / "ltv.duckdb", customers=300, seed=seed,
                          lang="en")
        try:
            done = run_demo(ctx, steps=[s for s in DEMO_STEPS if s.key in ("generate", "export", "import")])
        finally:
            if ctx.ws is not None:
                ctx.ws.close()
        assert [r.status for r in done] == ["done"] * 3
        with duckdb.connect(str(ctx.workspace), read_only=True) as con:
            return {r[0] for r in con.execute("SELECT DISTINCT customer_key FROM order_lines").fetchall()}

    first, again, other = keys("a", 1), keys("b", 1), keys("c", 2)
    assert len(first) > 100 and first == again
    assert not first & other

import datetime as dt

import pandas as pd
import pytest

import ltvkit
from ltvkit import Workspace
from ltvkit.exceptions import MigrationError, MissingDataError
from ltvkit.store import MIGRATIONS, applied_migrations


def _lines(n=3, status="ordered"):
    return pd.DataFrame({
        "source": ["generic"] * n,
        "order_id": [f"A{i // 2}" for i in range(n)],
        "line_no": [i % 2 + 1 for i in range(n)],
        "customer_key": ["c1"] * n,
        "ordered_at": [dt.datetime(2025, 1, 1, 23, 30)] * n,
        "sku": ["S1"] * n,
        "quantity": [1] * n,
        "unit_price": [1000] * n,
        "line_amount": [1000] * n,
        "shop_coupon": [0] * n,
        "mall_coupon": [0] * n,
        "points_used": [0] * n,
        "shipping_fee": [0] * n,
        "status": [status] * n,
    })


def test_new_workspace_records_every_migration(tmp_path):
    ws = Workspace(tmp_path / "w.duckdb")
    assert applied_migrations(ws.con) == [m.name for m in MIGRATIONS]
    ws.close()
    ws = Workspace(tmp_path / "w.duckdb")  # reopening applies nothing twice
    assert applied_migrations(ws.con) == [m.name for m in MIGRATIONS]


def test_newer_file_is_refused(tmp_path):
    ws = Workspace(tmp_path / "w.duckdb")
    ws.con.execute("INSERT INTO schema_migrations VALUES ('m999_future', now()::TIMESTAMP)")
    ws.close()
    with pytest.raises(MigrationError, match="newer ltvkit"):
        Workspace(tmp_path / "w.duckdb")


def test_append_is_an_upsert_on_the_natural_key():
    ws = Workspace()
    assert ws.append_order_lines(_lines()) == 3
    ws.append_order_lines(_lines(status="cancelled"))
    t = ws.orders().to_pandas()
    assert len(t) == 3
    assert set(t.status) == {"cancelled"}
    assert pd.Timestamp(t.order_date.iloc[0]).date() == dt.date(2025, 1, 1)
    assert ws.orders(include_cancelled=False).count().execute() == 0


def test_info_counts_and_interop():
    ws = Workspace()
    ws.append_order_lines(_lines())
    info = ws.info()
    assert (info["orders"], info["order_lines"], info["customers"]) == (2, 3, 1)
    assert info["sources"] == [{"source": "generic", "orders": 2, "order_lines": 3}]
    assert ws.orders().to_polars().height == 3
    assert ws.orders().to_pyarrow().num_rows == 3


def test_results_round_trip():
    ws = Workspace()
    ws.write_result("scores", pd.DataFrame({"customer_key": ["a"], "score": [0.5]}), kind="test")
    assert ws.read_result("scores").to_pandas().score.tolist() == [0.5]
    with pytest.raises(MissingDataError):
        ws.table("nope")


def test_public_surface_is_complete():
    import inspect

    public = {n for n, v in vars(ltvkit).items() if not n.startswith("_") and not inspect.ismodule(v)}
    public.discard("annotations")
    assert sorted(ltvkit.__all__, key=str.casefold) == sorted(public, key=str.casefold)


def _hold(path, seconds):
    """Another process holding the workspace file read-only for ``seconds`` (as the dashboard's copy does)."""
    import subprocess
    import sys

    code = (f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}, read_only=True); print('held', flush=True); "
            f"time.sleep({seconds}); c.close()")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_opening_waits_briefly_for_a_reader_to_let_go(tmp_path):
    import time

    from ltvkit.exceptions import StoreError

    path = tmp_path / "ltv.duckdb"
    Workspace(path).close()
    p = _hold(path, 1.0)
    t0 = time.monotonic()
    with Workspace(path) as ws:  # waited for the copy to finish instead of failing
        assert ws.has_table("order_lines")
    assert time.monotonic() - t0 < Workspace.LOCK_WAIT_S
    p.wait()
    p = _hold(path, Workspace.LOCK_WAIT_S + 5)
    try:
        t0 = time.monotonic()
        with pytest.raises(StoreError) as err:
            Workspace(path)
        assert err.value.key == "err.workspace_locked"
        assert time.monotonic() - t0 >= Workspace.LOCK_WAIT_S
    finally:
        p.kill()
        p.wait()


def test_memory_limit_caps_a_file_workspace_for_the_block_only(tmp_path):
    from ltvkit.exceptions import InputError

    def limit(ws):
        return ws.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]

    with Workspace(tmp_path / "w.duckdb") as ws:
        before = limit(ws)
        with ws.memory_limit("100MB"):
            assert limit(ws) != before and limit(ws).startswith("95.3")  # 100 MB in MiB
        assert limit(ws) == before
        with pytest.raises(InputError, match="LTV_RECOMMEND_MEMORY='lots' is not a memory size"):
            with ws.memory_limit("lots", setting="LTV_RECOMMEND_MEMORY"):
                pass
        assert limit(ws) == before
    memory = Workspace()  # its own tables count against the cap and cannot spill: left as it is
    before = limit(memory)
    with memory.memory_limit("1MB"):
        assert limit(memory) == before


def test_no_progress_bar_on_stdout(tmp_path):
    """DuckDB draws its progress bar on stdout once a query runs for 2 s (a shop of millions of lines): it would
    corrupt ``--json`` / ``--csv`` output, so every workspace connection switches it off, read-only ones too.
    Checked in a process of its own: under pytest's captured stdout DuckDB starts with the bar off anyway."""
    import subprocess
    import sys

    script = (
        "import sys, duckdb\n"
        "from ltvkit import Workspace\n"
        "q = \"SELECT current_setting('enable_progress_bar')\"\n"
        "print(duckdb.connect().execute(q).fetchall()[0][0])\n"
        "with Workspace(sys.argv[1]) as ws:\n"
        "    print(ws.con.execute(q).fetchall()[0][0])\n"
        "with Workspace(sys.argv[1], read_only=True) as ws:\n"
        "    print(ws.con.execute(q).fetchall()[0][0])\n")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "w.duckdb")], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "False", "False"]  # DuckDB's default, then both workspace connections

"""A process killed in the middle of an import leaves the workspace exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from fixtures import RAKUTEN_PAY_HEADER, rakuten_pay_row, write_csv

from ltvkit import Workspace
from ltvkit.ingest import import_orders
from ltvkit.ingest._tempdir import remove_abandoned

ROOT = Path(__file__).resolve().parents[2]


def _snapshot(path):
    ws = Workspace(path, read_only=True)
    try:
        q = ws.con.execute
        return (q("SELECT count(*), sum(line_amount) FROM order_lines").fetchall(),
                q("SELECT count(*) FROM customers").fetchall(), q("SELECT count(*) FROM import_log").fetchall(),
                q("SELECT count(*) FROM quarantine").fetchall(), q("SELECT count(*) FROM products").fetchall())
    finally:
        ws.close()


@pytest.mark.parametrize("phase, delay", [("ready", 1.0), ("in-transaction", 0.3)])
def test_kill_mid_import_leaves_workspace_unchanged(tmp_path, phase, delay):
    """Killed while the file is staged (outside the workspace) and while the workspace transaction is open."""
    db = tmp_path / "w.duckdb"
    small = write_csv(tmp_path / "small.csv", RAKUTEN_PAY_HEADER, [rakuten_pay_row("a-1", 1)], encoding="cp932")
    ws = Workspace(db)
    import_orders(ws, small)
    ws.close()
    before = _snapshot(db)

    sys.path.insert(0, str(ROOT / "bench"))
    from import_rakuten import generate

    big = tmp_path / "big.csv"
    generate(big, 400_000)
    # the child says when the workspace transaction has begun (a wrapper here, not a hook in ltvkit)
    script = textwrap.dedent(f"""
        import contextlib
        from ltvkit import Workspace
        from ltvkit.ingest import import_orders
        begin = Workspace.transaction

        @contextlib.contextmanager
        def announced(self):
            with begin(self) as con:
                print("in-transaction", flush=True)
                yield con

        Workspace.transaction = announced
        ws = Workspace({str(db)!r})
        print("ready", flush=True)
        import_orders(ws, {str(big)!r})
        print("done", flush=True)
    """)
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # what a killed import leaves behind stays in tmp_path
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    while (line := proc.stdout.readline().strip()) != phase:
        assert line, f"the child ended before {phase!r}"
    time.sleep(delay)
    assert proc.poll() is None, "the import finished before it could be killed; use a bigger file"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(db) == before
    # what the killed import left in its temp directory is removed by the next import
    assert [p.name[:11] for p in remove_abandoned(tmp_path)] == ["ltv-import-"]
    assert not list(tmp_path.glob("ltv-import-*"))
    # and the workspace still works
    ws = Workspace(db)
    assert import_orders(ws, small).unchanged == 1
    ws.close()

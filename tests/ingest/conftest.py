from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def ws():
    from ltvkit import Workspace

    w = Workspace()
    yield w
    w.close()


def lines(ws, where: str = "TRUE"):
    """Order lines as a list of dicts, ordered by order and line."""
    cur = ws.con.execute(f"SELECT * FROM order_lines WHERE {where} ORDER BY source, order_id, line_no")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def quarantine(ws):
    cur = ws.con.execute("SELECT file, line_number, column_name, value, reason FROM quarantine ORDER BY file, line_number")
    return cur.fetchall()

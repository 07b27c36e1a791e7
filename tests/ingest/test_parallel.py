"""Large CP932 files are transcoded in parallel parts; the result must equal the one-part import exactly."""

from __future__ import annotations

import hashlib
import os

from conftest import lines, quarantine
from fixtures import RAKUTEN_PAY_HEADER, rakuten_pay_row, write_csv

from ltvkit import Workspace
from ltvkit.ingest import _csv, import_orders


def _file(tmp_path):
    rows = []
    for i in range(300):
        row = rakuten_pay_row(f"o-{i // 2}", i % 2 + 1, price=100 + i, points=10 * (i % 3))
        if i % 7 == 0:
            row["コメント"] = 'multi\nline "quoted", comment'  # a quoted newline near some cut points
        if i == 150:
            row["個数"] = "x"
        rows.append(row)
    path = write_csv(tmp_path / "r.csv", RAKUTEN_PAY_HEADER, rows, encoding="cp932")
    raw = path.read_bytes().split(b"\r\n")
    raw.insert(200, b'"broken","row"')  # a malformed record in the middle
    path.write_bytes(b"\r\n".join(raw))
    return path


def _snapshot(ws):
    return lines(ws), quarantine(ws)


def test_parallel_parts_equal_one_part(tmp_path, monkeypatch):
    path = _file(tmp_path)
    monkeypatch.setenv("LTV_IDENTITY_SECRET", "same-secret-for-both")
    one = Workspace()
    import_orders(one, path)
    expected = _snapshot(one)
    monkeypatch.setattr(_csv, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    parts, digest = _csv.transcode_parts(path, tmp_path, "t", "cp932")
    assert len(parts) == 4 and digest == hashlib.sha256(path.read_bytes()).hexdigest()
    # every part but the first repeats the header; together they hold the whole file
    texts = [p.read_bytes().decode("utf-8") for p in parts]
    header = texts[0].split("\n", 1)[0] + "\n"
    assert all(t.startswith(header) for t in texts)
    joined = texts[0] + "".join(t[len(header):] for t in texts[1:])
    assert joined == path.read_bytes().decode("cp932", "replace")
    many = Workspace()
    import_orders(many, path)
    assert _snapshot(many) == expected
    assert any("malformed" in r[4] or "cannot be parsed" in r[4] for r in expected[1])

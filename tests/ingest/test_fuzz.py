"""Property-based fuzzing of the readers: no traceback ever escapes, no good row is ever lost."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltvkit import Workspace
from ltvkit.exceptions import LtvkitError
from ltvkit.ingest import import_orders

HEADER = ["order_id", "customer_id", "ordered_at", "sku", "product_name", "quantity", "unit_price", "points_used"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))

# (text, is it valid?) for each validated field
DATES = [("2024-01-05 13:05", True), ("2024/1/5", True), ("2024年1月5日 9:00", True), ("２０２４／０１／０５", True),
         ("2024-01-05T13:05:00+09:00", True), ("2024-02-30", False), ("yesterday", False), ("", False)]
QTYS = [("1", True), ("２", True), ("10", True), ("0", True), ("1.5", False), ("-1", False), ("", False), ("one", False)]
PRICES = [("1980", True), ("1,980", True), ("¥２，４８０", True), ("0", True), ("-5", False), ("", False), ("free", False)]
POINTS = [("", True), ("0", True), ("100", True), ("１００", True), ("lots", False)]
IDS = [("o-1", True), ("o-2", True), ("楽天-3", True), ("", False)]
CUSTOMERS = [("c1", True), ("c2", True), ("", False)]
SKUS = [("sku-1", True), ("", True)]  # an empty sku falls back to the product name

free_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(["\n", ",", '"', "\t"]),
                    max_size=12)


@st.composite
def rows(draw):
    n = draw(st.integers(0, 12))
    out = []
    for _ in range(n):
        picks = {k: draw(st.sampled_from(pool)) for k, pool in (
            ("order_id", IDS), ("customer_id", CUSTOMERS), ("ordered_at", DATES), ("quantity", QTYS),
            ("unit_price", PRICES), ("points_used", POINTS), ("sku", SKUS))}
        name = draw(free_text)
        row = {k: v[0] for k, v in picks.items()}
        row["product_name"] = name
        item_ok = bool(row["sku"]) or bool(name.strip(" "))
        out.append((row, all(v[1] for v in picks.values()) and item_ok))
    # an order number already used by another buyer (all valid dates are the same day) is a conflict
    first: dict[str, str] = {}
    for k, (row, ok) in enumerate(out):
        if ok and first.setdefault(row["order_id"], row["customer_id"]) != row["customer_id"]:
            out[k] = (row, False)
    return out


def _write(path, data, encoding):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    for row, _ in data:
        w.writerow([row[h] for h in HEADER])
    try:
        path.write_bytes(buf.getvalue().encode(encoding))
    except UnicodeEncodeError:
        path.write_bytes(buf.getvalue().encode("utf-8"))


@SETTINGS
@given(data=rows(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932"]))
def test_every_good_row_is_imported_and_every_bad_row_quarantined(tmp_path_factory, data, encoding):
    path = tmp_path_factory.mktemp("fuzz") / "orders.csv"
    _write(path, data, encoding)
    ws = Workspace()
    try:
        result = import_orders(ws, path, preset="generic")
        good = sum(ok for _, ok in data)
        assert result.imported == good
        assert result.quarantined == len(data) - good
        assert result.rows_read == len(data)
        total = ws.con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0]
        assert total == good
    finally:
        ws.close()


@SETTINGS
@given(header=st.lists(free_text, max_size=6), body=st.binary(max_size=300))
def test_arbitrary_files_raise_only_ltvkit_errors(tmp_path_factory, header, body):
    path = tmp_path_factory.mktemp("junk") / "x.csv"
    path.write_bytes(",".join(header).encode("utf-8", "replace") + b"\n" + body)
    ws = Workspace()
    try:
        for preset in ("auto", "generic", "rakuten"):
            try:
                result = import_orders(ws, path, preset=preset)
            except LtvkitError as exc:
                assert str(exc) and "\n" not in str(exc).strip()
            else:
                assert result.imported + result.quarantined <= result.rows_read
    finally:
        ws.close()

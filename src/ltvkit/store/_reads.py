"""Small reads of one customer, one segment or one week, for the dashboard of ``ltv serve``.

Each is a bounded query on the stored tables (never a scan returned whole): a page asks for what it shows.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ._workspace import _result_name

if TYPE_CHECKING:
    import pandas as pd

    from ._workspace import Workspace

__all__ = ["customer_contact", "customer_orders", "customer_result_history", "customer_result_rows",
           "due_between", "last_two_weeks", "result_history", "result_members", "result_value_counts"]


def _exists(ws: Workspace, name: str) -> bool:
    return ws.has_table(_result_name(name))


def customer_orders(ws: Workspace, customer_key: str, *, limit: int = 200) -> pd.DataFrame:
    """The customer's order lines, newest first (no contact data)."""
    return ws.con.execute(
        "SELECT order_date, source, order_id, line_no, sku, product_name, category, quantity, line_amount, "
        "points_used, status, channel FROM order_lines WHERE customer_key = ? "
        "ORDER BY ordered_at DESC, order_id, line_no LIMIT ?", [customer_key, limit]).fetchdf()


def customer_result_rows(ws: Workspace, name: str, customer_key: str, *, order_by: str | None = None,
                         limit: int = 100) -> pd.DataFrame | None:
    """The customer's rows of the latest run of result ``name``; ``None`` when it is not stored."""
    if not _exists(ws, name):
        return None
    order = f' ORDER BY "{order_by}"' if order_by else ""
    return ws.con.execute(f'SELECT * FROM "{_result_name(name)}" WHERE customer_key = ?{order} LIMIT ?',
                          [customer_key, limit]).fetchdf()


def result_history(ws: Workspace, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """``columns`` of a one-row result (``summary``) in every stored run, newest run first."""
    return customer_result_history(ws, name, None, columns)


def customer_result_history(ws: Workspace, name: str, customer_key: str | None,
                            columns: tuple[str, ...]) -> pd.DataFrame:
    """``columns`` of the customer's row in every stored run of result ``name``, newest run first, with
    ``run_id``, ``as_of`` and ``created_at`` (``customer_key=None``: every row of each run)."""
    import pandas as pd

    base = _result_name(name)
    if not ws.has_table("runs"):
        return pd.DataFrame(columns=["run_id", "as_of", "created_at", *columns])
    tables = ws.con.execute(
        "SELECT x.run_id, r.as_of, r.created_at, x.table_name FROM run_results x JOIN runs r USING (run_id) "
        "WHERE x.result = ? ORDER BY x.run_id DESC LIMIT 50", [base]).fetchall()
    parts, args = [], []
    for run_id, as_of, created, table in tables:
        have = {r[0] for r in ws.con.execute(f'DESCRIBE "{table}"').fetchall()}
        cols = ", ".join(f'"{c}"' if c in have else f'NULL AS "{c}"' for c in columns)
        where = " WHERE customer_key = ?" if customer_key is not None else ""
        parts.append(f'SELECT {int(run_id)} AS run_id, ?::DATE AS as_of, ?::TIMESTAMP AS created_at, {cols} '
                     f'FROM "{table}"{where}')
        args += [as_of, created, *([customer_key] if customer_key is not None else [])]
    if not parts:
        return pd.DataFrame(columns=["run_id", "as_of", "created_at", *columns])
    return ws.con.execute(" UNION ALL ".join(parts) + " ORDER BY run_id DESC", args).fetchdf()


def customer_contact(ws: Workspace, customer_key: str) -> dict[str, Any] | None:
    """The contact row kept with ``--keep-contact`` (name, e-mail, phone, address), or ``None``."""
    if not ws.has_table("contacts"):
        return None
    cur = ws.con.execute("SELECT source, name, email, phone, zip, address, updated_at FROM contacts "
                         "WHERE customer_key = ? ORDER BY updated_at DESC LIMIT 1", [customer_key])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def result_value_counts(ws: Workspace, name: str, column: str) -> pd.DataFrame | None:
    """How many rows of result ``name`` hold each value of ``column`` (``value``, ``customers``)."""
    if not _exists(ws, name):
        return None
    return ws.con.execute(f'SELECT "{column}" AS value, count(*) AS customers FROM "{_result_name(name)}" '
                          f'GROUP BY 1 ORDER BY 2 DESC').fetchdf()


def result_members(ws: Workspace, name: str, *, where: dict[str, Any] | None = None, order_by: str | None = None,
                   descending: bool = True, limit: int | None = 100, offset: int = 0,
                   columns: tuple[str, ...] | None = None) -> tuple[pd.DataFrame, int] | None:
    """Rows of the latest run of result ``name`` where each ``column = value`` of ``where`` holds, one page
    (``limit=None``: all of them) and the number of rows that match; ``None`` when the result is not stored."""
    if not _exists(ws, name):
        return None
    table = _result_name(name)
    have = [r[0] for r in ws.con.execute(f'DESCRIBE "{table}"').fetchall()]
    for col in [*(where or {}), *([order_by] if order_by else []), *(columns or ())]:
        if col not in have:
            raise KeyError(col)
    cond = " AND ".join(f'"{c}" = ?' for c in where or {}) or "TRUE"
    args = list((where or {}).values())
    total = ws.con.execute(f'SELECT count(*) FROM "{table}" WHERE {cond}', args).fetchall()[0][0]
    cols = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    order = f' ORDER BY "{order_by}" {"DESC" if descending else "ASC"} NULLS LAST, customer_key' if order_by else ""
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    frame = ws.con.execute(f'SELECT {cols} FROM "{table}" WHERE {cond}{order}{page}', args).fetchdf()
    return frame, int(total)


def due_between(ws: Workspace, name: str, date_column: str, start: dt.date, end: dt.date, *,
                columns: tuple[str, ...], limit: int = 500) -> pd.DataFrame | None:
    """Rows of result ``name`` whose ``date_column`` falls in ``[start, end)``, earliest first."""
    if not _exists(ws, name):
        return None
    cols = ", ".join(f'"{c}"' for c in columns)
    return ws.con.execute(
        f'SELECT {cols} FROM "{_result_name(name)}" WHERE "{date_column}" >= ? AND "{date_column}" < ? '
        f'ORDER BY "{date_column}", customer_key LIMIT ?', [start, end, limit]).fetchdf()


def last_two_weeks(ws: Workspace, end: dt.date) -> dict[str, dict[str, Any]]:
    """Orders, buyers, sales and new customers (first valid order) in the 7 days up to ``end`` (``this``) and in
    the 7 days before (``before``), from the valid order lines."""
    lo, mid = end - dt.timedelta(days=13), end - dt.timedelta(days=6)
    rows = ws.con.execute(
        "SELECT CASE WHEN order_date >= ? THEN 'this' ELSE 'before' END AS week, count(DISTINCT order_id) AS orders, "
        "count(DISTINCT customer_key) AS buyers, sum(line_amount) AS revenue FROM order_lines "
        "WHERE status = 'ordered' AND order_date BETWEEN ? AND ? GROUP BY 1", [mid, lo, end]).fetchall()
    new = ws.con.execute(
        "SELECT CASE WHEN first >= ? THEN 'this' ELSE 'before' END, count(*) FROM (SELECT customer_key, "
        "min(order_date) AS first FROM order_lines WHERE status = 'ordered' GROUP BY 1) "
        "WHERE first BETWEEN ? AND ? GROUP BY 1", [mid, lo, end]).fetchall()
    out = {w: {"orders": 0, "buyers": 0, "revenue": 0, "new_customers": 0} for w in ("this", "before")}
    for week, orders, buyers, revenue in rows:
        out[week].update(orders=int(orders), buyers=int(buyers), revenue=int(revenue or 0))
    for week, n in new:
        out[week]["new_customers"] = int(n)
    return out

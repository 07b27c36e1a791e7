"""Small helpers shared by the section builders."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ...exceptions import MissingDataError

if TYPE_CHECKING:
    import ibis
    import pandas as pd

    from ...workspace import Workspace
    from ..data import ReportSettings


def products(ws: Workspace) -> ibis.Table | None:
    """The products table when it holds rows (for per-SKU costs), else ``None``."""
    n = ws.con.execute("SELECT count(*) FROM products").fetchall()[0][0]
    return ws.table("products") if n else None


def as_of(ws: Workspace, settings: ReportSettings) -> dt.date:
    """The analysis date: the settings' ``as_of`` or the last order date."""
    if settings.as_of is not None:
        return settings.as_of
    value = ws.con.execute("SELECT max(order_date) FROM order_lines WHERE status = 'ordered'").fetchall()[0][0]
    if value is None:
        raise MissingDataError(key="err.no_orders")
    return value


def stored(ws: Workspace, name: str, columns: tuple[str, ...]) -> ibis.Table | None:
    """A stored result table when it exists and has ``columns``, else ``None``."""
    if not ws.has_result(name):
        return None
    t = ws.read_result(name)
    return t if all(c in t.columns for c in columns) else None


def product_names(ws: Workspace, skus: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """Latest product name and category per SKU (from the order lines; never from contact data)."""
    if not skus:
        return {}
    import pandas as pd

    frame = pd.DataFrame({"sku": pd.Series(list(dict.fromkeys(skus)), dtype="string")})
    ws.con.register("_report_skus", frame)
    try:
        rows = ws.con.execute(
            """
            SELECT o.sku, arg_max(o.product_name, o.ordered_at), arg_max(o.category, o.ordered_at)
            FROM order_lines o JOIN _report_skus s ON o.sku = s.sku GROUP BY o.sku
            """
        ).fetchall()
    finally:
        ws.con.unregister("_report_skus")
    return {r[0]: (r[1], r[2]) for r in rows}


def weighted_mean(values: pd.Series, weights: pd.Series) -> float | None:
    ok = values.notna() & weights.notna()
    w = weights[ok].astype(float)
    if not ok.any() or w.sum() <= 0:
        return None
    return float((values[ok].astype(float) * w).sum() / w.sum())


def cached(settings: ReportSettings, key: Any, compute: Any) -> Any:
    """``compute()`` once per report build (builders share results such as the cohort summary)."""
    if key not in settings.cache:
        settings.cache[key] = compute()
    return settings.cache[key]


def call(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` with only the keyword arguments it accepts (APIs of sibling modules still grow)."""
    import inspect

    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return func(*args, **kwargs)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return func(*args, **kwargs)
    return func(*args, **{k: v for k, v in kwargs.items() if k in params})


def stored_as_of(ws: Workspace, name: str, columns: tuple[str, ...], day: dt.date) -> ibis.Table | None:
    """A stored result computed as of ``day`` (per ``result_log``) that has ``columns``, else ``None``."""
    table = stored(ws, name, columns)
    if table is None:
        return None
    rows = ws.con.execute("SELECT as_of FROM result_log WHERE table_name = ?", [table.get_name()]).fetchall()
    return table if rows and rows[0][0] == day else None


def get_or_compute(ws: Workspace, settings: ReportSettings, name: str, columns: tuple[str, ...], day: dt.date,
                   compute: Any, *, kind: str = "") -> ibis.Table:
    """The stored result ``name`` as of ``day``; else ``compute()`` (an Ibis expression), stored when allowed."""
    table = stored_as_of(ws, name, columns, day)
    if table is not None:
        return table
    expr = compute()
    if not settings.compute_missing:
        return expr
    try:
        return ws.table(ws.write_result(name, expr, kind=kind, as_of=day))
    except Exception:  # a read-only workspace: use the expression without storing it
        return expr


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with DECIMAL columns (sums read back from DuckDB) as floats."""
    import decimal

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            first = out[col].dropna().head(1)
            if len(first) and isinstance(first.iloc[0], decimal.Decimal):
                out[col] = out[col].astype(float)
    return out

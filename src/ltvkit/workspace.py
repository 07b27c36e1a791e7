"""The workspace: one DuckDB file (or memory) holding the canonical order store and every stored result.

Analytics receive tables as Ibis expressions (:meth:`Workspace.orders`), so the same feature code runs on any
Ibis backend; ``.to_pandas()``, ``.to_polars()`` and ``.to_pyarrow()`` come with Ibis.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import pyarrow as pa

from .config import DEFAULT_TIMEZONE
from .exceptions import InputError, MissingDataError, StoreError
from .ingest.schema import ORDER_LINES, arrow_schema
from .store import migrate

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Workspace"]

_RESULT_PREFIX = "result_"


class Workspace:
    """A shop's data: canonical order lines, customers, products, quarantine, import log and results.

    Parameters
    ----------
    path
        The DuckDB file. ``None`` keeps everything in memory (tests, notebooks).
    timezone
        The shop's wall-clock time zone, recorded in the file on first use (default ``Asia/Tokyo``).
    read_only
        Open the file without write access (several readers can share it).

    Examples
    --------
    >>> ws = Workspace()
    >>> ws.info()["order_lines"]
    0
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, timezone: str | None = None,
                 read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        try:
            self.con = duckdb.connect(str(self.path) if self.path else ":memory:", read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"Cannot open workspace {self.path}: {exc}".rstrip(".") + ".") from exc
        if self.path is not None and self._foreign():
            self.con.close()
            error = StoreError(f"{self.path} is a DuckDB file but not an ltvkit workspace (it has tables of its own); "
                               "choose another --workspace, or create one with `ltv import FILE --workspace NEW.duckdb`.")
            error.key = "not_a_workspace"  # type: ignore[attr-defined]  # the CLI says it in the user's language
            raise error
        if not read_only:
            migrate(self.con)
        if timezone is not None and not read_only:
            self.set_meta("timezone", timezone)
        self._ibis: Any = None

    def _foreign(self) -> bool:
        """True for a DuckDB file with tables but no ltvkit migration log: someone else's database."""
        tables = {r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        return bool(tables) and "schema_migrations" not in tables

    # -- connection and lifecycle -------------------------------------------------------------------------
    @property
    def backend(self) -> Any:
        """The Ibis backend over this workspace's connection."""
        if self._ibis is None:
            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.path) if self.path else ':memory:'!r})"

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One all-or-nothing transaction: on any error nothing it wrote stays."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- metadata -----------------------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        rows = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()  # fetchall: DuckDB 2
        return rows[0][0] if rows else default

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    @property
    def timezone(self) -> str:
        """The shop's wall-clock time zone (order times are stored in it)."""
        return self.meta("timezone") or os.environ.get("LTV_TIMEZONE") or DEFAULT_TIMEZONE

    def identity_secret(self) -> bytes:
        """Per-workspace secret for keyed hashes of contact data (``LTV_IDENTITY_SECRET`` overrides)."""
        env = os.environ.get("LTV_IDENTITY_SECRET")
        if env:
            return env.encode()
        value = self.meta("identity_secret")
        if value is None:
            value = secrets.token_hex(32)
            self.set_meta("identity_secret", value)
        return bytes.fromhex(value)

    # -- tables as Ibis expressions -----------------------------------------------------------------------
    def table_names(self) -> list[str]:
        return [r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]

    def has_table(self, name: str) -> bool:
        return name in self.table_names()

    def table(self, name: str) -> ibis.Table:
        """Any workspace table as an Ibis table."""
        if not self.has_table(name):
            raise MissingDataError(f"The workspace has no table {name!r}; run the command that creates it first.")
        return self.backend.table(name)

    def orders(self, *, include_cancelled: bool = True) -> ibis.Table:
        """Canonical order lines as an Ibis table (optionally without cancelled lines)."""
        t = self.backend.table("order_lines")
        return t if include_cancelled else t.filter(t.status != "cancelled")

    def require_orders(self) -> None:
        """Raise :class:`MissingDataError` when no order has been imported yet."""
        n = self.con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0]  # fetchall: DuckDB 2 blocks Ibis after a partly read result
        if n == 0:
            raise MissingDataError("The workspace holds no orders yet; import an export with `ltv import FILE` or run `ltv demo`.")

    # -- writing ------------------------------------------------------------------------------------------
    def append_order_lines(self, data: pa.Table | pd.DataFrame, *, import_id: int = 0) -> int:
        """Upsert canonical order lines (natural key source, order_id, line_no); return rows written.

        A low-level entry for tests and loaders that already produce canonical rows; importers of files use
        :meth:`import_orders`, which also quarantines bad rows and logs the import.
        """
        table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        if "import_id" not in table.column_names:
            table = table.append_column("import_id", pa.array([import_id] * table.num_rows, pa.int64()))
        if "order_date" not in table.column_names and "ordered_at" in table.column_names:
            table = table.append_column("order_date", table["ordered_at"].cast(pa.timestamp("us")).cast(pa.date32()))
        schema = arrow_schema(ORDER_LINES)
        missing = [f.name for f in schema if not f.nullable and f.name not in table.column_names]
        if missing:
            raise InputError(f"Order lines lack required column(s) {', '.join(missing)}.")
        cols = []
        for field in schema:
            if field.name in table.column_names:
                cols.append(table[field.name].cast(field.type))
            else:
                cols.append(pa.nulls(table.num_rows, field.type))
        table = pa.Table.from_arrays(cols, schema=schema)
        names = ", ".join(schema.names)
        with self.transaction() as con:
            con.register("_incoming_lines", table)
            try:
                con.execute(
                    "DELETE FROM order_lines o USING _incoming_lines i "
                    "WHERE o.source = i.source AND o.order_id = i.order_id AND o.line_no = i.line_no")
                con.execute(f"INSERT INTO order_lines ({names}) SELECT {names} FROM _incoming_lines")
            finally:
                con.unregister("_incoming_lines")
        return table.num_rows

    def write_result(self, name: str, data: Any, *, kind: str = "", as_of: dt.date | None = None,
                     params: dict[str, Any] | None = None) -> str:
        """Store a result table (per-customer scores, cohort tables) as ``result_<name>``; return the table name.

        ``data`` is a pandas or polars DataFrame, a pyarrow Table or an Ibis expression of this workspace.
        """
        table_name = name if name.startswith(_RESULT_PREFIX) else _RESULT_PREFIX + name
        with self.transaction() as con:
            if isinstance(data, ibis.Expr):
                sql = ibis.to_sql(data, dialect="duckdb")
                con.execute(f'CREATE OR REPLACE TABLE "{table_name}" AS {sql}')
            else:
                arrow = _to_arrow(data)
                con.register("_result_in", arrow)
                try:
                    con.execute(f'CREATE OR REPLACE TABLE "{table_name}" AS SELECT * FROM _result_in')
                finally:
                    con.unregister("_result_in")
            rows = con.execute(f'SELECT count(*) FROM "{table_name}"').fetchall()[0][0]
            con.execute(
                "INSERT OR REPLACE INTO result_log VALUES (?, ?, ?, ?, current_timestamp::TIMESTAMP, ?)",
                [table_name, kind, as_of, json.dumps(params or {}, default=str, ensure_ascii=False), rows],
            )
        return table_name

    def read_result(self, name: str) -> ibis.Table:
        """A stored result as an Ibis table."""
        table_name = name if name.startswith(_RESULT_PREFIX) else _RESULT_PREFIX + name
        return self.table(table_name)

    def has_result(self, name: str) -> bool:
        table_name = name if name.startswith(_RESULT_PREFIX) else _RESULT_PREFIX + name
        return self.has_table(table_name)

    # -- import and info ----------------------------------------------------------------------------------
    def import_orders(self, path: str | os.PathLike[str] | list[str | os.PathLike[str]], preset: str = "auto",
                      **options: Any) -> Any:
        """Import an order export (or a Yahoo order + item pair); see :func:`ltvkit.ingest.import_orders`."""
        from .ingest import import_orders

        return import_orders(self, path, preset=preset, **options)

    def info(self) -> dict[str, Any]:
        """Counts, date range and sources of the order store (``quarantined``: the current quarantine)."""
        from .ingest.quarantine import current_quarantine_sql

        q = self.con.execute
        counts = {
            "orders": q("SELECT count(*) FROM (SELECT DISTINCT source, order_id FROM order_lines)").fetchall()[0][0],
            "order_lines": q("SELECT count(*) FROM order_lines").fetchall()[0][0],
            "customers": q("SELECT count(DISTINCT customer_key) FROM order_lines").fetchall()[0][0],
            "products": q("SELECT count(DISTINCT sku) FROM order_lines").fetchall()[0][0],
            "quarantined": q(current_quarantine_sql()).fetchall()[0][0],
            "imports": q("SELECT count(*) FROM import_log").fetchall()[0][0],
        }
        first, last = q("SELECT min(ordered_at), max(ordered_at) FROM order_lines").fetchall()[0]
        sources = [
            {"source": s, "orders": o, "order_lines": n}
            for s, o, n in q("SELECT source, count(DISTINCT order_id), count(*) FROM order_lines GROUP BY 1 ORDER BY 1").fetchall()
        ]
        return {
            "workspace": str(self.path) if self.path else ":memory:",
            "timezone": self.timezone,
            **counts,
            "first_order_at": first.isoformat(sep=" ") if first else None,
            "last_order_at": last.isoformat(sep=" ") if last else None,
            "sources": sources,
        }


def _to_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if hasattr(data, "to_arrow"):  # polars
        return data.to_arrow()
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise TypeError(f"Cannot store a {type(data).__name__} as a result table.")

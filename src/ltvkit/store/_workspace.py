"""The workspace: one DuckDB file (or memory) holding the canonical order store and every stored result.

Analytics receive tables as Ibis expressions (:meth:`Workspace.orders`), so the same feature code runs on any
Ibis backend; ``.to_pandas()``, ``.to_polars()`` and ``.to_pyarrow()`` come with Ibis.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import pyarrow as pa

from .._version import __version__
from ..config import Settings, load_settings
from ..exceptions import InputError, MissingDataError, StoreError
from .migrations import migrate
from .schema import ORDER_LINES, arrow_schema

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Run", "Workspace"]

EngineError = duckdb.Error
"""The database engine's own error class (a damaged, locked or foreign file met under a command)."""


def engine_error_key(text: str) -> str:
    """The catalogue key (``err.workspace_*``) for a DuckDB error text met while opening or reading a workspace."""
    if re.search(r"Could not set lock|Conflicting lock", text):
        return "err.workspace_locked"
    if re.search(r"not a valid DuckDB database|truncated|database file .* is not|Invalid Input Error.*file|"
                 r"IO Error|Serialization|Corrupt|checksum|INTERNAL Error", text, re.IGNORECASE):
        return "err.workspace_damaged"
    if re.search(r"Catalog Error|Binder Error|does not exist", text):
        return "err.not_a_workspace"
    return "err.workspace_error"


def _engine_error(exc: BaseException, path: Path | None) -> StoreError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return StoreError(key=engine_error_key(text), path=str(path) if path is not None else ":memory:", detail=text)


_RESULT_PREFIX = "result_"
# the latest import of each path (imports from before m004 have no path: the file name stands in)
_LATEST_IMPORTS = "SELECT max(import_id) FROM import_log GROUP BY COALESCE(file_path, file_name)"


@dataclass(frozen=True)
class Run:
    """One computation of the pipeline and a result it stored.

    ``run_id`` is what a message planned from these scores records; ``params`` are the options it ran with,
    ``details`` what it found on the way (fitted parameters, the model chosen).
    """

    run_id: int
    kind: str
    as_of: dt.date | None
    params: dict[str, Any]
    details: dict[str, Any]
    created_at: dt.datetime
    code_version: str
    result: str | None = None
    row_count: int | None = None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Run:
        run_id, kind, as_of, params, details, created_at, version, result, rows = row
        return cls(int(run_id), kind, as_of, json.loads(params) if params else {},
                   json.loads(details) if details else {}, created_at, version, result,
                   None if rows is None else int(rows))


def _result_name(name: str) -> str:
    return name if name.startswith(_RESULT_PREFIX) else _RESULT_PREFIX + name


def _run_table(base: str, run_id: int) -> str:
    """The table that holds one run's rows of a result (``result_<name>`` is a view of the latest one)."""
    return f"{base}__run_{run_id}"


def _params_json(params: dict[str, Any] | None) -> str:
    """Parameters as canonical JSON (sorted keys), so that equal parameters compare equal as text."""
    return json.dumps(params or {}, sort_keys=True, default=str, ensure_ascii=False)


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
        self.read_only = read_only
        self.con = self._connect(read_only)
        try:
            if self.path is not None and self._foreign():
                raise StoreError(key="err.not_a_workspace", path=str(self.path))
            if not read_only:
                migrate(self.con)
            if self.path is not None and self.has_table("order_lines"):
                self.con.execute("SELECT count(*) FROM order_lines").fetchall()  # a damaged file fails here
        except duckdb.Error as exc:
            self.con.close()
            raise _engine_error(exc, self.path) from exc
        except StoreError:
            self.con.close()
            raise
        if timezone is not None and not read_only:
            self.set_meta("timezone", timezone)
        self._ibis: Any = None
        self.engine = "duckdb"
        self._input: Any = None  # the backend the canonical tables are read from (None: this file's DuckDB)
        self._spark: Any = None
        self._export_dir: Path | None = None
        self._scratch_dir: Path | None = None  # tables the driver hands to a local Spark session (engine_table)
        self._scratch_seq = itertools.count()

    LOCK_WAIT_S = 3.0
    """How long opening waits for another process to let go of the file (a dashboard copying it, a short
    command) before saying that the workspace is locked."""

    def _connect(self, read_only: bool) -> Any:
        import time

        end = time.monotonic() + self.LOCK_WAIT_S
        while True:
            try:
                con = duckdb.connect(str(self.path) if self.path else ":memory:", read_only=read_only)
                # no progress bar: DuckDB draws it on stdout, where it would corrupt --json/--csv output
                con.execute("SET enable_progress_bar = false")
                return con
            except duckdb.Error as exc:
                if engine_error_key(str(exc)) != "err.workspace_locked" or time.monotonic() >= end:
                    raise _engine_error(exc, self.path) from exc
            time.sleep(0.1)

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

    @property
    def input_backend(self) -> Any:
        """The Ibis backend that reads the canonical tables: this file's DuckDB, or Spark (:meth:`use_engine`)."""
        return self._input if self._input is not None else self.backend

    def use_engine(self, engine: str, *, master: str | None = None, conf: dict[str, str] | None = None,
                   data_dir: str | os.PathLike[str] | None = None) -> None:
        """Run the analytics on ``engine`` (``duckdb`` or ``spark``); results are still stored in this workspace.

        With ``spark`` the canonical tables are read by a Spark session (``master``, extra ``conf``) from the
        Parquet under ``data_dir`` (the layout of :meth:`publish_parquet`), by default this workspace's tables
        exported to a temporary folder.
        """
        from ._spark import ENGINES, spark_backend, spark_session

        if engine not in ENGINES:
            raise InputError(key="err.unknown_engine", value=engine, choices=list(ENGINES))
        self._drop_export()
        if engine == "duckdb":
            self.engine, self._input = "duckdb", None
            return
        if data_dir is None:
            self._export_dir = Path(tempfile.mkdtemp(prefix="ltv-spark-"))
            self.publish_parquet(self._export_dir)
            data_dir = self._export_dir
        self._input = spark_backend(data_dir, master=master or "local[*]", conf=conf)
        self._spark = spark_session(master or "local[*]", conf)
        self.engine = "spark"

    def publish_parquet(self, directory: str | os.PathLike[str], *, part: str | None = None,
                        tables: tuple[str, ...] = ("order_lines", "products", "customers")) -> dict[str, int]:
        """Write the canonical tables as Parquet that Spark (or any engine) reads; return rows per table.

        ``order_lines/order_month=YYYY-MM/*.parquet`` (partitioned by the month of ``order_date``), and
        ``products/``, ``customers/`` (one file each). Timestamps are naive microseconds. Without ``part`` the
        folders of an earlier publish are replaced; with ``part`` (a name such as ``<file>-<hash>``) the files are
        named after it and added beside those of other parts, replacing only that part's earlier files, so that
        many imports can write into one folder in parallel.
        """
        import shutil

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        counts: dict[str, int] = {}
        for name in tables:
            if not self.has_table(name):
                continue
            folder = out / name
            if part is None and folder.exists():
                shutil.rmtree(folder)
            elif part is not None:
                for old in folder.glob(f"**/{part}_*.parquet"):
                    old.unlink()
            folder.mkdir(parents=True, exist_ok=True)
            n = int(self.con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])
            counts[name] = n
            pattern = f"{part or name}_{{i}}"
            if name == "order_lines":
                if n == 0:
                    continue
                cols = ", ".join(c.name for c in ORDER_LINES)
                self.con.execute(
                    f"COPY (SELECT {cols}, strftime(order_date, '%Y-%m') AS order_month FROM order_lines) "
                    f"TO {_sql_path(folder)} (FORMAT parquet, PARTITION_BY (order_month), OVERWRITE_OR_IGNORE, "
                    f"FILENAME_PATTERN {_sql_path(Path(pattern))})")
            else:
                target = folder / pattern.replace("{i}", "0")
                self.con.execute(f"COPY {name} TO {_sql_path(target.with_suffix('.parquet'))} (FORMAT parquet)")
        return counts

    def engine_table(self, name: str, data: Any) -> ibis.Table:
        """Materialise an expression over the canonical tables, a frame, or an iterator of frames (chunks of
        one schema, read one at a time) on the engine that reads them."""
        if self._input is None:
            return self.temp_table(name, data)
        if isinstance(data, ibis.Expr):
            if self._on_input(data):
                # the small in-memory tables in it (the campaign windows) registered first: Spark's cache runs
                # the query's SQL as it is
                self._input._run_pre_execute_hooks(data)
                return data.cache()
            data = data.to_pyarrow()
        # a Spark view of the rows (not an Ibis memtable), so that Spark itself can also write what joins it
        if self._spark.sparkContext.master.startswith("local"):
            # through a Parquet file the driver writes a chunk at a time (its memory does not grow with the rows)
            import pyarrow.parquet as pq

            if self._scratch_dir is None:
                self._scratch_dir = Path(tempfile.mkdtemp(prefix="ltv-spark-tables-"))
            folder = self._scratch_dir / f"{name}-{next(self._scratch_seq)}"
            folder.mkdir()
            failed: list[BaseException] = []
            reader = _arrow_stream(data if isinstance(data, Iterator) else iter([data]), failed)
            try:
                with pq.ParquetWriter(folder / "part-0.parquet", reader.schema) as writer:
                    for batch in reader:
                        writer.write_batch(batch)
            except Exception:
                if failed:
                    raise failed[0] from None
                raise
            self._spark.read.parquet(str(folder)).createOrReplaceTempView(name)
        else:  # a cluster's executors cannot read the driver's disk: the rows go in the plan
            rows = pa.concat_tables(_to_arrow(c) for c in data) if isinstance(data, Iterator) else _to_arrow(data)
            self._spark.createDataFrame(rows).createOrReplaceTempView(name)
        return self._input.table(name)

    def _drop_export(self) -> None:
        import shutil

        for attr in ("_export_dir", "_scratch_dir"):
            if getattr(self, attr) is not None:
                shutil.rmtree(getattr(self, attr), ignore_errors=True)
                setattr(self, attr, None)

    def write_parquet(self, expr: ibis.Table, directory: str | os.PathLike[str]) -> ibis.Table:
        """Write an expression's rows as Parquet under ``directory`` (replaced), by the engine that computes it,
        and return them as a table of that engine. On Spark the executors write the files: no row comes back to
        the driver."""
        out = str(directory).rstrip("/")
        if self._input is None:
            import shutil

            folder = Path(out)
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            data = self._local(expr)
            self.con.execute(f"COPY ({ibis.to_sql(data, dialect='duckdb')}) TO "
                             f"{_sql_path(folder / 'part-0.parquet')} (FORMAT parquet)")
            return self.backend.read_parquet(str(folder / "*.parquet"))
        self._spark.sql(self._input.compile(expr)).write.mode("overwrite").parquet(out)
        return self._input.read_parquet(out)

    def close(self) -> None:
        self._drop_export()
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

    @contextmanager
    def memory_limit(self, limit: str | None, *, setting: str = "memory_limit") -> Iterator[None]:
        """Cap DuckDB's memory at ``limit`` (``"256MB"``) inside the block, then give back the previous cap.

        Only for a workspace file: the engine's work beyond the cap spills to the file's temp directory. An
        in-memory workspace keeps its setting (its own tables count against the cap and cannot spill).
        ``setting`` names where ``limit`` came from in the error for a value that is not a memory size.
        """
        if self.path is None or not limit:
            yield
            return
        def current() -> str:
            return str(self.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])

        previous = current()
        self.con.execute("RESET memory_limit")
        # the setting reads back rounded ("18.8 GiB"): the engine's default is given back exactly by RESET
        restore = "RESET memory_limit" if current() == previous else f"SET memory_limit = {_sql_text(previous)}"
        try:
            self.con.execute(f"SET memory_limit = {_sql_text(str(limit))}")
        except duckdb.Error:
            self.con.execute(restore)
            raise InputError(key="err.memory_size", setting=setting, value=repr(str(limit))) from None
        try:
            yield
        finally:
            self.con.execute(restore)

    # -- metadata -----------------------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        rows = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()  # fetchall: DuckDB 2
        return rows[0][0] if rows else default

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    @property
    def timezone(self) -> str:
        """The shop's wall-clock time zone (order times are stored in it)."""
        return self.meta("timezone") or self.settings().timezone

    def settings(self) -> Settings:
        """The settings for this workspace (environment, secret files, the ltv.toml beside the file)."""
        return load_settings(self.path, toml=self.path is not None)

    def identity_secret(self) -> bytes:
        """Per-workspace secret for keyed hashes of contact data (``LTV_IDENTITY_SECRET`` or its file overrides)."""
        configured = self.settings().secret("identity_secret")
        if configured:
            return configured.encode()
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
            raise MissingDataError(key="err.no_table", name=name)
        return self.backend.table(name)

    def orders(self, *, include_cancelled: bool = True) -> ibis.Table:
        """Canonical order lines as an Ibis table (optionally without cancelled lines)."""
        t = self.input_backend.table("order_lines")
        if self._products_with_categories() and self._input_has("products"):
            # one category per product: the products table's (set by `ltv products import`, else the latest the
            # source gave), the line's own where the product has none
            p = self.input_backend.table("products")
            p = p.filter(p.category.notnull()).select(_p_sku=p.sku, _p_category=p.category)
            j = t.left_join(p, t.sku == p._p_sku)
            t = j.select(*[j._p_category.coalesce(j.category).name("category") if c == "category" else j[c]
                           for c in t.columns])
        return t if include_cancelled else t.filter(t.status != "cancelled")

    def _products_with_categories(self) -> bool:
        return bool(self.con.execute(
            "SELECT count(*) FROM products WHERE category IS NOT NULL").fetchall()[0][0])

    def require_orders(self) -> None:
        """Raise :class:`MissingDataError` when no order has been imported yet."""
        n = self.con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0]  # fetchall: DuckDB 2 blocks Ibis after a partly read result
        if n == 0:
            raise MissingDataError(key="err.no_orders")

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

    def update_products(self, data: Any) -> int:
        """Set ``category`` and ``unit_cost`` of known SKUs from a frame with ``sku`` and either column.

        Returns the number of products updated (SKUs not in the products table are ignored).
        """
        table = _to_arrow(data)
        cols = [c for c in ("category", "unit_cost") if c in table.column_names]
        if "sku" not in table.column_names or not cols:
            raise InputError("A product file needs a sku column and a category or unit_cost column.")
        sets = ", ".join(f"{c} = i.{c}" for c in cols)
        with self.transaction() as con:
            con.register("_incoming_products", table)
            try:
                n = con.execute(f"UPDATE products SET {sets} FROM _incoming_products i "
                                "WHERE products.sku = i.sku").fetchall()[0][0]
            finally:
                con.unregister("_incoming_products")
        return int(n)

    def upsert_products(self, data: Any) -> dict[str, int]:
        """Write a product catalogue: ``sku`` plus any of ``product_name``, ``category``, ``unit_cost``,
        ``list_price``; return ``{"updated": n, "added": m}``.

        Known SKUs get the given values (an empty cell keeps what the workspace had); SKUs not seen yet are
        added, so a catalogue may come before the orders. A product's ``category`` is the category every
        analysis sees for its order lines (:meth:`orders`), and its ``unit_cost`` the cost of goods of lines
        that carry no cost of their own.
        """
        self._writable()
        table = _to_arrow(data)
        fields = ("product_name", "category", "unit_cost", "list_price")
        cols = [c for c in fields if c in table.column_names]
        if "sku" not in table.column_names or not cols:
            raise InputError(key="err.products_no_values", file="products")
        types = {"sku": pa.string(), "product_name": pa.string(), "category": pa.string(),
                 "unit_cost": pa.int64(), "list_price": pa.int64()}
        table = pa.table({c: table[c].cast(types[c]) for c in ("sku", *cols)})
        sets = ", ".join(f"{c} = COALESCE(i.{c}, products.{c})" for c in cols)
        names = ", ".join(cols)
        with self.transaction() as con:
            con.register("_incoming_products", table)
            try:
                con.execute("CREATE OR REPLACE TEMP TABLE _products_in AS SELECT * FROM _incoming_products "
                            "WHERE sku IS NOT NULL QUALIFY row_number() OVER (PARTITION BY sku) = 1")
                updated = con.execute(f"UPDATE products SET {sets} FROM _products_in i "
                                      "WHERE products.sku = i.sku").fetchall()[0][0]
                added = con.execute(f"INSERT INTO products (sku, {names}) SELECT sku, {names} FROM _products_in "
                                    "WHERE sku NOT IN (SELECT sku FROM products)").fetchall()[0][0]
                con.execute("DROP TABLE _products_in")
            finally:
                con.unregister("_incoming_products")
        return {"updated": int(updated), "added": int(added)}

    # -- runs and results ---------------------------------------------------------------------------------
    def start_run(self, kind: str, *, as_of: dt.date | None = None, params: dict[str, Any] | None = None,
                  details: dict[str, Any] | None = None) -> int:
        """Record a run (what was computed, as of which day, with which parameters) and return its id."""
        self._writable()
        run_id = self.con.execute("SELECT nextval('run_id_seq')").fetchall()[0][0]
        self.con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, current_timestamp::TIMESTAMP, ?)",
            [run_id, kind, as_of, _params_json(params), _params_json(details), __version__])
        return int(run_id)

    def write_result(self, name: str, data: Any, *, kind: str = "", as_of: dt.date | None = None,
                     params: dict[str, Any] | None = None, run_id: int | None = None) -> str:
        """Store a result table under a run and make it the latest ``result_<name>``; return that name.

        ``data`` is a pandas or polars DataFrame, a pyarrow Table or an Ibis expression of this workspace, or an
        iterator of pyarrow Tables of one schema (chunks, stored in their order as they come, so only one chunk
        need exist at a time). Without ``run_id`` a new run of ``kind`` is recorded. Each run keeps its own rows
        (read an older one with ``read_result(name, run_id=...)``); ``result_<name>`` is a view of the latest
        run's rows.
        """
        self._writable()
        base = _result_name(name)
        if run_id is None:
            run_id = self.start_run(kind or base[len(_RESULT_PREFIX):], as_of=as_of, params=params)
        physical = _run_table(base, run_id)
        data = self._local(data)
        failed: list[BaseException] = []
        expr = isinstance(data, ibis.Expr)
        stream = isinstance(data, Iterator)
        if not expr:
            self.con.register("_result_in", _arrow_stream(data, failed) if stream else _to_arrow(data))
        try:
            with self.transaction() as con:
                sql = ibis.to_sql(data, dialect="duckdb") if expr else "SELECT * FROM _result_in"
                con.execute(f'CREATE OR REPLACE TABLE "{physical}" AS {sql}')
                rows = con.execute(f'SELECT count(*) FROM "{physical}"').fetchall()[0][0]
                con.execute("INSERT OR REPLACE INTO run_results VALUES (?, ?, ?, ?)", [run_id, base, physical, rows])
                self._point_view(con, base)
        except duckdb.Error:
            if failed:  # the chunks' own error, not the engine's report of it
                raise failed[0] from None
            raise
        finally:
            if not expr:
                self.con.unregister("_result_in")
        return base

    @staticmethod
    def _point_view(con: duckdb.DuckDBPyConnection, base: str) -> None:
        latest = con.execute("SELECT table_name FROM run_results WHERE result = ? ORDER BY run_id DESC LIMIT 1",
                             [base]).fetchall()
        if latest:
            con.execute(f'CREATE OR REPLACE VIEW "{base}" AS SELECT * FROM "{latest[0][0]}"')
        else:
            con.execute(f'DROP VIEW IF EXISTS "{base}"')

    def read_result(self, name: str, *, run_id: int | None = None) -> ibis.Table:
        """A stored result as an Ibis table: the latest run's rows, or those of ``run_id``."""
        base = _result_name(name)
        if run_id is None:
            return self.table(base)
        rows = self.con.execute("SELECT table_name FROM run_results WHERE result = ? AND run_id = ?",
                                [base, run_id]).fetchall()
        if not rows:
            raise MissingDataError(key="err.run_missing_result", run_id=run_id, result=base)
        return self.backend.table(rows[0][0])

    def has_result(self, name: str) -> bool:
        return self.has_table(_result_name(name))

    def result_run(self, name: str, *, as_of: dt.date | None = None,
                   params: dict[str, Any] | None = None) -> Run | None:
        """The latest run that stored ``name`` (optionally only one as of ``as_of`` with exactly ``params``)."""
        self._require_runs()
        sql = ("SELECT r.run_id, r.kind, r.as_of, r.params, r.details, r.created_at, r.code_version, x.result, x.row_count "
               "FROM runs r JOIN run_results x USING (run_id) WHERE x.result = ?")
        args: list[Any] = [_result_name(name)]
        if as_of is not None:
            sql += " AND r.as_of = ?"
            args.append(as_of)
        if params is not None:
            sql += " AND r.params = ?"
            args.append(_params_json(params))
        rows = self.con.execute(sql + " ORDER BY r.run_id DESC LIMIT 1", args).fetchall()
        return Run.from_row(rows[0]) if rows else None

    def runs(self, *, kind: str | None = None) -> list[Run]:
        """Every stored result with its run, newest first (one entry per run and result)."""
        self._require_runs()
        sql = ("SELECT r.run_id, r.kind, r.as_of, r.params, r.details, r.created_at, r.code_version, x.result, x.row_count "
               "FROM runs r LEFT JOIN run_results x USING (run_id)")
        args: list[Any] = []
        if kind is not None:
            sql += " WHERE r.kind = ?"
            args.append(kind)
        return [Run.from_row(r) for r in self.con.execute(sql + " ORDER BY r.run_id DESC, x.result", args).fetchall()]

    def prune_runs(self, keep: int) -> list[int]:
        """Keep the newest ``keep`` runs of each result; drop the rows of older ones. Return the runs removed.

        The latest run of every result is always kept (``keep`` must be at least 1).
        """
        self._writable()
        if keep < 1:
            raise InputError(key="err.prune_keep")
        with self.transaction() as con:
            old = con.execute(
                "SELECT run_id, result, table_name FROM (SELECT *, row_number() OVER "
                "(PARTITION BY result ORDER BY run_id DESC) AS k FROM run_results) WHERE k > ?", [keep]).fetchall()
            for run_id, result, table_name in old:
                con.execute(f'DROP TABLE IF EXISTS "{table_name}"')
                con.execute("DELETE FROM run_results WHERE run_id = ? AND result = ?", [run_id, result])
            gone = [r[0] for r in con.execute(
                "SELECT run_id FROM runs WHERE run_id NOT IN (SELECT run_id FROM run_results) ORDER BY 1").fetchall()]
            con.execute("DELETE FROM runs WHERE run_id NOT IN (SELECT run_id FROM run_results)")
        return gone

    def _require_runs(self) -> None:
        if self.read_only and not self.has_table("runs"):
            raise StoreError(key="err.workspace_needs_upgrade", path=str(self.path))

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(key="err.workspace_read_only", path=str(self.path))

    # -- queries the pipeline and the report need ---------------------------------------------------------
    def last_order_date(self) -> dt.date | None:
        """The last date of a valid (status ``ordered``) order, ``None`` when there is none."""
        value = self.con.execute(
            "SELECT max(order_date) FROM order_lines WHERE status = 'ordered'").fetchall()[0][0]
        return value

    def first_order_date(self) -> dt.date | None:
        """The first order date of any status."""
        return self.con.execute("SELECT min(order_date) FROM order_lines").fetchall()[0][0]

    def products_with_rows(self) -> ibis.Table | None:
        """The products table when it holds rows (for per-SKU costs), else ``None``."""
        n = self.con.execute("SELECT count(*) FROM products").fetchall()[0][0]
        if not n or not self._input_has("products"):
            return None
        return self.input_backend.table("products") if self._input is not None else self.table("products")

    def on_engine(self, name: str, table: ibis.Table) -> ibis.Table:
        """``table`` where the canonical tables are read, so that the two can be joined: as it is on DuckDB; on
        Spark a stored result (a table of this file) is copied into a view ``name`` of the session."""
        if self._input is None or self._on_input(table):
            return table
        return self.engine_table(name, table)

    def _on_input(self, expr: ibis.Expr) -> bool:
        try:
            return expr._find_backend(use_default=False) is self._input
        except Exception:  # an expression of in-memory tables only: no backend of its own
            return False

    def _input_has(self, name: str) -> bool:
        """Whether the engine that reads the canonical tables has ``name`` (a Parquet folder may lack products)."""
        return self._input is None or name in self._input.list_tables()

    def product_names(self, skus: list[str]) -> dict[str, tuple[str | None, str | None]]:
        """Latest product name and the category per SKU (the products table's, else the order lines')."""
        if not skus:
            return {}
        frame = pa.table({"sku": pa.array(list(dict.fromkeys(skus)), pa.string())})
        self.con.register("_report_skus", frame)
        try:
            rows = self.con.execute(
                """
                SELECT o.sku, arg_max(o.product_name, o.ordered_at),
                       COALESCE(any_value(p.category), arg_max(o.category, o.ordered_at))
                FROM order_lines o JOIN _report_skus s ON o.sku = s.sku LEFT JOIN products p ON o.sku = p.sku
                GROUP BY o.sku
                """
            ).fetchall()
        finally:
            self.con.unregister("_report_skus")
        return {r[0]: (r[1], r[2]) for r in rows}

    def order_ids_and_keys(self) -> pd.DataFrame:
        """Distinct ``(order_id, customer_key)`` pairs of the order lines."""
        return self.con.execute("SELECT DISTINCT order_id, customer_key FROM order_lines").df()

    def temp_table(self, name: str, data: Any) -> ibis.Table:
        """Materialise an Ibis expression or a frame as a temporary table of this connection."""
        data = self._local(data)
        if isinstance(data, ibis.Expr):
            self.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {ibis.to_sql(data, dialect="duckdb")}')
        else:
            failed: list[BaseException] = []
            self.con.register("_temp_in", _arrow_stream(data, failed) if isinstance(data, Iterator)
                              else _to_arrow(data))
            try:
                self.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * FROM _temp_in')
            except duckdb.Error:
                if failed:  # making a chunk failed: that error, not the engine's report of it
                    raise failed[0] from None
                raise
            finally:
                self.con.unregister("_temp_in")
        return self.backend.table(name)

    def _local(self, data: Any) -> Any:
        """An expression of another engine (Spark) as an Arrow table: its rows come back to be stored here."""
        if self._input is not None and isinstance(data, ibis.Expr) and self._on_input(data):
            return data.to_pyarrow()
        if isinstance(data, ibis.Expr):
            # small in-memory tables in the expression (the campaign windows) are registered on this connection
            # before its SQL runs there, as Ibis does before it executes an expression
            self.backend._run_pre_execute_hooks(data)
        return data

    def frames(self, expr: ibis.Table, *, rows: int = 100_000) -> Iterator[pd.DataFrame]:
        """``expr`` (a table of this workspace) as DataFrames of at most ``rows`` rows each, in its order, read
        from the engine one batch at a time (never all at once)."""
        cur = self.con.execute(ibis.to_sql(expr, dialect="duckdb"))
        # DuckDB 2 names the streaming reader to_arrow_reader; 1.x fetch_record_batch
        reader = cur.to_arrow_reader(rows) if hasattr(cur, "to_arrow_reader") else cur.fetch_record_batch(rows)
        for batch in reader:
            if batch.num_rows:
                yield batch.to_pandas()

    def drop_temp_table(self, name: str) -> None:
        self.con.execute(f'DROP TABLE IF EXISTS "{name}"')

    # -- import and info ----------------------------------------------------------------------------------
    def order_date_range(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and last order dates in the store (``None`` when it holds no orders)."""
        first, last = self.con.execute("SELECT min(order_date), max(order_date) FROM order_lines").fetchall()[0]
        return first, last

    def quarantine_rows(self, *, import_id: int | None = None, history: bool = False) -> pd.DataFrame:
        """Quarantined rows with their import's path, content hash and time, in file order.

        Default: the current quarantine (the latest import of each path); ``import_id``: that import's rows;
        ``history``: every import's rows.
        """
        where, args = "TRUE", []
        if import_id is not None:
            where, args = "q.import_id = ?", [int(import_id)]
        elif not history:
            where = f"q.import_id IN ({_LATEST_IMPORTS})"
        return self.con.execute(
            "SELECT q.import_id, l.started_at AS imported_at, COALESCE(l.file_path, l.file_name) AS path, "
            "l.content_hash, q.file, q.line_number, q.column_name, q.value, q.reason FROM quarantine q "
            f"LEFT JOIN import_log l USING (import_id) WHERE {where} ORDER BY q.import_id, q.file, q.line_number",
            args).df()

    def info(self) -> dict[str, Any]:
        """Counts, date range and sources of the order store (``quarantined``: the current quarantine)."""
        q = self.con.execute
        counts = {
            "orders": q("SELECT count(*) FROM (SELECT DISTINCT source, order_id FROM order_lines)").fetchall()[0][0],
            "order_lines": q("SELECT count(*) FROM order_lines").fetchall()[0][0],
            "customers": q("SELECT count(DISTINCT customer_key) FROM order_lines").fetchall()[0][0],
            "products": q("SELECT count(DISTINCT sku) FROM order_lines").fetchall()[0][0],
            "quarantined": q(f"SELECT count(*) FROM quarantine WHERE import_id IN ({_LATEST_IMPORTS})").fetchall()[0][0],
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


def _sql_path(path: Path) -> str:
    return _sql_text(str(path))


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _arrow_stream(chunks: Iterator[Any], failed: list[BaseException]) -> pa.RecordBatchReader:
    """The chunks (Arrow tables or frames of one schema) as a stream the engine reads one at a time; an error
    raised while making a chunk is put in ``failed``."""
    first = next(chunks, None)
    if first is None:
        raise InputError("Nothing to store: no chunk of rows came.")
    first = _to_arrow(first)
    schema = first.schema

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal first
        try:
            yield from first.to_batches()
            first = None
            for chunk in chunks:
                yield from _to_arrow(chunk).to_batches()
        except BaseException as exc:
            failed.append(exc)
            raise

    return pa.RecordBatchReader.from_batches(schema, batches())


def _to_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if hasattr(data, "to_arrow"):  # polars
        return data.to_arrow()
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise TypeError(f"Cannot store a {type(data).__name__} as a result table.")

"""The import pipeline shared by every reader: stage, normalise, validate, quarantine, allocate, upsert.

Everything after staging is SQL run by DuckDB inside one transaction per import, so a large file is never walked
row by row in Python and a failure or a killed process leaves the workspace as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ..exceptions import InputError, MappingError, StoreError, UnknownFormatError
from ..store.schema import ORDER_LINES
from ._csv import (
    broken_quote_lines,
    count_newlines,
    lines_at_offsets,
    norm_header,
    record_start_lines,
    sql_double_from,
    sql_int_from,
    sql_literal,
    sql_money_from,
    sql_text,
    sql_timestamp,
)
from ._reader import MONEY_FIELDS, Reader
from ._staging import Staged, combined_hash, sniff, stage_file
from ._tempdir import import_tempdir
from .generic import GENERIC, load_mapping, reader_from_mapping
from .identity import sql_customer_keys, sql_identity_material
from .quarantine import REASONS, first_reasons, reason_case
from .registry import detect_reader, get_reader
from .yahoo import file_role

if TYPE_CHECKING:
    from ..store import Workspace

__all__ = ["ImportResult", "import_orders"]

_LINE_COLS = [c.name for c in ORDER_LINES]
_COMPARE_COLS = [c for c in _LINE_COLS if c not in ("source", "order_id", "line_no", "import_id")]
_REQUIRED = ("order_id", "ordered_at", "quantity")
_SELF_JOIN_MAX_LINES = 32  # larger orders rank their lines with windows
_MAX_AMOUNT = 10**15  # yen; larger amounts are quarantined (sums over lines then fit in BIGINT)


@dataclass
class ImportResult:
    """What one import did.

    Attributes
    ----------
    file, preset, source, encoding
        The file name(s), the reader used, the ``source`` written on the lines, and the detected encoding.
    rows_read
        Data rows found in the file(s).
    imported, updated, unchanged
        Lines new to the workspace, lines that existed and changed (e.g. now cancelled), lines already identical.
    quarantined
        Rows not imported; see the ``quarantine`` table and ``first_reasons``.
    first_reasons
        The first quarantined rows (file, line, column, value, reason).
    import_id
        Key of the ``import_log`` row.
    """

    file: str
    preset: str
    source: str
    encoding: str | None
    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    first_reasons: list[dict[str, Any]] = field(default_factory=list)
    import_id: int = 0

    @property
    def valid_rows(self) -> int:
        return self.imported + self.updated + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _paths(path_or_paths: Any) -> list[Path]:
    if isinstance(path_or_paths, (str, os.PathLike)):
        return [Path(path_or_paths)]
    paths = [Path(p) for p in path_or_paths]
    if not paths:
        raise InputError("Give at least one file to import.")
    return paths


def import_orders(ws: Workspace, path_or_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                  preset: str = "auto", *, source: str | None = None, mapping: Any = None,
                  keep_contacts: bool = False, strict: bool = False, timezone: str | None = None) -> ImportResult:
    """Import an order export (or a Yahoo order file + item file) into the workspace in one transaction.

    Parameters
    ----------
    ws
        The workspace.
    path_or_paths
        One file, or two files for Yahoo (order file and item file, in any order).
    preset
        ``auto`` (detected from the header), ``rakuten``, ``yahoo``, ``shopify``, ``amazon``, ``next-engine`` or
        ``generic``.
    source
        Name written in ``source`` (default: the preset's, e.g. ``rakuten``); use it to keep two shops apart.
    mapping
        YAML file (or dict) mapping canonical fields to the file's columns; implies ``generic`` for ``auto``.
    keep_contacts
        Also store buyer name, e-mail, phone and address in the ``contacts`` table.
    strict
        Import nothing when any row would be quarantined (the quarantine rows are still recorded).
    timezone
        Time zone of times written without an offset (default: the preset's, else the workspace's).

    Returns
    -------
    ImportResult

    Examples
    --------
    >>> from ltvkit import Workspace
    >>> ws = Workspace()
    >>> result = import_orders(ws, "rakuten_202401.csv")  # doctest: +SKIP
    >>> result.imported, result.quarantined  # doctest: +SKIP
    (1520, 3)
    """
    paths = _paths(path_or_paths)
    if len(paths) > 2:
        raise InputError("Import one file at a time (two only for a Yahoo order file + item file).")
    mapping_dict = load_mapping(mapping)
    opts = mapping_dict or {}
    infos = [sniff(p, encoding=opts.get("encoding"), delimiter=opts.get("delimiter"), sheet=opts.get("sheet"))
             for p in paths]
    reader = _choose_reader(preset, infos, mapping_dict)
    if len(paths) == 2 and reader.name != "yahoo":
        raise InputError("Two files are accepted only for Yahoo (order file + item file); import other files "
                         "one at a time.")
    return _Import(ws, reader, infos, source=source, keep_contacts=keep_contacts, strict=strict,
                   timezone=timezone).run()


def _choose_reader(preset: str, infos: list[Any], mapping: dict[str, Any] | None) -> Reader:
    name = (preset or "auto").strip().lower()
    if mapping is not None and name in ("auto", "generic"):
        reader = reader_from_mapping(mapping, GENERIC)
    elif name == "auto":
        heads = [{h for h in i.norm_headers if h} for i in infos]
        if len(infos) == 2:
            roles = {file_role(h) for h in heads}
            if roles != {"order", "item"}:
                raise InputError("Two files are accepted only for Yahoo: one order file (OrderId, OrderTime …) and "
                                 "one item file (OrderId, ItemId, Quantity, UnitPrice …).")
            return get_reader("yahoo")
        reader = detect_reader(heads[0], infos[0].path.name)
    else:
        reader = get_reader(name)
        if mapping is not None:
            reader = reader_from_mapping(mapping, reader)
    return reader


class _Import:
    """One import run (kept as an object so the steps share names and temp tables)."""

    def __init__(self, ws: Workspace, reader: Reader, infos: list[Any], *, source: str | None,
                 keep_contacts: bool, strict: bool, timezone: str | None) -> None:
        self.ws = ws
        self.con = ws.con
        self.reader = reader
        self.infos = infos
        self.source = source or reader.source
        self.keep_contacts = keep_contacts
        self.strict = strict
        self.shop_tz = ws.timezone
        self.naive_tz = timezone or reader.naive_tz or self.shop_tz
        self.tag = "i" + uuid.uuid4().hex[:10]
        self.temps: list[str] = []
        self.staged: list[Staged] = []
        self._orders_without_items: str | None = None
        self.stage_db: str | None = None
        self._rejected = 0
        self._unclosed: list[int] = []  # lines blanked because a quote on them is broken
        self._original_hash: str | None = None
        self._log_paths = " + ".join(str(i.path.resolve()) for i in infos)

    # -- helpers ------------------------------------------------------------------------------------------
    def q(self, sql: str, params: list[Any] | None = None) -> Any:
        return self.con.execute(sql, params or [])

    def temp(self, name: str) -> str:
        full = f"_ltv_{self.tag}_{name}"
        self.temps.append(full)
        return full

    def run(self) -> ImportResult:
        file_label = " + ".join(i.path.name for i in self.infos)
        secret = self.ws.identity_secret()
        self.con.execute("SET enable_progress_bar = false")
        previous_limit = self._bound_memory()
        with import_tempdir() as tmp:
            try:
                started = dt.datetime.now().replace(tzinfo=None)
                exprs, names, main = self._prepare(tmp, secret)
                with self.ws.transaction():
                    result = self._run(exprs, names, main, file_label, secret, started)
            except duckdb.Error as exc:
                raise StoreError(f"Import of {file_label} failed and nothing was written: "
                                 f"{str(exc).splitlines()[0]}") from exc
            finally:
                self._drop_temps()
                if previous_limit is not None:
                    self.con.execute(f"SET memory_limit = {sql_literal(previous_limit)}")
        return result

    def _bound_memory(self) -> str | None:
        """Cap DuckDB's memory during the import of a file workspace (``LTV_IMPORT_MEMORY``, default 2GB).

        Temp tables then spill to the workspace's temp directory, so peak memory does not grow with the
        size of the export. In-memory workspaces keep their setting (they cannot spill their own data).
        """
        if self.ws.path is None:
            return None
        limit = self.ws.settings().import_memory
        previous = self.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        try:
            self.con.execute(f"SET memory_limit = {sql_literal(limit)}")
        except duckdb.Error:
            raise InputError(key="err.memory_size", setting="LTV_IMPORT_MEMORY", value=repr(str(limit))) from None
        return previous

    def _drop_temps(self) -> None:
        for t in self.temps:
            try:
                self.con.execute(f"DROP TABLE IF EXISTS {t}")
            except duckdb.Error:
                pass
            try:
                self.con.execute(f"DROP VIEW IF EXISTS {t}")
            except duckdb.Error:
                pass
        for s in self.staged:
            for name in (s.rejects, s.rejects and s.rejects + "_scan"):
                if name:
                    try:
                        self.con.execute(f"DROP TABLE IF EXISTS {name}")
                    except duckdb.Error:
                        pass
            if s.relation.startswith("_ltv_"):
                try:
                    self.con.execute(f"DROP TABLE IF EXISTS {s.relation}")
                except duckdb.Error:
                    pass
        if self.stage_db is not None:
            try:
                self.con.execute(f"DETACH {self.stage_db}")
            except duckdb.Error:
                pass

    # -- the steps ----------------------------------------------------------------------------------------
    def _prepare(self, tmp: Path, secret: bytes) -> tuple[dict[str, str], dict[str, str], Staged]:
        """Stage the file(s) and write the canonical rows to a staging database in ``tmp``.

        The staging database is a file of its own, outside the workspace and its transaction: its tables are
        stored compressed, so a large export does not fill the memory cap and push every later step to disk,
        and the workspace file does not grow by the size of the staging rows.
        """
        relation, cols, headers, main, extra_checks = self._stage(tmp)
        exprs, names = self.reader.resolve(cols, headers)
        self._refuse_duplicated_headers(exprs)
        if "_o_rec" in cols:
            exprs["_o_rec"] = cols["_o_rec"]
        self._check_required(exprs, names, main)
        self.stage_db = f"_ltv_stage_{self.tag}"
        self.q(f"ATTACH {sql_literal(str(tmp / 'stage.duckdb'))} AS {self.stage_db}")
        canon_t, self.canon = f"{self.stage_db}.canon", self.temp("canon")
        self.has_rec = main.has_rec
        self.q(f"CREATE TABLE {canon_t} AS {self._canonical_sql(relation, exprs, names, secret, extra_checks)}")
        if self._skip_unclosed_quotes(main, tmp):
            self.q(f"DETACH {self.stage_db}")
            (tmp / "stage.duckdb").unlink(missing_ok=True)
            self._drop_temps()
            self.temps, self.staged = [], []
            return self._prepare(tmp, secret)
        # rows are stored in file order, so a plain CSV scan's record index is the rowid
        self.rowid_base = 0 if self.has_rec else self.q(f"SELECT COALESCE(min(rowid), 0) FROM {canon_t}").fetchall()[0][0]
        rec = "" if self.has_rec else f"rowid - {self.rowid_base} AS _rec, "
        self.q(f"CREATE TEMP VIEW {self.canon} AS SELECT {rec}* FROM {canon_t}")
        if "line_no" in exprs:
            self._flag_duplicates(canon_t, self.canon)
        self._flag_conflicts(canon_t, self.canon)
        self._keep_previous_orders(main)
        return exprs, names, main

    def _skip_unclosed_quotes(self, main: Staged, tmp: Path) -> bool:
        """Blank the lines whose quote is broken, and stage the file again (True) when there are any.

        A quote never closed makes the CSV reader read to the end of the file and reject it all as one record, so
        every row after it would be lost without a word; a quoted value followed by text (``"a"b``) makes it
        resynchronise on its own terms and can yield an invented record. The line is blanked in a copy (line numbers stay) and quarantined;
        the rows after it import. Only single CSV files read in one piece (UTF-8, or one transcoded part).
        """
        if (len(self.infos) != 1 or main.info.kind != "csv" or not main.rejects or len(main.parts or [None]) != 1
                or self._unclosed):
            return False
        try:
            found = self.q(f"SELECT DISTINCT line_byte_position FROM {main.rejects} "
                           f"WHERE error_message ILIKE '%unterminated quote%'").fetchall()
        except duckdb.Error:
            return False
        if not found:
            return False
        read = Path(main.parts[0]) if main.parts else main.info.path
        # the engine's byte position of such an error can point at the line before it: the strict reader decides
        lines = (broken_quote_lines(read, main.info.delimiter)
                 or sorted(set(lines_at_offsets(read, [int(r[0]) for r in found]))))
        original = main.info.path
        repaired = tmp / "unclosed" / original.name
        repaired.parent.mkdir(exist_ok=True)
        with open(original, "rb") as fin, open(repaired, "wb") as fout:
            for number, raw in enumerate(fin, start=1):
                if number in lines:
                    raw = raw[len(raw.rstrip(b"\r\n")):]  # keep only the line end
                fout.write(raw)
        self._unclosed = lines
        self._original_hash = main.content_hash
        self.infos = [replace(self.infos[0], path=repaired)]
        return True

    def _refuse_duplicated_headers(self, exprs: dict[str, str]) -> None:
        """Refuse a file that names a column it needs twice: which of the two holds the value is unknowable."""
        import re

        used = set(re.findall(r"\b\w+_c\d+\b", " ".join(exprs.values())))
        for s in self.staged:
            seen: dict[str, str] = {}
            for h in s.info.headers:
                key = norm_header(h)
                if key and key in seen and s.cols.get(key, "").split(".")[-1] in used:
                    raise UnknownFormatError(
                        f"{s.name} has the column {h!r} twice, so which one holds the value is unknown; "
                        f"remove or rename one of them and import again.")
                seen[key] = h

    def _run(self, exprs: dict[str, str], names: dict[str, str], main: Staged, file_label: str, secret: bytes,
             started: dt.datetime) -> ImportResult:
        import_id = self.q("SELECT nextval('import_id_seq')").fetchall()[0][0]
        canon = self.canon
        # the quarantine describes the latest import of each file
        quarantined = self._quarantine(canon, names, import_id, main, file_label)
        rows_read = self.q(f"SELECT count(*) FROM {canon}").fetchall()[0][0] + self._rejected
        result = ImportResult(file=file_label, preset=self.reader.name, source=self.source,
                              encoding=main.encoding, rows_read=rows_read, quarantined=quarantined,
                              import_id=import_id)
        if not (self.strict and quarantined):
            self.keys = self.temp("keys")
            # one row per distinct identity material, with the latest prefecture seen for it
            materials = self.temp("kmat")
            pref = (", arg_max(prefecture, ordered_at) FILTER (WHERE prefecture IS NOT NULL) AS pref, "
                    "max(ordered_at) FILTER (WHERE prefecture IS NOT NULL) AS pref_at") if "prefecture" in exprs else ""
            self.q(f"CREATE TEMP TABLE {materials} AS SELECT _kmat AS m{pref} FROM {canon} WHERE _q IS NULL GROUP BY _kmat")
            self.q(f"CREATE TEMP TABLE {self.keys} AS {sql_customer_keys(secret, materials)}")
            final = self._allocate(canon, exprs)
            self._upsert(final, canon, result, import_id)
            self._refresh_customers(materials if "prefecture" in exprs else None)
            self._refresh_products()
            if self.keep_contacts:
                self._store_contacts(canon, exprs)
        result.first_reasons = first_reasons(self.con, import_id)
        status = "strict-rejected" if self.strict and quarantined else "done"
        path = self._log_paths
        if self._original_hash is not None:
            self.staged[0].content_hash = self._original_hash
        self.q("INSERT INTO import_log (import_id, file_name, content_hash, preset, source, encoding, started_at, "
               "finished_at, rows_read, imported, updated, unchanged, quarantined, status, file_path) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [import_id, file_label, combined_hash(self.staged), self.reader.name, self.source, main.encoding,
                started, dt.datetime.now(), rows_read, result.imported, result.updated, result.unchanged, quarantined,
                status, path])
        return result

    def _stage(self, tmp: Path) -> tuple[str, dict[str, str], dict[str, str], Staged, list[tuple[str, str, str]]]:
        if len(self.infos) == 1:
            s = stage_file(self.con, self.infos[0], tag=self.tag, tmpdir=tmp,
                           materialise=bool(self.reader.fill_within_order))
            self.staged = [s]
            return s.relation, s.cols, s.headers, s, []
        # Yahoo: order file + item file, materialised and joined on OrderId
        roles = {file_role({h for h in i.norm_headers if h}): i for i in self.infos}
        if set(roles) != {"order", "item"}:
            raise InputError("For Yahoo give one order file (OrderId, OrderTime …) and one item file "
                             "(OrderId, ItemId, Quantity, UnitPrice …).")
        o = stage_file(self.con, roles["order"], tag=self.tag + "o", tmpdir=tmp, materialise=True)
        i = stage_file(self.con, roles["item"], tag=self.tag + "i", tmpdir=tmp, materialise=True)
        self.staged = [i, o]
        oid_o, oid_i = o.cols[norm_header("OrderId")], i.cols[norm_header("OrderId")]
        ocols = ", ".join(c for c in o.cols.values())
        relation = (f"(SELECT it.*, od._rec AS _o_rec, {', '.join('od.' + c for c in o.cols.values())} "
                    f"FROM {i.relation} it LEFT JOIN (SELECT _rec, {ocols} FROM {o.relation} "
                    f"QUALIFY row_number() OVER (PARTITION BY TRIM({oid_o}) ORDER BY _rec) = 1) od "
                    f"ON TRIM(it.{oid_i}) = TRIM(od.{oid_o}))")
        cols = {**o.cols, **i.cols, "_o_rec": "_o_rec"}
        headers = {**o.headers, **i.headers}
        self._orders_without_items = (
            f"SELECT {sql_literal(o.name)}, _rec + 2, {sql_literal(o.headers[norm_header('OrderId')])}, "
            f"TRIM({oid_o}), {REASONS['order_without_items'].code} FROM {o.relation} od WHERE TRIM({oid_o}) <> '' "
            f"AND NOT EXISTS (SELECT 1 FROM {i.relation} it WHERE TRIM(it.{oid_i}) = TRIM(od.{oid_o})) "
            # a repeated order row: the first one is joined to the items, the others are quarantined
            f"UNION ALL SELECT {sql_literal(o.name)}, _rec + 2, {sql_literal(o.headers[norm_header('OrderId')])}, "
            f"TRIM({oid_o}), {REASONS['duplicate_order_row'].code} FROM {o.relation} WHERE TRIM({oid_o}) <> '' "
            f"QUALIFY row_number() OVER (PARTITION BY TRIM({oid_o}) ORDER BY _rec) > 1")
        return relation, cols, headers, i, [("_o_rec IS NULL", "orphan_item", "order_id")]

    def _check_required(self, exprs: dict[str, str], names: dict[str, str], main: Staged) -> None:
        missing = [f for f in _REQUIRED if f not in exprs]
        if "unit_price" not in exprs and "line_amount" not in exprs:
            missing.append("unit_price")
        if "sku" not in exprs and "product_name" not in exprs:
            missing.append("sku")
        if missing:
            wanted = []
            for f in missing:
                alts = self.reader.fields.get(f, (f,))
                first = alts[0] if alts else f
                wanted.append(first if isinstance(first, str) else "+".join(first))
            raise MappingError(
                f"{main.name} lacks the column(s) {', '.join(wanted)} that preset {self.reader.name} needs "
                f"(for {', '.join(missing)}); check --preset, or map them with --preset generic --mapping map.yaml.")

    def _canonical_sql(self, relation: str, exprs: dict[str, str], names: dict[str, str], secret: bytes,
                       extra_checks: list[tuple[str, str, str]]) -> str:
        r = self.reader
        has = exprs.__contains__
        # t0: raw text of every field the file carries
        t0 = ", ".join(f"{e} AS f_{k}" for k, e in exprs.items())
        rec = "_rec, " if self.has_rec else ""
        sql = f"WITH t0 AS (SELECT {rec}{t0} FROM {relation})"
        src = "t0"
        fill = [f for f in r.fill_within_order if has(f) and f != "order_id"]
        if fill and has("order_id"):
            repl = ", ".join(f"first_value(f_{f} IGNORE NULLS) OVER w AS f_{f}" for f in fill)
            sql += (f", t1 AS (SELECT * REPLACE ({repl}) FROM t0 WINDOW w AS (PARTITION BY f_order_id ORDER BY _rec "
                    f"ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))")
            src = "t1"
        numeric = [f for f in ("quantity", "unit_price", "line_amount", *MONEY_FIELDS, "point_rate", "cost",
                               "delivery_count", "line_no") if has(f)]
        # t3: typed values and the customer identity material
        abs_money = set(r.extra.get("abs_money", ()))  # type: ignore[arg-type]
        typed: dict[str, str] = {}
        typed["order_id"] = sql_text("f_order_id") if has("order_id") else "NULL"
        typed["source"] = (f"COALESCE({sql_text('f_source')}, {sql_literal(self.source)})" if has("source")
                           else sql_literal(self.source))
        typed["ordered_at"] = (sql_timestamp("f_ordered_at", shop_tz=self.shop_tz, naive_tz=self.naive_tz)
                               if has("ordered_at") else "NULL")
        typed["quantity"] = f"TRY_CAST({sql_int_from('f_quantity')} AS INTEGER)" if has("quantity") else "NULL"
        qty = "quantity"
        if has("unit_price"):
            typed["unit_price"] = sql_money_from("f_unit_price")
        if has("line_amount"):
            typed["line_amount"] = sql_money_from("f_line_amount")
        for f in MONEY_FIELDS:
            if has(f):
                m = sql_money_from(f"f_{f}")
                typed[f] = f"CASE WHEN {m} = -99999 THEN 0 ELSE {'abs(' + m + ')' if f in abs_money else m} END"
        if has("point_rate"):
            typed["point_rate"] = sql_double_from("f_point_rate")
        if has("cost"):
            typed["cost"] = sql_money_from("f_cost")
        if has("delivery_count"):
            typed["delivery_count"] = f"TRY_CAST({sql_int_from('f_delivery_count')} AS INTEGER)"
        if has("line_no"):
            typed["line_no_x"] = f"TRY_CAST({sql_int_from('f_line_no')} AS INTEGER)"
        for f in ("product_name", "category", "channel", "subscription_id"):
            if has(f):
                typed[f] = f"f_{f}"
        typed["sku"] = f"COALESCE({'f_sku' if has('sku') else 'NULL'}, {'f_product_name' if has('product_name') else 'NULL'})"
        if has("prefecture"):
            pref = "f_prefecture"
            if r.extra.get("prefecture_from_address"):
                pref = f"NULLIF(regexp_extract({pref}, '^(東京都|北海道|京都府|大阪府|[^都道府県]{{2,3}}県)', 1), '')"
            typed["prefecture"] = pref
        ident = {k: f"f_{k}" if has(k) else None for k in ("customer_id", "email", "name", "phone", "zip")}
        typed["_kmat"] = sql_identity_material(r.identity, ident)
        getter = lambda f: f"f_{f}" if has(f) else None  # noqa: E731
        typed["status"] = r.status(getter) if r.status else _default_status(getter)
        if self.keep_contacts:
            for k in ("name", "email", "phone", "zip", "address"):
                typed[f"c_{k}"] = f"f_{k}" if has(k) else "CAST(NULL AS VARCHAR)"
        keep_raw = ["_rec"] if self.has_rec else []
        if any(s.bad_bytes for s in self.staged):  # a byte that was not UTF-8 in any field read: not this row
            raw = ", ".join(f"f_{k}" for k in exprs)
            keep_raw.append(f"contains(concat_ws('', {raw}), '\ufffd') AS _bad_utf8")
        keep_raw.append("f_order_id" if has("order_id") else "NULL AS f_order_id")
        if has("_o_rec"):
            keep_raw.append("f__o_rec AS _o_rec")
        for f in ("ordered_at", *numeric):
            if has(f):
                keep_raw.append(f"f_{f}")
        sql += f", t3 AS (SELECT {', '.join(keep_raw)}, {', '.join(f'{e} AS {k}' for k, e in typed.items())} FROM {src})"
        # t4: validation -> reason code and offending value
        checks: list[tuple[str, str, str | None]] = []
        if any(s.bad_bytes for s in self.staged):
            checks.append(("_bad_utf8", "invalid_utf8", None))
        checks.append(("order_id IS NULL", "missing_order_id", None))
        for cond, key, col in extra_checks:
            checks.append((cond, key, "f_" + col))
        checks += [("ordered_at IS NULL", "bad_date", "f_ordered_at"),
                   ("year(ordered_at) NOT BETWEEN 1990 AND 2100", "date_out_of_range", "f_ordered_at"),
                   ("quantity IS NULL", "bad_quantity", "f_quantity"),
                   ("quantity < 0", "negative_quantity", "f_quantity")]
        price = "unit_price" if has("unit_price") else "line_amount"
        checks += [(f"{price} IS NULL", "bad_price", f"f_{price}"), (f"{price} < 0", "negative_price", f"f_{price}")]
        if has("unit_price") and has("line_amount"):
            checks.append(("line_amount IS NULL AND f_line_amount IS NOT NULL AND TRIM(f_line_amount) <> ''",
                           "bad_amount", "f_line_amount"))
        for f in (*MONEY_FIELDS, "cost"):
            if has(f):
                checks.append((f"{f} IS NULL AND f_{f} IS NOT NULL AND TRIM(f_{f}) <> ''", "bad_amount", f"f_{f}"))
        # amounts beyond any shop's (10^15 yen) are quarantined, so that the sums over lines fit in 64 bits
        for f in ("unit_price", "line_amount", *MONEY_FIELDS, "cost"):
            if has(f):
                checks.append((f"abs({f}) >= {_MAX_AMOUNT}", "amount_too_large", f"f_{f}"))
        if not has("line_amount"):
            checks.append((f"abs(CAST(unit_price AS HUGEINT) * quantity) >= {_MAX_AMOUNT}", "amount_too_large",
                           "f_unit_price"))
        for f in ("point_rate", "delivery_count"):
            if has(f):
                checks.append((f"{f} IS NULL AND f_{f} IS NOT NULL AND TRIM(f_{f}) <> ''", "bad_number", f"f_{f}"))
        if has("line_no"):
            checks.append(("line_no_x IS NULL OR line_no_x < 1", "bad_line_no", "f_line_no"))
        checks += [("sku IS NULL", "missing_item", None), ("_kmat IS NULL", "missing_customer", None)]
        self._checks = checks
        code = "CASE " + " ".join(f"WHEN {c} THEN {REASONS[k].code}" for c, k, _ in checks) + " END"
        value = "CASE " + " ".join(f"WHEN {c} THEN {v or 'NULL'}" for c, _, v in checks) + " END"
        # HUGEINT: a product beyond 64 bits is quarantined by the check above instead of failing the import
        line_amount = "line_amount" if has("line_amount") else f"TRY_CAST(CAST(unit_price AS HUGEINT) * {qty} AS BIGINT)"
        unit_price = ("unit_price" if has("unit_price")
                      else f"CASE WHEN {qty} > 0 THEN CAST(ROUND(line_amount / {qty}) AS BIGINT) ELSE line_amount END")
        out = [f"CAST({code} AS TINYINT) AS _q", f"CAST({value} AS VARCHAR) AS _qv", *(["_rec"] if self.has_rec else []),
               "source", "order_id",
               "line_no_x" if has("line_no") else "CAST(NULL AS INTEGER) AS line_no_x", "_kmat",
               "ordered_at", "sku", "quantity", f"{unit_price} AS unit_price", f"{line_amount} AS line_amount",
               "status"]
        for f in ("product_name", "category", "channel", "subscription_id", "point_rate", "cost",
                  "delivery_count", "prefecture", *MONEY_FIELDS):
            if f in typed:
                out.append(f)
        if self.keep_contacts:
            out += [f"c_{k}" for k in ("name", "email", "phone", "zip", "address")]
        sql += f" SELECT {', '.join(out)} FROM t3"
        return sql

    def _flag_duplicates(self, table: str, canon: str) -> None:
        rec = "_rec" if self.has_rec else f"rowid - {self.rowid_base}"
        self.q(f"""UPDATE {table} SET _q = {REASONS['duplicate_line'].code}, _qv = CAST(line_no_x AS VARCHAR)
                   WHERE {rec} IN (SELECT _rec FROM {canon} WHERE _q IS NULL QUALIFY row_number() OVER
                   (PARTITION BY source, order_id, line_no_x ORDER BY _rec) > 1)""")

    def _rejected_positions(self, staged: Staged) -> str | None:
        """Temp table of ``v``: for each row the CSV reader rejected, the ``_rec`` the next good row has (None: none)."""
        if hasattr(self, "_rejv"):
            return self._rejv
        self._rejv: str | None = None
        n = 0
        if staged.rejects:
            try:
                n = self.q(f"SELECT count(*) FROM {staged.rejected_sql(self.con)}").fetchall()[0][0]
            except duckdb.Error:
                n = 0
        if n:
            self._rejv = self.temp("rejv")
            self.q(f"CREATE TEMP TABLE {self._rejv} AS SELECT CAST(line AS BIGINT) - 2 - (row_number() OVER "
                   f"(ORDER BY line) - 1) AS v FROM (SELECT DISTINCT line FROM {staged.rejected_sql(self.con)})")
        if self._unclosed:  # a blanked line sits before the record that starts after it
            import numpy as np

            starts = record_start_lines(staged.info.path)
            if self._rejv is None:
                self._rejv = self.temp("rejv")
                self.q(f"CREATE TEMP TABLE {self._rejv} (v BIGINT)")
            for line in self._unclosed:
                self.q(f"INSERT INTO {self._rejv} VALUES (?)", [int(np.searchsorted(starts, line))])
        return self._rejv

    def _line_sql(self, staged: Staged) -> str:
        """SQL for the file line of record ``_rec`` (the header is line 1; rejected rows are counted back in)."""
        rej = self._rejected_positions(staged)
        if rej is None:
            return "_rec + 2"
        return f"_rec + 2 + (SELECT count(*) FROM {rej} WHERE v <= _rec)"

    def _file_lines(self, main: Staged, import_id: int) -> None:
        """Turn the record numbers of this import's quarantine rows into file lines where they differ.

        They differ when a quoted field holds a newline or a blank line is skipped: then the file is scanned once
        (only then, and only when some row was quarantined) for the line where each record starts. Rows the
        CSV reader rejected are placed by their byte offset.
        """
        if main.info.kind != "csv" or (main.encoding or "").startswith("utf-16"):
            return
        rows = self.q("SELECT count(*) FROM quarantine WHERE import_id = ? AND file = ?",
                      [import_id, main.name]).fetchall()[0][0]
        if not rows:
            return
        path = main.info.path
        records = self.q(f"SELECT count(*) FROM {self.canon}").fetchall()[0][0] + self._rejected
        if count_newlines(path) in (records, records + 1):  # one line per record (the last may lack a newline)
            return
        import pyarrow as pa

        malformed = REASONS["malformed_row"].sentence
        starts = record_start_lines(path)
        table = pa.table({"rec": pa.array(range(len(starts)), pa.int64()), "line": pa.array(starts, pa.int64())})
        view = f"_ltv_{self.tag}_starts"
        self.con.register(view, table)
        try:
            self.q(f"""UPDATE quarantine q SET line_number = s.line FROM {view} s WHERE q.import_id = {import_id}
                       AND q.file = {sql_literal(main.name)} AND s.rec = q.line_number - 2
                       AND NOT starts_with(q.reason, {sql_literal(malformed)})""")
        finally:
            self.con.unregister(view)
        if main.rejects and not main.parts:  # the reader read the file itself: its byte offsets are the file's
            try:
                found = self.q(f"SELECT line, min(line_byte_position) FROM {main.rejects} GROUP BY line").fetchall()
            except duckdb.Error:
                return
            lines = lines_at_offsets(path, [int(b) for _, b in found])
            for (line, _), file_line in zip(found, lines, strict=True):
                self.q(f"UPDATE quarantine SET line_number = ? WHERE import_id = ? AND file = ? AND line_number = ? "
                       f"AND starts_with(reason, {sql_literal(malformed)})", [file_line, import_id, main.name, line])

    def _name_bad_bytes(self, main: Staged, import_id: int) -> None:
        """Add to each row quarantined for invalid UTF-8 the offset of its first bad byte."""
        import pyarrow as pa

        offsets = list(main.bad_bytes or [])
        lines = lines_at_offsets(main.info.path, offsets)
        view = f"_ltv_{self.tag}_badbytes"
        self.con.register(view, pa.table({"off": pa.array(offsets, pa.int64()), "line": pa.array(lines, pa.int64())}))
        try:
            self.q(f"""UPDATE quarantine q SET reason = q.reason || ' (invalid UTF-8 at byte ' ||
                       (SELECT min(b.off) FROM {view} b WHERE b.line >= q.line_number) || ')'
                       WHERE q.import_id = {import_id} AND q.reason = {sql_literal(REASONS['invalid_utf8'].sentence)}""")
        finally:
            self.con.unregister(view)

    def _flag_conflicts(self, table: str, canon: str) -> None:
        """Quarantine the rows of an order number that name another buyer or another day than its first row.

        One order number shared by two buyers (or two dates) is two orders mixed up, never one order: the first
        row's buyer and date keep the number, the other rows are quarantined.
        """
        rec = "_rec" if self.has_rec else f"rowid - {self.rowid_base}"
        firsts = self.temp("first")
        self.q(f"""CREATE TEMP TABLE {firsts} AS SELECT source, order_id, arg_min(_kmat, _rec) AS k,
                   arg_min(CAST(ordered_at AS DATE), _rec) AS d FROM {canon} WHERE _q IS NULL AND order_id IS NOT NULL
                   GROUP BY source, order_id HAVING min(_kmat) <> max(_kmat)
                   OR min(CAST(ordered_at AS DATE)) <> max(CAST(ordered_at AS DATE))""")
        self.q(f"""UPDATE {table} SET _q = {REASONS['conflicting_order'].code}, _qv = order_id
                   WHERE {rec} IN (SELECT c._rec FROM {canon} c JOIN {firsts} f USING (source, order_id)
                   WHERE c._q IS NULL AND (c._kmat <> f.k OR CAST(c.ordered_at AS DATE) <> f.d))""")

    def _keep_previous_orders(self, main: Staged) -> None:
        """An order already in the workspace that has a quarantined row here keeps all its previous lines.

        Its good rows are quarantined too (``order_kept``), so no line of it moves and its order-level amounts
        stay allocated over the lines it had. A row the CSV reader rejected next to an order's rows counts as
        one of its rows (its order number is unknown). New orders import their good lines.
        """
        canon, table = self.canon, f"{self.stage_db}.canon"
        rej = self._rejected_positions(main)
        if rej is None and not self.q(f"SELECT count(*) FROM {canon} WHERE _q IS NOT NULL").fetchall()[0][0]:
            return
        if not self.q("SELECT count(*) FROM (SELECT 1 FROM order_lines LIMIT 1)").fetchall()[0][0]:
            return
        bad = self.temp("bad")
        near = (f" UNION SELECT s.source, s.order_id FROM (SELECT source, order_id, min(_rec) AS r0, max(_rec) AS r1 "
                f"FROM {canon} WHERE order_id IS NOT NULL GROUP BY ALL) s JOIN {rej} r ON r.v BETWEEN s.r0 AND s.r1 + 1"
                if rej else "")
        self.q(f"""CREATE TEMP TABLE {bad} AS SELECT * FROM (SELECT DISTINCT source, order_id FROM {canon}
                   WHERE _q IS NOT NULL AND order_id IS NOT NULL{near}) b WHERE EXISTS (SELECT 1 FROM order_lines o
                   WHERE o.source = b.source AND o.order_id = b.order_id)""")
        rec = "_rec" if self.has_rec else f"rowid - {self.rowid_base}"
        self.q(f"""UPDATE {table} SET _q = {REASONS['order_kept'].code}, _qv = order_id WHERE _q IS NULL AND {rec} IN
                   (SELECT c._rec FROM {canon} c JOIN {bad} b USING (source, order_id) WHERE c._q IS NULL)""")

    def _quarantine(self, canon: str, names: dict[str, str], import_id: int, main: Staged,
                    file_label: str) -> int:
        qtab = "quarantine (import_id, file, line_number, column_name, value, reason)"
        rejected = 0
        for s in self.staged:
            if not s.rejects:
                continue
            try:
                n = self.q(f"SELECT count(*) FROM {s.rejected_sql(self.con)}").fetchall()[0][0]
            except duckdb.Error:
                continue
            if n:
                bad = REASONS["malformed_row"]
                self.q(f"""INSERT INTO {qtab} SELECT {import_id}, {sql_literal(s.name)}, line, NULL, NULL,
                           {sql_literal(bad.sentence)} || ' (' || error_message || ')'
                           FROM (SELECT DISTINCT ON (line) line, error_message FROM {s.rejected_sql(self.con)} ORDER BY line)""")
                rejected += self.q(f"SELECT count(DISTINCT line) FROM {s.rejected_sql(self.con)}").fetchall()[0][0]
        if self._unclosed:
            bad = REASONS["malformed_row"]
            for line in self._unclosed:
                self.q(f"INSERT INTO {qtab} VALUES (?, ?, ?, NULL, NULL, ?)",
                       [import_id, main.name, line, f"{bad.sentence} (a quote on this line is never closed or is followed by text; the line was skipped)"])
            rejected += len(self._unclosed)
        line_sql = self._line_sql(main)
        self._rejected = rejected
        col_names = {REASONS[k].code: names.get(v[2:], v[2:]) if v else None for _, k, v in self._checks}
        col_names[REASONS["duplicate_line"].code] = names.get("line_no")
        col_names[REASONS["conflicting_order"].code] = names.get("order_id")
        col_names[REASONS["order_kept"].code] = names.get("order_id")
        col_case = "CASE _q " + " ".join(f"WHEN {c} THEN {sql_literal(n)}" for c, n in col_names.items()) + " END"
        self.q(f"""INSERT INTO {qtab} SELECT {import_id}, {sql_literal(main.name)}, {line_sql}, {col_case}, _qv,
                   {reason_case('_q')} FROM {canon} WHERE _q IS NOT NULL""")
        self._file_lines(main, import_id)
        if main.bad_bytes:
            self._name_bad_bytes(main, import_id)
        if self._orders_without_items:
            self.q(f"INSERT INTO {qtab} SELECT {import_id}, c1, c2, c3, c4, {reason_case('c5')} FROM "
                   f"({self._orders_without_items}) t(c1, c2, c3, c4, c5)")
            self._rejected += self.q(f"SELECT count(*) FROM quarantine WHERE import_id = {import_id} AND reason IN "
                                     f"({sql_literal(REASONS['order_without_items'].sentence)}, "
                                     f"{sql_literal(REASONS['duplicate_order_row'].sentence)})").fetchall()[0][0]
        return self.q("SELECT count(*) FROM quarantine WHERE import_id = ?", [import_id]).fetchall()[0][0]

    def _allocate(self, canon: str, exprs: dict[str, str]) -> str:
        """Good rows with line numbers and order-level amounts allocated across lines (largest remainder).

        Work is kept off the common case: line numbers come from the record index when an order's lines are
        contiguous in the file (a window only for the others), and the remainder ranking runs only over the lines
        of multi-line orders whose total is not zero.
        """
        final = self.temp("final")
        order_level = [f for f in MONEY_FIELDS if f in exprs and f in self.reader.order_level]
        line_level = [f for f in MONEY_FIELDS if f in exprs and f not in self.reader.order_level]
        key = "source, order_id" if "source" in exprs else "order_id"  # one source per file: the id is enough
        explicit = "line_no" in exprs
        cols = []
        for c in _LINE_COLS:
            if c in ("line_no", "import_id", "order_date") or c in MONEY_FIELDS:
                continue
            if c in ("point_rate", "cost", "delivery_count", "product_name", "category", "channel",
                     "subscription_id") and c not in exprs:
                cols.append(f"CAST(NULL AS {_sql_type(c)}) AS {c}")
            else:
                cols.append(c)
        cols.append("prefecture" if "prefecture" in exprs else "CAST(NULL AS VARCHAR) AS prefecture")
        cols += [f"COALESCE({f}, 0) AS {f}" for f in line_level]
        cols += [f"CAST(0 AS BIGINT) AS {f}" for f in MONEY_FIELDS if f not in exprs]
        cols.append("g._rec AS _rec")
        totals = "".join(f", arg_min({f}, _rec) FILTER (WHERE {f} IS NOT NULL AND _q IS NULL) AS _t_{f}"
                         for f in order_level)
        o = self.temp("o")
        good_amount = "sum(greatest(line_amount, 0)) FILTER (WHERE _q IS NULL)"
        # _n counts the order's good lines (allocation); _all, _r0 and _r1 span every row of the order in the
        # file, quarantined ones included, so that a line's number is its position in the order as exported
        self.q(f"""CREATE TEMP TABLE {o} AS SELECT {key}, count(*) FILTER (WHERE _q IS NULL) AS _n, count(*) AS _all,
                   min(_rec) AS _r0, max(_rec) AS _r1,
                   CAST(CASE WHEN {good_amount} > 0 THEN {good_amount} ELSE count(*) FILTER (WHERE _q IS NULL)
                   END AS HUGEINT) AS _W, COALESCE({good_amount} > 0, false) AS _by_amount{totals}
                   FROM {canon} WHERE order_id IS NOT NULL GROUP BY {key} HAVING count(*) FILTER (WHERE _q IS NULL) > 0""")
        weight = "CASE WHEN o._by_amount THEN greatest(g.line_amount, 0) ELSE 1 END"
        good = f"{canon} g JOIN {{o}} o USING ({key}) WHERE g._q IS NULL"
        # the few lines that need a window: non-contiguous orders (line numbers), multi-line orders with a total
        joins, select = [], [*cols]
        if explicit:
            select.append("g.line_no_x AS line_no")
        else:
            ln = self.temp("ln")
            self.q(f"""CREATE TEMP TABLE {ln} AS SELECT _rec, ln FROM (SELECT g._q, g._rec,
                       CAST(row_number() OVER (PARTITION BY o._r0 ORDER BY g._rec) AS INTEGER) AS ln
                       FROM {canon} g JOIN (SELECT * FROM {o} WHERE _r1 - _r0 + 1 <> _all) o USING ({key})) WHERE _q IS NULL""")
            joins.append(f"LEFT JOIN {ln} ON ln_t._rec = g._rec".replace("ln_t", ln))
            select.append(f"CAST(CASE WHEN o._r1 - o._r0 + 1 = o._all THEN g._rec - o._r0 + 1 ELSE {ln}.ln END AS INTEGER)"
                          " AS line_no")
        if order_level:
            a = self._allocate_order_amounts(o, good, weight, order_level)
            joins.append(f"LEFT JOIN {a} ON {a}._rec = g._rec")
            for f in order_level:
                select.append(f"CASE WHEN o._n = 1 THEN COALESCE(o._t_{f}, 0) ELSE COALESCE({a}.v_{f}, 0) END AS {f}")
        # a view: the upsert reads it once, so the lines are not copied once more
        self.q(f"""CREATE TEMP VIEW {final} AS SELECT {', '.join(select)} FROM {canon} g JOIN {self.keys} k ON g._kmat = k.m
                   JOIN {o} o USING ({key}) {' '.join(joins)} WHERE g._q IS NULL""")
        return final

    def _allocate_order_amounts(self, o: str, good: str, weight: str, fields: list[str]) -> str:
        """Temp table of ``_rec`` and ``v_<field>``: each order-level amount split over its order's lines.

        Largest remainder: every line gets ``floor(|total| x weight / W)``; the units left over go one each to
        the lines with the largest remainders (ties: the earlier record). Only multi-line orders with a total
        are computed. In a two-line order the remainders sum to 0 or W, so a line gets the unit when its
        remainder is over half of W (at exactly half, the earlier line). Otherwise a line's rank is counted by
        joining the lines of its order with each other, all amounts at once, which beats a sorting window per
        amount; orders with many lines (quadratic there) use the windows.
        """
        a, lines = self.temp("alloc"), self.temp("alloc_lines")
        nonzero = " OR ".join(f"_t_{f} <> 0" for f in fields)
        subset = f"(SELECT * FROM {o} WHERE _n > 1 AND ({nonzero}))"
        inner = ", ".join(f"o._t_{f} AS _t_{f}, CAST(abs(o._t_{f}) AS HUGEINT) * {weight} // o._W AS _b_{f}, "
                          f"CAST(abs(o._t_{f}) AS HUGEINT) * {weight} % o._W AS _r_{f}" for f in fields)
        # an order is identified by its first record number: integers join and sort much faster than the ids
        self.q(f"CREATE TEMP TABLE {lines} AS SELECT o._r0 AS _p, o._n AS _n, o._W AS _W, g._rec AS _rec, {inner} "
               f"FROM {good.format(o=subset)}")

        def value(f: str, rank_ok: str, row: str = "") -> str:
            """The allocated amount: the floor share plus one when the line's rank is within the units left."""
            return f"CAST(sign({row}_t_{f}) * ({row}_b_{f} + CASE WHEN {rank_ok} THEN 1 ELSE 0 END) AS BIGINT) AS v_{f}"

        small = ", ".join(value(f, f"""count(*) FILTER (WHERE j._r_{f} > i._r_{f} OR (j._r_{f} = i._r_{f} AND
                                        j._rec < i._rec)) < abs(i._t_{f}) - sum(j._b_{f})""", "i.") for f in fields)
        pair = ", ".join(value(f, f"_r_{f} > 0 AND (2 * _r_{f} > _W OR (2 * _r_{f} = _W AND _rec = _p))")
                         for f in fields)
        group = ", ".join(f"i._t_{f}, i._b_{f}" for f in fields)
        large = ", ".join(value(f, f"""row_number() OVER (PARTITION BY _p ORDER BY _r_{f} DESC, _rec)
                                        <= abs(_t_{f}) - sum(_b_{f}) OVER (PARTITION BY _p)""") for f in fields)
        self.q(f"""CREATE TEMP TABLE {a} AS
                   SELECT _rec, {pair} FROM {lines} WHERE _n = 2
                   UNION ALL
                   SELECT i._rec AS _rec, {small} FROM {lines} i JOIN {lines} j ON i._p = j._p
                   WHERE i._n BETWEEN 3 AND {_SELF_JOIN_MAX_LINES} GROUP BY i._rec, {group}
                   UNION ALL
                   SELECT _rec, {large} FROM {lines} WHERE _n > {_SELF_JOIN_MAX_LINES}""")
        return a

    @contextmanager
    def _unordered_writes(self) -> Iterator[None]:
        """Let DuckDB write rows from all threads without keeping their order (order lines have no row order)."""
        previous = self.q("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
        self.q("SET preserve_insertion_order = false")
        try:
            yield
        finally:
            self.q(f"SET preserve_insertion_order = {sql_literal(bool(previous))}")

    def _upsert(self, final: str, canon: str, result: ImportResult, import_id: int) -> None:
        cols = ", ".join(_LINE_COLS)
        select = ", ".join(
            "CAST(ordered_at AS DATE) AS order_date" if c == "order_date"
            else f"CAST({import_id} AS BIGINT) AS import_id" if c == "import_id" else c for c in _LINE_COLS)
        empty = self.q("SELECT NOT EXISTS (SELECT 1 FROM order_lines)").fetchall()[0][0]
        if empty:
            with self._unordered_writes():
                result.imported = self.q(f"INSERT INTO order_lines ({cols}) SELECT {select} FROM {final}").fetchall()[0][0]
            return
        cmp = self.temp("cmp")
        same = " AND ".join(f"f.{c} IS NOT DISTINCT FROM o.{c}" for c in _COMPARE_COLS if c != "order_date")
        self.q(f"""CREATE TEMP TABLE {cmp} AS SELECT f.*, CAST(f.ordered_at AS DATE) AS order_date,
                   CASE WHEN o.order_id IS NULL THEN 0 WHEN {same} THEN 2 ELSE 1 END AS _state
                   FROM {final} f LEFT JOIN order_lines o
                   ON f.source = o.source AND f.order_id = o.order_id AND f.line_no = o.line_no""")
        self.q(f"""DELETE FROM order_lines o USING {cmp} c WHERE c._state = 1 AND o.source = c.source
                   AND o.order_id = c.order_id AND o.line_no = c.line_no""")
        # lines of a re-imported order that the new export no longer has (its lines were re-numbered or removed)
        removed = self.q(f"""DELETE FROM order_lines o WHERE EXISTS (SELECT 1 FROM {cmp} c WHERE c.source = o.source
                   AND c.order_id = o.order_id) AND NOT EXISTS (SELECT 1 FROM {cmp} c WHERE c.source = o.source
                   AND c.order_id = o.order_id AND c.line_no = o.line_no)""").fetchall()[0][0]
        with self._unordered_writes():
            self.q(f"INSERT INTO order_lines ({cols}) SELECT {select} FROM {cmp} WHERE _state < 2")
        counts = dict(self.q(f"SELECT _state, count(*) FROM {cmp} GROUP BY 1").fetchall())
        result.imported = counts.get(0, 0)
        result.updated = counts.get(1, 0) + (removed or 0)
        result.unchanged = counts.get(2, 0)

    def _refresh_customers(self, materials: str | None) -> None:
        """Recompute ``customers`` from all order lines, keeping the latest prefecture seen per customer.

        Lines are first summed per order, so counting a customer's orders needs no ``DISTINCT`` over the lines.
        ``materials`` holds the latest prefecture per identity material of this import (None: the file has none).
        """
        prev = self.temp("pref")
        self.q(f"CREATE TEMP TABLE {prev} AS SELECT customer_key, prefecture FROM customers WHERE prefecture IS NOT NULL")
        if materials is not None:
            self.q(f"""INSERT INTO {prev} SELECT k.customer_key, arg_max(t.pref, t.pref_at) FROM {materials} t
                       JOIN {self.keys} k ON t.m = k.m WHERE t.pref IS NOT NULL GROUP BY k.customer_key""")
        self.q("DELETE FROM customers")
        self.q(f"""INSERT INTO customers SELECT l.customer_key, l.source, l.first_order_at, l.last_order_at, l.orders,
                   l.revenue, p.prefecture FROM (
                     SELECT customer_key, arg_min(source, first_at) AS source, min(first_at) AS first_order_at,
                       max(last_at) AS last_order_at, count(*) FILTER (WHERE live) AS orders,
                       COALESCE(sum(revenue), 0) AS revenue
                     FROM (SELECT customer_key, source, order_id, min(ordered_at) AS first_at, max(ordered_at) AS last_at,
                             bool_or(status <> 'cancelled') AS live,
                             sum(line_amount) FILTER (WHERE status <> 'cancelled') AS revenue
                           FROM order_lines GROUP BY customer_key, source, order_id)
                     GROUP BY customer_key) l
                   LEFT JOIN (SELECT customer_key, last(prefecture ORDER BY rowid) AS prefecture FROM {prev}
                              GROUP BY customer_key) p USING (customer_key)""")

    def _refresh_products(self) -> None:
        new = self.temp("prod")
        self.q(f"""CREATE TEMP TABLE {new} AS SELECT sku, arg_max(product_name, ordered_at) AS product_name,
                   arg_max(category, ordered_at) FILTER (WHERE category IS NOT NULL) AS category,
                   CAST(arg_max(cost / NULLIF(quantity, 0), ordered_at) FILTER (WHERE cost IS NOT NULL) AS BIGINT) AS unit_cost,
                   arg_max(unit_price, ordered_at) AS list_price FROM order_lines GROUP BY sku""")
        merged = self.temp("prodm")
        self.q(f"""CREATE TEMP TABLE {merged} AS SELECT COALESCE(n.sku, p.sku) AS sku,
                   COALESCE(n.product_name, p.product_name) AS product_name, COALESCE(p.category, n.category) AS category,
                   COALESCE(p.unit_cost, n.unit_cost) AS unit_cost, COALESCE(n.list_price, p.list_price) AS list_price
                   FROM {new} n FULL OUTER JOIN products p ON n.sku = p.sku""")
        self.q("DELETE FROM products")
        self.q(f"INSERT INTO products (sku, product_name, category, unit_cost, list_price) SELECT * FROM {merged}")

    def _store_contacts(self, canon: str, exprs: dict[str, str]) -> None:
        new = self.temp("contacts")
        self.q(f"""CREATE TEMP TABLE {new} AS SELECT customer_key, source,
                   arg_max(c_name, ordered_at) AS name, arg_max(c_email, ordered_at) AS email,
                   arg_max(c_phone, ordered_at) AS phone, arg_max(c_zip, ordered_at) AS zip,
                   arg_max(c_address, ordered_at) AS address FROM {canon} JOIN {self.keys} ON _kmat = m
                   WHERE _q IS NULL GROUP BY ALL""")
        self.q(f"DELETE FROM contacts c USING {new} n WHERE c.customer_key = n.customer_key AND c.source = n.source")
        self.q(f"""INSERT INTO contacts (customer_key, source, name, email, phone, zip, address, updated_at)
                   SELECT customer_key, source, name, email, phone, zip, address, current_timestamp::TIMESTAMP
                   FROM {new}""")


def _sql_type(column: str) -> str:
    for c in ORDER_LINES:
        if c.name == column:
            return c.sql_type
    return "VARCHAR"


def _default_status(getter: Any) -> str:
    from ._reader import status_sql

    return status_sql(getter("status"))


def import_to_parquet(path_or_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                      directory: str | os.PathLike[str], preset: str = "auto", **options: Any) -> ImportResult:
    """Import an export straight to canonical Parquet parts under ``directory``, with no workspace file.

    The file is read, cleaned and quarantined exactly as :func:`import_orders` does (CP932 included), in a
    throw-away in-memory store, and its lines are written as ``order_lines/order_month=YYYY-MM/<part>_N.parquet``
    (and its quarantined rows as ``quarantine/<part>_0.parquet``), where ``<part>`` is the file name and a hash of
    its content. Many files can thus be imported into one folder in parallel (one task per file), and importing
    a file again replaces its own parts. Spark reads the folder (``LTV_SPARK_DATA``; docs/spark.md).

    Contact data become the same keyed-hash customer keys in every task only with a shared secret: when a file's
    customers are keyed by hash, ``LTV_IDENTITY_SECRET`` must be set.
    """
    import hashlib
    import re

    from ..store import Workspace

    paths = _paths(path_or_paths)
    digest = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", paths[0].stem) or "import"
    part = f"{stem}-{digest.hexdigest()[:12]}"
    with Workspace() as ws:
        result = import_orders(ws, paths if len(paths) > 1 else paths[0], preset=preset, **options)
        hashed = ws.con.execute("SELECT count(*) FROM order_lines WHERE customer_key LIKE 'h:%'").fetchall()[0][0]
        if hashed and not ws.settings().secret("identity_secret"):
            raise InputError(key="err.out_parquet_secret", file=str(paths[0]))
        ws.publish_parquet(directory, part=part, tables=("order_lines", "quarantine"))
    return result

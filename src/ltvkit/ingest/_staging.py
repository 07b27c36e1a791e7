"""Stage one input file as a SQL relation of text columns with a record index ``_rec`` (0 = first data row).

CSV files are read by DuckDB's ``read_csv`` (all columns text, header row skipped, malformed rows collected in a
rejects table); CP932/UTF-16 files are first stream-transcoded to a temporary UTF-8 file. Parquet is read by
``read_parquet`` and Excel through openpyxl, both cast to text, so that every reader runs the same SQL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..exceptions import UnknownFormatError
from ._csv import FileInfo, file_hash, norm_header, sniff_file, sql_literal, transcode_parts, utf8_errors

__all__ = ["Staged", "stage_file"]


@dataclass
class Staged:
    """One staged file: ``relation`` has ``_rec`` and the text columns named in ``cols``."""

    info: FileInfo
    relation: str
    cols: dict[str, str]
    headers: dict[str, str]
    content_hash: str
    encoding: str | None
    rejects: str | None = None
    parts: list[str] | None = None  # UTF-8 part files when a large file was transcoded in parallel
    csv_options: str = ""
    has_rec: bool = True  # False: a plain CSV scan; its rows keep file order, so rowid of a copy is the index
    bad_bytes: list[int] | None = None  # byte offsets of invalid UTF-8 in a UTF-8 file (read as U+FFFD)

    def rejected_sql(self, con: duckdb.DuckDBPyConnection) -> str:
        """(line, error_message) of the rows the CSV reader rejected, numbered as records of the whole file.

        DuckDB numbers rejected rows within each part file (its line 1 is the repeated header); the records of
        the earlier parts are counted, only when some row was rejected, to number them in the source file.
        """
        if not self.parts or len(self.parts) == 1:
            return f"(SELECT line, error_message FROM {self.rejects})"
        if not hasattr(self, "_offsets"):
            offsets, before = [], 0
            rejected = dict(con.execute(
                f"SELECT s.file_path, count(DISTINCT r.line) FROM {self.rejects} r JOIN {self.rejects}_scan s "
                f"USING (scan_id, file_id) GROUP BY 1").fetchall())
            for k, part in enumerate(self.parts):
                offsets.append(before if k else 0)
                if k < len(self.parts) - 1:
                    opts = self.csv_options.replace("store_rejects=true", "ignore_errors=true")
                    rows = con.execute(f"SELECT count(*) FROM read_csv({sql_literal(part)}, {opts})").fetchall()[0][0]
                    before += rows + rejected.get(part, 0) + (0 if k else 1)
            self._offsets = offsets
        case = " ".join(f"WHEN {sql_literal(p)} THEN r.line - 1 + {off}" for p, off in zip(self.parts, self._offsets,
                                                                                           strict=True) if off)
        return (f"(SELECT CASE s.file_path {case} ELSE r.line END AS line, r.error_message FROM {self.rejects} r "
                f"JOIN {self.rejects}_scan s USING (scan_id, file_id))")

    @property
    def name(self) -> str:
        return self.info.path.name


def _col_maps(info: FileInfo, prefix: str, qualifier: str = "") -> tuple[dict[str, str], dict[str, str], list[str]]:
    cols: dict[str, str] = {}
    headers: dict[str, str] = {}
    names = []
    for i, h in enumerate(info.headers):
        col = f"{prefix}c{i}"
        names.append(col)
        key = norm_header(h)
        if key and key not in cols:
            cols[key] = f"{qualifier}{col}"
            headers[key] = h
    return cols, headers, names


def stage_file(con: duckdb.DuckDBPyConnection, info: FileInfo, *, tag: str, tmpdir: Path,
               materialise: bool = False) -> Staged:
    """Make ``info``'s file readable as a relation (a subquery, or a temp table when ``materialise``)."""
    prefix = f"{tag}_"
    cols, headers, names = _col_maps(info, prefix)
    if not names:
        raise UnknownFormatError(f"{info.path.name} has no header row; the first line must name the columns.")
    rejects = None
    parts = None
    bad_bytes: list[int] = []
    csv_options = ""
    if info.kind == "csv":
        path = info.path
        encoding = info.encoding or "utf-8"
        if encoding in ("utf-8", "utf-8-sig"):
            digest, valid = file_hash(path, validate_utf8=True)
            if not valid:
                errors, good = utf8_errors(path)
                if good >= 10 * len(errors):
                    # UTF-8 with a few bad bytes: read as UTF-8 (each bad byte becomes U+FFFD and its row is
                    # quarantined), never reinterpreted as another encoding
                    bad_bytes = errors
                else:  # an ASCII-only start fooled detection: the rest is Shift_JIS
                    encoding = "cp932"
        files = [str(path)]
        if bad_bytes:
            part_paths, digest = transcode_parts(info.path, tmpdir, tag, "utf-8")
            files = [str(p) for p in part_paths]
            parts = files
        elif encoding not in ("utf-8", "utf-8-sig"):
            part_paths, digest = transcode_parts(info.path, tmpdir, tag, encoding)
            files = [str(p) for p in part_paths]
            parts = files
        rejects = f"_ltv_rej_{tag}"
        columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
        file_list = sql_literal(files[0]) if len(files) == 1 else "[" + ", ".join(sql_literal(f) for f in files) + "]"
        csv_options = (f"columns={columns}, header=true, auto_detect=false, delim={sql_literal(info.delimiter)}, "
                       f"quote='\"', escape='\"', max_line_size=8388608, store_rejects=true")
        source = (f"read_csv({file_list}, {csv_options}, rejects_table={sql_literal(rejects)}, "
                  f"rejects_scan={sql_literal(rejects + '_scan')})")
        # no row_number() here: a window forces a single-threaded scan; the copy's rowid keeps file order
        relation = source
        info.encoding = encoding
    elif info.kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        digest, _ = file_hash(info.path)
        schema = pq.read_schema(info.path)
        select = []
        for field, col in zip(schema, names, strict=False):
            ref = '"' + field.name.replace('"', '""') + '"'
            if pa.types.is_timestamp(field.type) and field.type.tz is not None:
                expr = f"strftime(timezone('UTC', {ref}), '%Y-%m-%d %H:%M:%S.%f') || '+00:00'"
            else:
                expr = f"CAST({ref} AS VARCHAR)"
            select.append(f"{expr} AS {col}")
        relation = (f"(SELECT row_number() OVER () - 1 AS _rec, {', '.join(select)} "
                    f"FROM read_parquet({sql_literal(str(info.path))}))")
        encoding = None
    elif info.kind == "excel":
        import pandas as pd
        import pyarrow as pa

        digest, _ = file_hash(info.path)
        try:
            frame = pd.read_excel(info.path, sheet_name=info.sheet, dtype=str, header=0)
        except ValueError as exc:
            raise UnknownFormatError(f"{info.path.name}: {exc}.") from None
        frame = frame.iloc[:, : len(names)]
        frame.columns = names[: frame.shape[1]]
        table = pa.Table.from_pandas(frame.astype(object).where(frame.notna(), None), preserve_index=False)
        view = f"_ltv_xl_{tag}"
        con.register(view + "_in", table)
        con.execute(f"CREATE TEMP TABLE {view} AS SELECT row_number() OVER () - 1 AS _rec, * FROM {view}_in")
        con.unregister(view + "_in")
        relation = view
        encoding = None
    else:  # pragma: no cover - sniff_file only returns the kinds above
        raise UnknownFormatError(f"{info.path.name}: unsupported file kind {info.kind}.")
    has_rec = info.kind != "csv"
    if materialise and info.kind != "excel":
        table_name = f"_ltv_raw_{tag}"
        rec = "" if has_rec else "row_number() OVER () - 1 AS _rec, "
        con.execute(f"CREATE TEMP TABLE {table_name} AS SELECT {rec}* FROM {relation}")
        relation, has_rec = table_name, True
    return Staged(info, relation, cols, headers, digest, encoding, rejects, parts, csv_options, has_rec, bad_bytes)


def combined_hash(staged: list[Staged]) -> str:
    if len(staged) == 1:
        return staged[0].content_hash
    return hashlib.sha256("".join(s.content_hash for s in staged).encode()).hexdigest()


def sniff(path: Path, *, encoding: str | None = None, delimiter: str | None = None,
          sheet: str | int | None = None) -> FileInfo:
    return sniff_file(path, encoding=encoding, delimiter=delimiter, sheet=sheet)

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
from ._csv import FileInfo, file_hash, norm_header, sniff_file, sql_literal, transcode_to_utf8

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
    if info.kind == "csv":
        path = info.path
        encoding = info.encoding or "utf-8"
        if encoding in ("utf-8", "utf-8-sig"):
            digest, valid = file_hash(path, validate_utf8=True)
            if not valid:  # an ASCII-only start fooled detection: the rest is Shift_JIS
                encoding = "cp932"
        if encoding not in ("utf-8", "utf-8-sig"):
            path = tmpdir / f"{tag}.csv"
            digest = transcode_to_utf8(info.path, path, encoding)
        rejects = f"_ltv_rej_{tag}"
        columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in names) + "}"
        source = (f"read_csv({sql_literal(str(path))}, columns={columns}, header=true, auto_detect=false, "
                  f"delim={sql_literal(info.delimiter)}, quote='\"', escape='\"', store_rejects=true, "
                  f"rejects_table={sql_literal(rejects)}, rejects_scan={sql_literal(rejects + '_scan')}, "
                  f"max_line_size=8388608)")
        relation = f"(SELECT row_number() OVER () - 1 AS _rec, * FROM {source})"
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
    if materialise and info.kind != "excel":
        table_name = f"_ltv_raw_{tag}"
        con.execute(f"CREATE TEMP TABLE {table_name} AS SELECT * FROM {relation}")
        relation = table_name
    return Staged(info, relation, cols, headers, digest, encoding, rejects)


def combined_hash(staged: list[Staged]) -> str:
    if len(staged) == 1:
        return staged[0].content_hash
    return hashlib.sha256("".join(s.content_hash for s in staged).encode()).hexdigest()


def sniff(path: Path, *, encoding: str | None = None, delimiter: str | None = None,
          sheet: str | int | None = None) -> FileInfo:
    return sniff_file(path, encoding=encoding, delimiter=delimiter, sheet=sheet)

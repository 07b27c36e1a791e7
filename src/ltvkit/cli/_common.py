"""Shared CLI options and output: every command takes --workspace, prints a table or JSON/CSV, and --out FILE."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .._dates import parse_date as _parse_date
from ..config import DEFAULT_WORKSPACE
from ..exceptions import InputError
from ..i18n import column_kind, fmt, format_date, format_number, is_lang, label, t
from ..workspace import Workspace
from ._app import csv_encoding, current_lang, is_wide, set_lang, set_wide

console = Console(highlight=False, soft_wrap=True)

WorkspaceOpt = Annotated[
    Path,
    typer.Option("--workspace", "-w", envvar="LTV_WORKSPACE", help="Workspace DuckDB file (env LTV_WORKSPACE).",
                 show_default=True),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on standard output.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV on standard output.")]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Write the result to FILE; the format follows the extension (.csv .parquet .json .xlsx)."),
]
LangOpt = Annotated[
    str | None,
    typer.Option("--lang", help="Language of printed text and error messages: ja or en (default: the global --lang, "
                                "else LTV_LANG, else ja).", show_default=False),
]
ExcelSafeOpt = Annotated[
    bool, typer.Option("--excel-safe", envvar="LTV_EXCEL_SAFE",
                       help="In CSV output, prefix text cells that start with = + - or @ with ' so that Excel "
                            "shows them as text and never runs them as formulas."),
]
WideOpt = Annotated[
    bool, typer.Option("--wide", help="Print every column, even past the terminal's width (same as the global --wide).")
]
MarginOpt = Annotated[
    Path | None,
    typer.Option("--margin-config", help="YAML file of margin settings (cost_rate, mall_fee_rates, …; see docs/analytics.md)."),
]
CostRateOpt = Annotated[
    float | None, typer.Option("--cost-rate", help="Cost of goods as a share of sales when no SKU cost is known (default 0.4).")
]
EngineOpt = Annotated[
    str | None,
    typer.Option("--engine", help="Engine of the analytics: duckdb (the workspace file) or spark (a Spark session "
                                  "over the canonical tables as Parquet; docs/spark.md). Default: LTV_ENGINE, else "
                                  "duckdb.", show_default=False),
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Analyse as of this date (YYYY-MM-DD); later orders are ignored.")
]

DEFAULT_WS = Path(DEFAULT_WORKSPACE)


def open_workspace(path: Path, *, must_exist: bool = True, read_only: bool = False) -> Workspace:
    """Open the workspace, with one clear sentence (in the user's language) when it cannot be used."""
    if must_exist and not Path(path).exists():
        demo = Path("ltv-demo") / "ltv.duckdb"
        if Path(path) == DEFAULT_WS and demo.exists():  # right after `ltv demo`: say where its workspace is
            raise InputError(key="err.no_workspace_demo", path=str(path), demo=str(demo))
        raise InputError(key="err.no_workspace", path=str(path))
    if Path(path).is_dir():
        raise InputError(key="err.workspace_is_folder", path=str(path), example=str(Path(path) / "ltv.duckdb"))
    return Workspace(path, read_only=read_only)


def use_engine(ws: Workspace, engine: str | None) -> Workspace:
    """Point the workspace's analytics at ``--engine`` (else LTV_ENGINE / ltv.toml, else DuckDB)."""
    from ..store import parse_spark_conf

    settings = ws.settings()
    name = engine or settings.engine
    if name != "duckdb" or engine is not None:
        ws.use_engine(name, master=settings.spark_master, conf=parse_spark_conf(settings.spark_conf),
                      data_dir=settings.spark_data)
    return ws


def use_lang(lang: str | None) -> str:
    """The language of this command (its --lang, else the global one, else ja), checked and kept for errors."""
    if lang is None:
        return current_lang()
    if not is_lang(lang):
        raise InputError(key="err.unknown_lang", value=lang)
    set_lang(lang)
    return lang


def scoped_label(scope: str, name: str, lang: str) -> str:
    """The label of ``name`` as ``scope`` counts it (``label.info_customers`` for ``ltv info``), else the common
    label: one count, one name that says whom it counts."""
    scoped = label(f"{scope}_{name}", lang)
    return scoped if scoped != f"{scope}_{name}" else label(name, lang)


def use_wide(wide: bool) -> None:
    """A command's --wide (the global one may have set it already)."""
    if wide:
        set_wide(True)


def parse_date(value: str | None, option: str = "--as-of") -> dt.date | None:
    """Parse YYYY-MM-DD (also YYYY/MM/DD, 2024年4月1日 and full-width digits) or raise one clear sentence."""
    return _parse_date(value, option)


def _jsonable(value: Any) -> Any:
    """Plain JSON values from numpy/pandas/dates/decimals (the report's converter: one rule for every JSON)."""
    from ..reports._json import jsonable

    return jsonable(value)


def _frame(data: Any) -> Any:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):
        return data.to_pandas()
    if isinstance(data, dict):
        return pd.DataFrame([{"name": k, "value": v} for k, v in data.items()])
    return pd.DataFrame(list(data))


def records(data: Any) -> list[dict[str, Any]]:
    df = _frame(data)
    return [{str(k): _jsonable(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


# set by ``ltv --excel-safe`` (or LTV_EXCEL_SAFE=1): CSV text cells are written so that Excel never runs them
EXCEL_SAFE = {"on": False}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(df: Any) -> Any:
    """A copy of ``df`` whose text cells starting with = + - @ (or a tab / carriage return) begin with ``'``.

    Excel and LibreOffice run such cells of a CSV file as formulas (``=HYPERLINK(...)`` from a product name);
    the quote makes them text. Numbers are left alone (a negative amount stays a number).
    """
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            s = out[col].astype(object)
            hit = s.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_START))
            if hit.any():
                out[col] = s.where(~hit, "'" + s[hit].astype(str))
    return out


def check_out(out: Path, lang: str | None = None) -> None:
    """Refuse an output path that cannot be a file (a folder, a path under a file) with one sentence."""
    if out.is_dir():
        raise InputError(key="err.out_is_folder", path=str(out), example=str(out / f"result{out.suffix or '.csv'}"))
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(key="err.out_under_file", path=str(out), parent=str(parent))
            break


def write_frame(data: Any, out: Path, *, sheet: str = "result") -> None:
    """Write a table to a file whose extension says the format; one sentence when the path cannot be written."""
    suffix = out.suffix.lower()
    check_out(out)
    if suffix not in (".csv", ".parquet", ".json", ".xlsx"):
        raise InputError(key="err.out_extension", name=out.name)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write_frame(_frame(data), out, suffix, sheet)
    except OSError as exc:
        raise InputError(key="err.out_failed", path=str(out), reason=exc.strerror or type(exc).__name__) from None


def _write_xlsx(df: Any, out: Path, sheet: str) -> None:
    """Excel file whose text cells are text: a value starting with ``=`` is never written as a formula."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([str(c) for c in df.columns])
    values = df.astype(object).where(df.notna(), None)
    for row in values.itertuples(index=False, name=None):
        ws.append([v.item() if hasattr(v, "item") else v for v in row])
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # text from the data that starts with "=" stays text (as in the report)
                cell.data_type = "s"
    wb.save(out)


def _write_frame(df: Any, out: Path, suffix: str, sheet: str) -> None:
    if suffix == ".csv":
        # a file for people: UTF-8 with a BOM for Excel, or the global --encoding (cp932, utf-8)
        (excel_safe(df) if EXCEL_SAFE["on"] else df).to_csv(out, index=False, encoding=csv_encoding(),
                                                             errors="replace")
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out, coerce_timestamps="us",
                       allow_truncated_timestamps=True)
    elif suffix == ".json":
        out.write_text(json.dumps(records(df), ensure_ascii=False, indent=1), encoding="utf-8")
    elif suffix == ".xlsx":
        df2 = df.copy()
        for col in df2.columns:
            if hasattr(df2[col], "dt") and getattr(df2[col].dt, "tz", None) is not None:
                df2[col] = df2[col].dt.tz_localize(None)
        _write_xlsx(df2, out, sheet[:31])
    else:
        raise InputError(key="err.out_extension", name=out.name)


def emit_stream(frames: Iterable[Any], *, json_: bool = False, csv_: bool = False) -> None:
    """Print a long result given as DataFrame chunks as JSON or CSV, a chunk at a time (the text :func:`emit`
    prints for the whole frame, without holding the whole frame or its text in memory)."""
    if json_ and csv_:
        raise InputError(key="err.json_or_csv")
    write = sys.stdout.write
    first = True
    for frame in frames:
        if csv_:
            (excel_safe(frame) if EXCEL_SAFE["on"] else frame).to_csv(sys.stdout, index=False, header=first)
            first = False
            continue
        for rec in records(frame):
            # json.dumps(rows, indent=1), one row at a time
            text = json.dumps(rec, ensure_ascii=False, indent=1, default=_jsonable).replace("\n", "\n ")
            write(("[\n " if first else ",\n ") + text)
            first = False
    if json_:
        write("[]\n" if first else "\n]\n")


def emit(data: Any, *, json_: bool = False, csv_: bool = False, out: Path | None = None, title: str | None = None,
         max_rows: int = 50, meta: dict[str, Any] | None = None, total_rows: int | None = None) -> None:
    """Print a result as a table (default), JSON or CSV, and write it to ``--out`` when given.

    ``total_rows``: the rows of the whole result when ``data`` holds only its first rows (the table says how
    many more there are)."""
    if json_ and csv_:
        raise InputError(key="err.json_or_csv")
    if out is not None:
        write_frame(data, out)
    if json_:
        if isinstance(data, dict):
            payload: Any = {k: _jsonable(v) if not isinstance(v, (list, dict)) else v for k, v in data.items()}
        else:
            payload = records(data)
            if meta is not None:
                payload = {**{k: _jsonable(v) for k, v in meta.items()}, "rows": payload}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1, default=_jsonable) + "\n")
        return
    if csv_:
        frame = _frame(data)
        (excel_safe(frame) if EXCEL_SAFE["on"] else frame).to_csv(sys.stdout, index=False)
        return
    if out is not None and not isinstance(data, dict):
        console.print(t("cli.wrote_rows", current_lang(), rows=format_number(len(_frame(data)), current_lang()),
                        path=str(out)), markup=False)
        return
    print_table(data, title=title, max_rows=max_rows, total_rows=total_rows)


def _fmt(value: Any) -> str:
    """A cell of a printed table: numbers with separators (4 significant digits below 1,000), dates as YYYY-MM-DD,
    booleans as ✓ / —."""
    lang = current_lang()
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return t("cli.yes" if value else "cli.no", lang)
    if hasattr(value, "strftime") and not isinstance(value, str) and value == value:
        return format_date(value, lang)
    value = _jsonable(value)
    if value is None:
        return ""
    if isinstance(value, float):
        if abs(value) >= 1000:
            return format_number(value, lang)
        return format_number(value, lang, significant=4)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_number(value, lang)
    return str(value)


def _is_month_column(series: Any) -> bool:
    """Timestamps that are all the first of a month at midnight (cohorts, months): shown as the month."""
    import pandas as pd

    if series.dtype.kind != "M":
        return False
    values = pd.to_datetime(series.dropna())
    if values.empty:
        return False
    return bool(((values.dt.day == 1) & (values.dt.hour == 0) & (values.dt.minute == 0)).all())


def _cells(series: Any, kind: str | None) -> list[str]:

    lang = current_lang()
    if _is_month_column(series):
        return [format_date(v, lang, month=True) if v == v else "" for v in series]
    if kind is not None and series.dtype.kind in "iuf":
        return ["" if v is None or v != v else fmt(v, kind, lang) for v in series]
    return [_fmt(v) for v in series]


def _numbers(series: Any) -> Any:
    """Decimals from the database as floats (so that they are formatted and aligned as numbers)."""
    import decimal

    import pandas as pd

    if series.dtype.kind != "O":
        return series
    values = series.dropna()
    if len(values) and all(isinstance(v, (decimal.Decimal, int, float)) and not isinstance(v, bool) for v in values):
        return pd.to_numeric(series, errors="coerce").astype(float)
    return series


def _widths(cells: list[str], header: str, numeric: bool) -> tuple[int, int]:
    """The least and the best width of a column: whole numbers always, text down to 12 cells, headers wrap down
    to 6 cells."""
    from rich.cells import cell_len

    widest = max((cell_len(c) for c in cells), default=0)
    head = cell_len(header)
    least = max(widest if numeric else min(widest, 12), min(head, 6))
    return least, max(least, widest, head)


def _fit(columns: list[list[Any]], total: int) -> list[str]:
    """Keep the columns that fit ``total`` cells (the rest from the right, returned by name) and share out the
    room left so that headers and text wrap as little as possible."""
    hidden: list[str] = []
    if not is_wide():
        while len(columns) > 2 and sum(c[3] + 3 for c in columns) + 1 > total:
            hidden.insert(0, columns.pop()[0])
    room = total - sum(c[3] + 3 for c in columns) - 1
    for c in columns:
        c.append(c[3])
    for c in sorted(columns, key=lambda c: c[4] - c[3]):
        more = min(max(room, 0), c[4] - c[3])
        c[5] += more
        room -= more
    return hidden


def print_table(data: Any, *, title: str | None = None, max_rows: int = 50,
                kinds: dict[str, str] | None = None, total_rows: int | None = None) -> None:
    """Print a table for people: labelled headers (``--lang``), yen, percentages, months and ✓/— by column name,
    and only the columns that fit the terminal (the rest named in a note; ``--wide`` prints them all)."""
    lang = current_lang()
    if isinstance(data, dict):
        table = Table(title=title, show_header=False)
        table.add_column("", style="bold")
        table.add_column("")
        for k, v in data.items():
            table.add_row(str(k), json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (list, dict)) else _fmt(v))
        console.print(table)
        return
    df = _frame(data)
    head = df.head(max_rows)
    columns = []
    for col in df.columns:
        series = _numbers(head[col])
        numeric = series.dtype.kind in "iufb" or _is_month_column(series)
        kind = (kinds or {}).get(str(col)) or (column_kind(str(col)) if series.dtype.kind in "iuf" else None)
        header = label(str(col), lang)
        cells = _cells(series, kind)
        columns.append([header, cells, series.dtype.kind in "iuf", *_widths(cells, header, numeric)])
    total = max(console.width, sum(c[4] + 3 for c in columns) + 1) if is_wide() else console.width
    hidden = _fit(columns, total)
    table = Table(title=title)
    for header, _, right, _, _, width in columns:
        table.add_column(header, justify="right" if right else "left", width=width, overflow="fold")
    for i in range(len(head)):
        table.add_row(*(c[1][i] for c in columns))
    (console if total <= console.width else Console(highlight=False, width=total)).print(table)
    rows = len(df) if total_rows is None else total_rows
    if rows > max_rows:
        console.print(t("cli.more_rows", lang, rows=format_number(rows - max_rows, lang)))
    if hidden:
        console.print(t("cli.columns_hidden", lang, n=len(hidden), names=hidden), markup=False)

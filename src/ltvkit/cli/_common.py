"""Shared CLI options and output: every command takes --workspace, prints a table or JSON/CSV, and --out FILE."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..config import DEFAULT_WORKSPACE
from ..exceptions import InputError
from ..workspace import Workspace

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
LangOpt = Annotated[str, typer.Option("--lang", help="Language of printed text: ja or en.", envvar="LTV_LANG")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Analyse as of this date (YYYY-MM-DD); later orders are ignored.")
]

DEFAULT_WS = Path(DEFAULT_WORKSPACE)


def open_workspace(path: Path, *, must_exist: bool = True, read_only: bool = False) -> Workspace:
    """Open the workspace, with one clear sentence when the file is missing."""
    if must_exist and not Path(path).exists():
        raise InputError(f"No workspace at {path}; import orders first with `ltv import FILE --workspace {path}` or run `ltv demo`.")
    return Workspace(path, read_only=read_only)


def check_lang(lang: str) -> str:
    if lang not in ("ja", "en"):
        raise InputError(f"Unknown language {lang!r}; use --lang ja or --lang en.")
    return lang


def parse_date(value: str | None, option: str = "--as-of") -> dt.date | None:
    """Parse YYYY-MM-DD (also YYYY/MM/DD and full-width digits) or raise one clear sentence."""
    if value is None:
        return None
    import unicodedata

    text = unicodedata.normalize("NFKC", value).strip().replace("/", "-")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date; write it as YYYY-MM-DD.") from None


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        try:
            return _jsonable(value.item())
        except (ValueError, AttributeError):
            pass
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


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


def write_frame(data: Any, out: Path, *, sheet: str = "result") -> None:
    """Write a table to a file whose extension says the format."""
    df = _frame(data)
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        df.to_csv(out, index=False)
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
        df2.to_excel(out, index=False, sheet_name=sheet[:31])
    else:
        raise InputError(f"Cannot write {out.name}: use an extension .csv, .parquet, .json or .xlsx.")


def emit(data: Any, *, json_: bool = False, csv_: bool = False, out: Path | None = None, title: str | None = None,
         max_rows: int = 50, meta: dict[str, Any] | None = None) -> None:
    """Print a result as a table (default), JSON or CSV, and write it to ``--out`` when given."""
    if json_ and csv_:
        raise InputError("Choose one of --json and --csv.")
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
        _frame(data).to_csv(sys.stdout, index=False)
        return
    if out is not None and not isinstance(data, dict):
        console.print(f"Wrote {len(_frame(data)):,} rows to {out}")
        return
    print_table(data, title=title, max_rows=max_rows)


def _fmt(value: Any) -> str:
    value = _jsonable(value)
    if value is None:
        return ""
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def print_table(data: Any, *, title: str | None = None, max_rows: int = 50) -> None:
    if isinstance(data, dict):
        table = Table(title=title, show_header=False)
        table.add_column("", style="bold")
        table.add_column("")
        for k, v in data.items():
            table.add_row(str(k), json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (list, dict)) else _fmt(v))
        console.print(table)
        return
    df = _frame(data)
    table = Table(title=title)
    for col in df.columns:
        table.add_column(str(col), justify="right" if df[col].dtype.kind in "iuf" else "left")
    for row in df.head(max_rows).itertuples(index=False):
        table.add_row(*(_fmt(v) for v in row))
    console.print(table)
    if len(df) > max_rows:
        console.print(f"… {len(df) - max_rows:,} more rows (use --csv, --json or --out FILE for all).")

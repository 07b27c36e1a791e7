"""``ltv report``: the self-contained HTML report (ja/en) and the Excel workbook."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..config import SETTINGS
from ._app import app
from ._common import DEFAULT_WS, AsOfOpt, WorkspaceOpt, check_lang, console, open_workspace, parse_date

if TYPE_CHECKING:
    from ..reports import ReportPaths
    from ..workspace import Workspace

_DEFAULT_LANG = str(next(s for s in SETTINGS if s.name == "lang").default)  # LTV_LANG: typer envvar


def write_report(ws: Workspace, *, lang: str = "ja", out: Path | None = Path("report.html"), xlsx: Path | None = None,
                 as_of: dt.date | None = None, compute_missing: bool = True, show_progress: bool = True,
                 costs: Any = None) -> ReportPaths:
    """Build the report with a progress bar (one step per section) and return :class:`ReportPaths`."""
    from ..reports import build_report
    from ..reports.sections import BUILDERS

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True, disable=not show_progress) as bar:
        task = bar.add_task("report", total=len(BUILDERS) + 1)
        started = [False]

        def step(key: str, title: str) -> None:
            if started[0]:
                bar.advance(task)
            started[0] = True
            bar.update(task, description=title)

        paths = build_report(ws, lang=lang, out=out, xlsx=xlsx, progress=step, as_of=as_of,
                             compute_missing=compute_missing, costs=costs)
        bar.update(task, completed=len(BUILDERS) + 1)
    return paths


@app.command()
def report(
    workspace: WorkspaceOpt = DEFAULT_WS,
    lang: Annotated[str, typer.Option("--lang", help="Language of the report: ja or en.", envvar="LTV_LANG")] = _DEFAULT_LANG,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("report.html"),
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Also write the tables to this Excel file (.xlsx).")] = None,
    as_of: AsOfOpt = None,
    costs: Annotated[Path | None, typer.Option("--costs", help="Acquisition costs (CSV or YAML with channel and spend or cac) for LTV vs CAC.")] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="Only show stored results; compute nothing missing.")] = False,
) -> None:
    """Write the report: one self-contained HTML page (opens offline) and, with --xlsx, an Excel workbook.

    \b
    Example:
        ltv report --lang ja --out report.html --xlsx report.xlsx
    """
    check_lang(lang)
    day = parse_date(as_of)
    with open_workspace(workspace, read_only=read_only) as ws:
        paths = write_report(ws, lang=lang, out=out, xlsx=xlsx, as_of=day, compute_missing=not read_only, costs=costs)
    data = paths.data
    console.print(f"Wrote {paths.html} ({paths.html.stat().st_size / 1e6:.1f} MB, {len(data.sections)} sections, "
                  f"{len(data.charts())} charts)")
    if paths.xlsx is not None:
        console.print(f"Wrote {paths.xlsx} ({len(data.tables())} tables)")
    for u in data.unavailable:
        console.print(f"  not in the report yet: {u.title} ({u.reason})", markup=False)

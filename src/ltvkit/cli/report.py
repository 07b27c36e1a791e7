"""``ltv report``: the self-contained HTML report (ja/en) and the Excel workbook."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..i18n import format_number, t
from ._app import app
from ._common import (
    DEFAULT_WS,
    AsOfOpt,
    CostRateOpt,
    EngineOpt,
    LangOpt,
    MarginOpt,
    WorkspaceOpt,
    check_out,
    console,
    open_workspace,
    parse_date,
    use_engine,
    use_lang,
)

if TYPE_CHECKING:
    from ..reports import ReportPaths
    from ..store import Workspace

def write_report(ws: Workspace, *, lang: str = "ja", out: Path | None = Path("report.html"), xlsx: Path | None = None,
                 as_of: dt.date | None = None, compute_missing: bool = True, show_progress: bool = True,
                 costs: Any = None, margin: Any = None) -> ReportPaths:
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
                             compute_missing=compute_missing, costs=costs, margin=margin)
        bar.update(task, completed=len(BUILDERS) + 1)
    return paths


@app.command()
def report(
    workspace: WorkspaceOpt = DEFAULT_WS,
    lang: LangOpt = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("report.html"),
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Also write the tables to this Excel file (.xlsx).")] = None,
    as_of: AsOfOpt = None,
    costs: Annotated[Path | None, typer.Option("--costs", help="Acquisition costs (CSV or YAML with channel and spend or cac) for LTV vs CAC.")] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="Only show stored results; compute nothing missing.")] = False,
    margin_config: MarginOpt = None,
    cost_rate: CostRateOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Write the report: one self-contained HTML page (opens offline) and, with --xlsx, an Excel workbook.

    \b
    Example:
        ltv report --lang ja --out report.html --xlsx report.xlsx
    """
    from .analytics import _margin

    lang = use_lang(lang)
    day = parse_date(as_of)
    for path in (out, xlsx):
        if path is not None:
            check_out(path, lang)
    margin = _margin(margin_config, cost_rate) if margin_config is not None or cost_rate is not None else None
    with open_workspace(workspace, read_only=read_only) as ws:
        use_engine(ws, engine)
        paths = write_report(ws, lang=lang, out=out, xlsx=xlsx, as_of=day, compute_missing=not read_only, costs=costs,
                             margin=margin)
    data = paths.data
    console.print(t("cli.report.wrote_html", lang, path=str(paths.html),
                    size=format_number(paths.html.stat().st_size / 1e6, lang, digits=1),
                    sections=len(data.sections), charts=len(data.charts())), markup=False)
    if paths.xlsx is not None:
        console.print(t("cli.report.wrote_xlsx", lang, path=str(paths.xlsx), tables=len(data.tables())), markup=False)
    for u in data.unavailable:
        console.print(t("cli.report.unavailable", lang, title=u.title, reason=u.reason), markup=False)

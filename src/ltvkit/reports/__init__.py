"""The report a shop owner reads: one :class:`ReportData`, rendered as a self-contained HTML page and an Excel file.

Examples
--------
>>> from ltvkit import Workspace
>>> from ltvkit.reports import build_report
>>> paths = build_report(Workspace("ltv.duckdb"), lang="ja", out="report.html", xlsx="report.xlsx")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data import Chart, Kpi, ReportData, ReportSettings, Section, TableBlock, Unavailable, build_report_data
from .render_html import render_html
from .render_xlsx import write_xlsx

if TYPE_CHECKING:
    from ..store import Workspace

__all__ = [
    "Chart",
    "Kpi",
    "ReportData",
    "ReportPaths",
    "ReportSettings",
    "Section",
    "TableBlock",
    "Unavailable",
    "build_report",
    "build_report_data",
    "render_html",
    "write_xlsx",
]


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`build_report` wrote the report, and what it holds."""

    html: Path | None
    xlsx: Path | None
    data: ReportData


def build_report(ws: Workspace, *, lang: str | None = None, out: str | os.PathLike[str] | None = "report.html",
                 xlsx: str | os.PathLike[str] | None = None, settings: ReportSettings | None = None,
                 progress: Callable[[str, str], None] | None = None, **overrides: Any) -> ReportPaths:
    """Build the report from the workspace and write the HTML page (and the Excel workbook when ``xlsx``).

    Parameters
    ----------
    ws
        The workspace (writable when missing results should be computed and stored).
    lang
        ``ja`` or ``en`` (default: the settings' language, Japanese unless told otherwise).
    out
        The HTML file to write (``None``: no HTML).
    xlsx
        The Excel file to write (``None``: no workbook).
    settings, overrides
        :class:`ReportSettings` and single fields replacing its values.
    progress
        Called as ``progress(key, title)`` before each section is built.

    Returns
    -------
    ReportPaths
        ``html``, ``xlsx`` and the :class:`ReportData` that was rendered.
    """
    if lang is not None:
        overrides["lang"] = lang
    data = build_report_data(ws, settings, progress=progress, **overrides)
    html_path = None
    if out is not None:
        html_path = Path(out)
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(render_html(data), encoding="utf-8")
    xlsx_path = write_xlsx(data, Path(xlsx)) if xlsx is not None else None
    return ReportPaths(html=html_path, xlsx=xlsx_path, data=data)

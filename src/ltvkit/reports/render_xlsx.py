"""ReportData -> an Excel workbook: a summary sheet, then every table of the report on its own sheet."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import InputError
from ..i18n import format_date, t

if TYPE_CHECKING:
    from .data import ReportData, TableBlock

__all__ = ["write_xlsx"]

_NUMBER_FORMATS = {
    "yen": "#,##0",
    "int": "#,##0",
    "pct": "0.0%",
    "float": "#,##0.00",
    "days": "#,##0",
    "months": "#,##0.0",
    "years": "#,##0.00",
    "ratio": "0.00",
}
_BAD_SHEET_CHARS = re.compile(r"[\[\]\*\?/\\:]")


def _sheet_name(title: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub(" ", title).strip().strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.casefold() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.casefold())
    return name


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (int, float, bool, dt.date, dt.datetime)):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _write_table(wb: Any, tb: TableBlock, used: set[str]) -> str:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(_sheet_name(tb.title, used))
    cols = [str(c) for c in tb.frame.columns]
    ws.append([tb.header(c) for c in cols])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="E8EEF6")
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
    for row in tb.frame.itertuples(index=False, name=None):
        ws.append([_cell(v) for v in row])
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # text from the data that starts with "=" stays text, never a formula
                cell.data_type = "s"
    for j, c in enumerate(cols, start=1):
        letter = get_column_letter(j)
        number_format = _NUMBER_FORMATS.get(tb.kinds.get(c, "text"))
        if number_format:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = number_format
        width = max([len(tb.header(c))] + [len(str(v)) for v in tb.frame[c].head(200)]) if len(cols) else 8
        ws.column_dimensions[letter].width = min(max(8, width * 1.3 + 2), 60)
    ws.freeze_panes = "A2"
    return ws.title


def write_xlsx(report: ReportData, path: Path) -> Path:
    """Write ``report`` to ``path`` (.xlsx) and return the path."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    if path.suffix.lower() != ".xlsx":
        raise InputError(key="err.xlsx_extension", name=path.name)
    lang = report.lang
    wb = Workbook()
    summary = wb.active
    summary.title = t("report.workbook_summary", lang)
    used = {summary.title.casefold()}
    summary.append([t("report.title", lang)])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([t("report.generated", lang), report.generated_at])
    if report.shop.get("first_order_at"):
        summary.append([t("report.period", lang), t("report.date_range", lang,
                                                      start=format_date(report.shop["first_order_at"], lang, time=False),
                                                      end=format_date(report.shop["last_order_at"], lang, time=False))])
    summary.append([])
    summary.append([t("report.item", lang), t("report.value", lang)])
    for s in report.sections:
        for k in s.kpis:
            summary.append([k.label, _cell(k.value)])
            number_format = _NUMBER_FORMATS.get(k.kind)
            if number_format:
                summary.cell(row=summary.max_row, column=2).number_format = number_format
    summary.append([])
    summary.append([t("report.sheet_contents", lang)])
    summary.cell(row=summary.max_row, column=1).font = Font(bold=True)
    listing = []
    for tb in report.tables():
        name = _write_table(wb, tb, used)
        sentence = next((c.sentence for s in report.sections for c in s.charts if c.table is tb), tb.sentence)
        listing.append((name, sentence))
    for name, sentence in listing:
        summary.append([name, sentence])
    if report.unavailable:
        summary.append([])
        summary.append([t("report.not_available", lang)])
        summary.cell(row=summary.max_row, column=1).font = Font(bold=True)
        for u in report.unavailable:
            summary.append([u.title, u.reason])
    summary.column_dimensions["A"].width = 36
    summary.column_dimensions["B"].width = 90
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path

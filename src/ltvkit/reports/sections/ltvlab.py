"""LTV-Lab views: monthly new/repeat sales, purchase counts, LTV by first product and category, 定期
continuation, 引き上げ率, prefectures and year over year (tables; the Excel workbook gets one sheet each)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ... import pipeline
from ...exceptions import InputError
from ...features.views import VIEWS
from ...i18n import column_kind, label, t
from ..data import Section, TableBlock
from ._common import as_of, clean, margin, reuse

if TYPE_CHECKING:
    from ...store import Workspace
    from ..data import ReportSettings

_TEXT_COLUMNS = {"month": "text", "purchases": "text", "first": "text", "first_sku": "text", "first_category": "text",
         "trial_sku": "text", "prefecture": "text"}
_COUNTS = ("customers", "new_customers", "mature_customers", "subscriptions", "trial_customers", "upgraded",
           "delivery", "orders")


def _kinds(columns: list[str]) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for c in columns:
        if c in _TEXT_COLUMNS:
            kinds[c] = "text"
        elif c in _COUNTS or c.endswith("_orders") or c.endswith("_prev_year") and not c.startswith("revenue"):
            kinds[c] = "int"
        else:
            kinds[c] = column_kind(c) or "float"
    return kinds


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    lang = settings.lang
    day = as_of(ws, settings)
    tables = []
    for kind in VIEWS:
        try:
            res = pipeline.view(ws, day, kind, **reuse(settings), **margin(settings))
        except InputError:  # e.g. no prefectures from these sources
            continue
        if res is None or res.data is None or len(res.data) == 0:
            continue
        frame = clean(res.data)
        if "month" in frame:
            frame["month"] = frame["month"].map(lambda v: v.strftime("%Y-%m") if hasattr(v, "strftime") else v)
        if kind == "first_category" and set(frame["first_category"]) <= {"(none)"}:
            continue  # no categories known: the view would be one row of everybody
        cols = [str(c) for c in frame.columns]
        tables.append(TableBlock(f"view_{kind}", t(f"cli.title.view.{kind}", lang), frame,
                                 {c: label(c, lang) for c in cols}, _kinds(cols), t(f"report.view.{kind}", lang)))
    if not tables:
        return None
    return Section("ltvlab", t("report.sec_ltvlab", lang), intro=t("report.ltvlab.intro", lang), tables=tables)

"""ReportData -> one self-contained HTML page (Jinja template, CSS, plotly.js and data inline; opens offline).

Every text from the data goes through Jinja's autoescaping; chart data travels as JSON inside
``<script type="application/json">`` with ``<``, ``>``, ``&`` and U+2028/2029 escaped, and strings drawn by
Plotly are HTML-escaped when the figure is built (Plotly reads a small HTML subset in labels).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import jinja2

from ..i18n import fmt, format_date, format_number, t
from ._json import script_json

if TYPE_CHECKING:
    from .data import ReportData, TableBlock

__all__ = ["plotly_js", "render_html"]

_NUMERIC_KINDS = {"yen", "int", "pct", "float", "days", "months", "years", "ratio"}


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ltvkit.reports", "templates"),
        autoescape=True,
        trim_blocks=False,
        lstrip_blocks=False,
        undefined=jinja2.StrictUndefined,
    )


def _static(name: str) -> str:
    return resources.files("ltvkit.reports").joinpath("static", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The minified plotly.js shipped inside the installed ``plotly`` Python package."""
    text = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_text(encoding="utf-8")
    # A literal "</script" would close the inline element early; it is not in current bundles, but be safe.
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def _dom_id(key: str, seen: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", key.lower()).strip("-") or "chart"
    dom, n = base, 2
    while dom in seen:
        dom, n = f"{base}-{n}", n + 1
    seen.add(dom)
    return dom


def _table_view(tb: TableBlock, lang: str, max_rows: int) -> dict[str, Any]:
    frame = tb.frame
    cols = [str(c) for c in frame.columns]
    headers = [{"text": tb.header(c), "align": "num" if tb.kinds.get(c, "text") in _NUMERIC_KINDS else ""}
               for c in cols]
    shown = frame.head(max_rows)
    rows = [[fmt(v, tb.kinds.get(c, "text"), lang) for c, v in zip(cols, row, strict=True)]
            for row in shown.itertuples(index=False, name=None)]
    more = t("report.rows_shown", lang, shown=format_number(len(shown), lang), total=format_number(len(frame), lang)) if len(frame) > len(shown) else ""
    return {"key": tb.key, "title": tb.title, "sentence": tb.sentence, "headers": headers, "rows": rows,
            "more": more}


def _period(shop: dict[str, Any], lang: str) -> str | None:
    """The date range of the orders, in the shop's calendar (``2023-04-01 〜 2025-12-31``)."""
    if not shop.get("first_order_at"):
        return None
    return t("report.date_range", lang, start=format_date(shop["first_order_at"], lang, time=False),
             end=format_date(shop["last_order_at"], lang, time=False))


def render_html(report: ReportData, *, max_table_rows: int | None = None) -> str:
    """Render the report as one HTML document (a string); ``max_table_rows`` defaults to the report's."""
    from .. import __version__

    if max_table_rows is None:
        max_table_rows = report.max_table_rows
    lang = report.lang
    seen: set[str] = set()
    sections = []
    charts_json = []
    for s in report.sections:
        charts = []
        for c in s.charts:
            dom = _dom_id(c.key, seen)
            charts.append({"dom_id": dom, "title": c.title, "sentence": c.sentence,
                           "table": _table_view(c.table, lang, max_table_rows) if c.table is not None else None})
            charts_json.append({"id": dom, "figure": c.figure})
        sections.append({
            "key": s.key, "title": s.title, "intro": s.intro, "notes": s.notes,
            "kpis": [{"key": k.key, "label": k.label, "text": k.text(lang), "help": k.help} for k in s.kpis],
            "charts": charts,
            "tables": [_table_view(tb, lang, max_table_rows) for tb in s.tables],
        })
    texts = {k: t(f"report.{k}", lang) for k in ("period", "as_of", "generated", "contents", "not_available",
                                     "not_available_intro", "privacy_note", "footer", "show_data")}
    template = _env().get_template("report.html.j2")
    return template.render(
        lang=lang,
        version=__version__,
        title=t("report.title", lang),
        t=texts,
        shop=report.shop,
        period=_period(report.shop, lang),
        as_of=format_date(report.as_of, lang) if report.as_of else None,
        generated_at=format_date(report.generated_at.replace(second=0), lang),
        sections=sections,
        unavailable=report.unavailable,
        css=_static("report.css"),
        app_js=_static("report.js"),
        plotly_js=plotly_js() if charts_json else "",
        has_charts=bool(charts_json),
        data_json=script_json({"lang": lang, "charts": charts_json}),
    )

"""ReportData: everything the report shows, built once from the workspace, rendered many ways.

A report is a list of :class:`Section` objects, each made by an independent builder
``(workspace, settings) -> Section | None`` (see :mod:`ltvkit.reports.sections`). Builders only read: they ask
:mod:`ltvkit.pipeline` for each result, which reads it from the workspace or computes and stores it. A builder
returns ``None`` (or raises :class:`~ltvkit.exceptions.MissingDataError`) when what it needs is not in the
workspace; the report then lists that analysis as not available yet, so it always renders. An import error is a
bug and is raised. :meth:`ReportData.to_dict`, :meth:`ReportData.to_text`, :meth:`ReportData.to_html` and
:meth:`ReportData.to_xlsx` render the same object.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import InputError, LtvkitError
from ..i18n import LANGS, fmt, t

if TYPE_CHECKING:
    import pandas as pd

    from ..store import Workspace

__all__ = [
    "Chart",
    "Kpi",
    "ReportData",
    "ReportSettings",
    "Section",
    "TableBlock",
    "Unavailable",
    "build_report_data",
]


@dataclass(frozen=True)
class ReportSettings:
    """What to put in the report and how.

    Parameters
    ----------
    lang
        ``ja`` or ``en``: the language of every heading, label and sentence.
    as_of
        Analyse as of this date (later orders are ignored by the analyses that support it).
    compute_missing
        Compute analyses whose stored results are missing (and store them); ``False`` only reads.
    max_table_rows
        Rows of each table shown in the HTML page (the Excel file has all rows).
    at_risk_top
        How many of the valuable customers most at risk to list.
    recommendation_sample
        How many customers' recommendations to show.
    costs
        Acquisition costs for the LTV vs CAC section: a CSV or YAML file as ``ltv cac --costs`` reads
        (``channel`` and ``spend`` or ``cac``), or a DataFrame with those columns.
    margin
        Margin settings (SKU costs, cost rate, mall fees) for every margin of the report, as
        ``ltv report --margin-config`` reads them (default: the shipped defaults, as every command).
    strict
        Raise unexpected errors of a section builder instead of listing the section as failed (tests).
    cache
        Results shared by the builders of one report (filled while building; leave it empty).
    """

    lang: str = "ja"
    as_of: dt.date | None = None
    compute_missing: bool = True
    max_table_rows: int = 50
    at_risk_top: int = 20
    margin: Any = None
    recommendation_sample: int = 15
    costs: Any = None
    strict: bool = False
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class Kpi:
    """One headline number."""

    key: str
    label: str
    value: Any
    kind: str = "float"
    help: str = ""

    def text(self, lang: str) -> str:
        return fmt(self.value, self.kind, lang)


@dataclass
class TableBlock:
    """A table: internal column names in ``frame``, reader-facing headers in ``labels``, formats in ``kinds``."""

    key: str
    title: str
    frame: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    sentence: str = ""

    def header(self, column: str) -> str:
        return self.labels.get(column, column)


@dataclass
class Chart:
    """A Plotly figure as plain JSON data (``{"data": [...], "layout": {...}}``) and the sentence that reads it."""

    key: str
    title: str
    figure: dict[str, Any]
    sentence: str = ""
    table: TableBlock | None = None


@dataclass
class Section:
    """One part of the report: headline numbers, charts and tables."""

    key: str
    title: str
    intro: str = ""
    kpis: list[Kpi] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[TableBlock] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Unavailable:
    """An analysis the report could not show, and why."""

    key: str
    title: str
    reason: str


@dataclass
class ReportData:
    """Everything the report shows; build it with :func:`build_report_data`.

    Attributes
    ----------
    lang
        Language of the texts.
    shop
        Counts and date range of the order store (no personal data).
    sections
        Sections in page order.
    unavailable
        Analyses that are not in the report yet, with the reason.
    generated_at
        When the data was built.
    as_of
        The analysis date given in the settings (``None``: the last order date).
    max_table_rows
        Rows of each table shown in the HTML page.
    """

    lang: str
    shop: dict[str, Any]
    sections: list[Section]
    unavailable: list[Unavailable]
    generated_at: dt.datetime
    as_of: dt.date | None = None
    max_table_rows: int = 50

    # -- access -------------------------------------------------------------------------------------------
    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts]

    def tables(self) -> list[TableBlock]:
        """Every table of the report, chart data included, in page order (one Excel sheet each)."""
        out: list[TableBlock] = []
        for s in self.sections:
            out.extend(c.table for c in s.charts if c.table is not None)
            out.extend(s.tables)
        return out

    # -- renderings ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (for an API or tests)."""
        from ._json import jsonable, table_records

        def table(tb: TableBlock) -> dict[str, Any]:
            return {"key": tb.key, "title": tb.title, "labels": tb.labels, "kinds": tb.kinds,
                    "sentence": tb.sentence, "rows": table_records(tb.frame)}

        return {
            "lang": self.lang,
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "shop": jsonable(self.shop),
            "sections": [
                {
                    "key": s.key, "title": s.title, "intro": s.intro, "notes": s.notes,
                    "kpis": [{"key": k.key, "label": k.label, "value": jsonable(k.value), "kind": k.kind,
                              "text": k.text(self.lang), "help": k.help} for k in s.kpis],
                    "charts": [{"key": c.key, "title": c.title, "sentence": c.sentence, "figure": jsonable(c.figure),
                                "table": table(c.table) if c.table is not None else None} for c in s.charts],
                    "tables": [table(tb) for tb in s.tables],
                }
                for s in self.sections
            ],
            "unavailable": [{"key": u.key, "title": u.title, "reason": u.reason} for u in self.unavailable],
        }

    def to_text(self) -> str:
        """A short plain-text summary: the key figures, one sentence per chart, and what is missing."""
        lines = [t("report.title", self.lang)]
        for s in self.sections:
            lines.append("")
            lines.append(f"## {s.title}")
            lines.extend(f"- {k.label}: {k.text(self.lang)}" for k in s.kpis)
            lines.extend(f"- {c.sentence}" for c in s.charts if c.sentence)
        if self.unavailable:
            lines.append("")
            lines.append(f"## {t('report.not_available', self.lang)}")
            lines.extend(f"- {u.title}: {u.reason}" for u in self.unavailable)
        return "\n".join(lines)

    def to_html(self) -> str:
        """The self-contained HTML page (CSS, JavaScript and data inline; opens offline)."""
        from .render_html import render_html

        return render_html(self)

    def to_xlsx(self, path: str | Path) -> Path:
        """Write the Excel workbook (one sheet per table) and return its path."""
        from .render_xlsx import write_xlsx

        return write_xlsx(self, Path(path))


Builder = Callable[["Workspace", ReportSettings], "Section | None"]


def _shop_info(ws: Workspace) -> dict[str, Any]:
    info = ws.info()
    keep = ("orders", "order_lines", "customers", "products", "first_order_at", "last_order_at", "timezone")
    shop = {k: info.get(k) for k in keep}
    shop["sources"] = [s["source"] for s in info.get("sources", [])]
    return shop


def _reason(exc: BaseException, lang: str) -> str:
    if isinstance(exc, LtvkitError):
        text = exc.localized(lang).strip()
        return text.splitlines()[0] if text else type(exc).__name__
    return t("report.failed", lang, error=f"{type(exc).__name__}: {exc}")


def build_report_data(ws: Workspace, settings: ReportSettings | None = None, *,
                      builders: Sequence[tuple[str, Builder]] | None = None,
                      progress: Callable[[str, str], None] | None = None, **overrides: Any) -> ReportData:
    """Build the report's data from the workspace: read stored results, compute what is missing.

    Parameters
    ----------
    ws
        The workspace.
    settings
        :class:`ReportSettings`; keyword ``overrides`` replace single fields (``lang="en"``).
    builders
        ``(key, builder)`` pairs; the default is :data:`ltvkit.reports.sections.BUILDERS`.
    progress
        Called as ``progress(key, title)`` before each section is built (the CLI shows a progress bar).

    Returns
    -------
    ReportData
    """
    settings = replace(settings or ReportSettings(), **{"cache": {}, **overrides})
    if settings.lang not in LANGS:
        raise InputError(key="err.unknown_language", value=settings.lang)
    ws.require_orders()
    from ..pipeline import shared_order_tables

    if builders is None:
        from .sections import BUILDERS

        builders = BUILDERS
    lang = settings.lang
    sections: list[Section] = []
    unavailable: list[Unavailable] = []
    # the engine's work (the shared order tables first) within LTV_REPORT_MEMORY; beyond it, it spills to disk
    with ws.memory_limit(ws.settings().report_memory, setting="LTV_REPORT_MEMORY"), shared_order_tables(ws):
        # the sections that compute group the lines into orders once
        for key, builder in builders:
            title = t(f"report.sec_{key}", lang)
            if progress is not None:
                progress(key, title)
            try:
                section = builder(ws, settings)
            except LtvkitError as exc:  # missing data, too little to fit: listed, not raised
                unavailable.append(Unavailable(key, title, _reason(exc, lang)))
                continue
            except ImportError:  # a broken import is a bug of ltvkit, never "not available"
                raise
            except Exception as exc:
                if settings.strict:
                    raise
                warnings.warn(f"Report section {key!r} failed: {type(exc).__name__}: {exc}", RuntimeWarning,
                              stacklevel=2)
                unavailable.append(Unavailable(key, title, _reason(exc, lang)))
                continue
            if section is None:
                unavailable.append(Unavailable(key, title, t("report.no_data", lang)))
            else:
                sections.append(section)
    return ReportData(lang=lang, shop=_shop_info(ws), sections=sections, unavailable=unavailable,
                      generated_at=dt.datetime.now().replace(microsecond=0), as_of=settings.as_of,
                      max_table_rows=settings.max_table_rows)

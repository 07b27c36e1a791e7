"""KPI header: customers, AOV, purchases per year, lifespan, textbook LTV, 12/24-month margin LTV, F2."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ... import pipeline
from ...i18n import t
from .. import narrative
from ..data import Kpi, Section
from ._common import as_of, cohort_summary, margin, reuse, weighted_mean

if TYPE_CHECKING:
    from ...store import Workspace
    from ..data import ReportSettings


def margin_ltv(ws: Workspace, settings: ReportSettings) -> tuple[float | None, float | None]:
    """Cohort-size weighted 12- and 24-month margin LTV over the cohorts observed that long."""
    summary = cohort_summary(ws, settings, as_of(ws, settings))
    if summary is None:
        return None, None
    m12 = weighted_mean(summary["margin_ltv_12m"], summary["cohort_size"])
    m24 = weighted_mean(summary["margin_ltv_24m"], summary["cohort_size"])
    return m12, m24


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    lang = settings.lang
    res = pipeline.summary(ws, as_of(ws, settings), **reuse(settings), **margin(settings))
    if res is None or not res.data.get("customers"):
        return None
    k = res.data
    m12, m24 = margin_ltv(ws, settings)
    kpis = [
        Kpi("customers", t("report.kpi_customers", lang), k.get("customers"), "int"),
        Kpi("orders", t("report.kpi_orders", lang), k.get("orders"), "int"),
        Kpi("aov", t("report.kpi_aov", lang), k.get("aov"), "yen"),
        Kpi("purchases_per_year", t("report.kpi_frequency", lang), k.get("purchases_per_year"), "float"),
        Kpi("lifespan_years", t("report.kpi_lifespan", lang), k.get("lifespan_years"), "years"),
        Kpi("textbook_ltv", t("report.kpi_textbook_ltv", lang), k.get("textbook_ltv"), "yen", t("report.kpi_help_textbook", lang)),
        Kpi("margin_ltv_12m", t("report.kpi_margin_ltv_12m", lang), m12, "yen", t("report.kpi_help_margin", lang)),
        Kpi("margin_ltv_24m", t("report.kpi_margin_ltv_24m", lang), m24, "yen", t("report.kpi_help_margin", lang)),
        Kpi("f2_rate", t("report.kpi_f2", lang), k.get("f2_rate_365d"), "pct", t("report.kpi_help_f2", lang)),
        Kpi("retention_rate", t("report.kpi_retention", lang), k.get("retention_rate"), "pct"),
    ]
    return Section("kpi", t("report.sec_kpi", lang), intro=narrative.kpi_sentence(k, m12, lang), kpis=kpis)

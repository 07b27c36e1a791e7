"""Per-customer and per-cohort features, written once in Ibis (DuckDB by default, Spark unchanged)."""

from __future__ import annotations

from ..i18n import label, relabel
from .at_risk import AT_RISK_RULES, at_risk_customers
from .cac import cac_table, read_costs
from .cohorts import cohort_expr, cohort_summary, cohort_table, f2_table, golden_time, pivot_cohorts
from .ltv import ltv_components, retention_ltv, shop_summary, textbook_ltv
from .margin import MarginSettings, margin_lines
from .points import PointSettings, acquisition_comparison, point_dependence, point_segment_summary
from .rfm import rfm_summary
from .segments import CpmSettings, pareto_table, segment_customers, segment_summary

__all__ = [
    "AT_RISK_RULES",
    "at_risk_customers",
    "acquisition_comparison",
    "cac_table",
    "cohort_expr",
    "cohort_summary",
    "cohort_table",
    "CpmSettings",
    "f2_table",
    "golden_time",
    "label",
    "ltv_components",
    "margin_lines",
    "MarginSettings",
    "pareto_table",
    "pivot_cohorts",
    "point_dependence",
    "point_segment_summary",
    "PointSettings",
    "read_costs",
    "relabel",
    "retention_ltv",
    "rfm_summary",
    "segment_customers",
    "segment_summary",
    "shop_summary",
    "textbook_ltv",
]

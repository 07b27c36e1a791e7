"""LTV vs acquisition cost per channel: 限界CPA (break-even CPA), target CPA, payback months, LTV/CAC."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import pipeline
from ...i18n import t
from .. import _figures as fig
from .. import narrative
from ..data import Chart, Section, TableBlock
from ._common import as_of, margin, reuse

if TYPE_CHECKING:
    from ...store import Workspace
    from ..data import ReportSettings

WINDOW_DAYS = 365


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    lang = settings.lang
    res = pipeline.cac(ws, as_of(ws, settings), costs=settings.costs, window_days=WINDOW_DAYS, **reuse(settings),
                       **margin(settings))
    if res is None or res.data.empty:
        return None
    table, has_costs = res.data, bool(res.details.get("has_costs"))
    table = table[table["mature_customers"] > 0].reset_index(drop=True) if len(table) else table
    if table.empty:
        return None
    x = table["channel"].tolist()
    ys: dict[str, Any] = {t("report.cac.break_even_cpa_365_day_margin_ltv", lang): table["breakeven_cpa"].tolist()}
    if has_costs:
        ys[t("report.cac.acquisition_cost_per_customer_cac", lang)] = table["cac"].tolist()
    figure = fig.bar(x, ys, hover_format=",.0f", y_title=t("report.cac.yen_per_new_customer", lang),
                     x_title=t("report.cac.acquisition_channel", lang))
    if has_costs and table["ltv_cac"].notna().any():
        ranked = table.dropna(subset=["ltv_cac"]).sort_values("ltv_cac", ascending=False)
        sentence = narrative.cac_sentence((ranked["channel"].iloc[0], float(ranked["ltv_cac"].iloc[0])),
                                          (ranked["channel"].iloc[-1], float(ranked["ltv_cac"].iloc[-1])), lang)
    else:
        ranked = table.dropna(subset=["breakeven_cpa"]).sort_values("breakeven_cpa", ascending=False)
        sentence = narrative.breakeven_sentence(
            (ranked["channel"].iloc[0], float(ranked["breakeven_cpa"].iloc[0])) if len(ranked) else None,
            (ranked["channel"].iloc[-1], float(ranked["breakeven_cpa"].iloc[-1])) if len(ranked) else None,
            WINDOW_DAYS, lang)
    cols = ["channel", "new_customers", "mature_customers", "margin_ltv", "breakeven_cpa", "target_cpa", "cac",
            "payback_months", "ltv_cac"]
    shown = table[[c for c in cols if c in table.columns]]
    if not has_costs:
        shown = shown.drop(columns=[c for c in ("cac", "payback_months", "ltv_cac", "target_cpa") if c in shown])
    tb = TableBlock("cac", t("report.cac.ltv_vs_cac_by_channel", lang), shown,
                    {"channel": t("report.cac.channel", lang), "new_customers": t("report.cac.new_customers", lang),
                     "mature_customers": t("report.cac.observed_365_days", lang),
                     "margin_ltv": t("report.cac.365_day_margin_ltv", lang),
                     "breakeven_cpa": t("report.cac.break_even_cpa", lang),
                     "target_cpa": t("report.cac.target_cpa", lang), "cac": t("report.cac.cac", lang),
                     "payback_months": t("report.cac.payback_months", lang), "ltv_cac": "LTV/CAC"},
                    {"new_customers": "int", "mature_customers": "int", "margin_ltv": "yen", "breakeven_cpa": "yen",
                     "target_cpa": "yen", "cac": "yen", "payback_months": "float", "ltv_cac": "ratio"},
                    "" if has_costs else t("report.cac.no_acquisition_costs_are_registered", lang))
    return Section("cac", t("report.sec_cac", lang),
                   charts=[Chart("cac", t("report.cac.break_even_cpa_and_cac_by_channel", lang),
                                 figure, sentence)],
                   tables=[tb])

"""LTV vs acquisition cost per channel: 限界CPA (break-even CPA), target CPA, payback months, LTV/CAC."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ...i18n import t
from .. import _figures as fig
from .. import narrative
from ..data import Chart, Section, TableBlock
from ._common import as_of, call, products

if TYPE_CHECKING:
    from ...workspace import Workspace
    from ..data import ReportSettings

WINDOW_DAYS = 365


def _normalise(raw: pd.DataFrame) -> pd.DataFrame | None:
    raw = raw.copy()
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    money = next((c for c in ("spend", "cost", "cac") if c in raw.columns), None)
    if "channel" not in raw.columns or money is None:
        return None
    per = raw.groupby(raw["channel"].astype(str), as_index=False)[money].sum(min_count=1)
    return pd.DataFrame({"channel": per["channel"], "spend": per[money] if money != "cac" else float("nan"),
                         "cac": per[money] if money == "cac" else float("nan"), "start": None, "end": None})


def costs_frame(ws: Workspace, settings: ReportSettings, channels: list[str]) -> tuple[pd.DataFrame, bool]:
    """Acquisition costs per channel and whether any are known.

    From the settings' ``costs`` (a CSV/YAML file as ``ltv cac --costs`` reads, or a DataFrame with ``channel``
    and ``spend``/``cost``/``cac``), else a stored ``result_acquisition_costs``, else none (限界CPA only).
    """
    from ...features.cac import read_costs

    given = settings.costs
    if isinstance(given, pd.DataFrame):
        frame = _normalise(given)
        if frame is not None:
            return frame, True
    elif given is not None:
        return read_costs(given), True
    if ws.has_result("acquisition_costs"):
        frame = _normalise(ws.read_result("acquisition_costs").to_pandas())
        if frame is not None:
            return frame, True
    return pd.DataFrame({"channel": channels, "spend": float("nan"), "cac": float("nan"), "start": None,
                         "end": None}), False


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    from ...features.cac import cac_table
    from ...features.cohorts import cohort_summary

    lang = settings.lang
    day = as_of(ws, settings)
    prods = products(ws)
    by_channel = call(cohort_summary, ws.orders(), day, split="channel", products=prods)
    channels = sorted(by_channel["segment"].astype(str).unique().tolist()) if len(by_channel) else []
    if not channels:
        return None
    costs, has_costs = costs_frame(ws, settings, channels)
    table = call(cac_table, ws.orders(), costs, day, window_days=WINDOW_DAYS, products=prods)
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

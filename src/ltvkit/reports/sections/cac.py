"""LTV vs acquisition cost per channel: 限界CPA (break-even CPA), target CPA, payback months, LTV/CAC."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import pipeline
from .. import _figures as fig
from .. import narrative
from .._i18n import label, t
from ..data import Chart, Section, TableBlock
from ._common import as_of, reuse

if TYPE_CHECKING:
    from ...store import Workspace
    from ..data import ReportSettings

WINDOW_DAYS = 365


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    lang = settings.lang
    res = pipeline.cac(ws, as_of(ws, settings), costs=settings.costs, window_days=WINDOW_DAYS, **reuse(settings))
    if res is None or res.data.empty:
        return None
    table, has_costs = res.data, bool(res.details.get("has_costs"))
    table = table[table["mature_customers"] > 0].reset_index(drop=True) if len(table) else table
    if table.empty:
        return None
    x = table["channel"].tolist()
    ys: dict[str, Any] = {label("Break-even CPA (365-day margin LTV)", "限界CPA（365日粗利LTV）", lang): table["breakeven_cpa"].tolist()}
    if has_costs:
        ys[label("Acquisition cost per customer (CAC)", "獲得単価（CAC）", lang)] = table["cac"].tolist()
    figure = fig.bar(x, ys, hover_format=",.0f", y_title=label("Yen per new customer", "新規顧客1人あたり（円）", lang),
                     x_title=label("Acquisition channel", "獲得チャネル", lang))
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
    tb = TableBlock("cac", label("LTV vs CAC by channel", "チャネル別 LTVと獲得コスト", lang), shown,
                    {"channel": label("Channel", "獲得チャネル", lang), "new_customers": label("New customers", "新規顧客数", lang),
                     "mature_customers": label("Observed 365 days", "365日経過した顧客数", lang),
                     "margin_ltv": label("365-day margin LTV", "365日粗利LTV", lang),
                     "breakeven_cpa": label("Break-even CPA", "限界CPA", lang),
                     "target_cpa": label("Target CPA", "目標CPA", lang), "cac": label("CAC", "獲得単価(CAC)", lang),
                     "payback_months": label("Payback (months)", "回収月数", lang), "ltv_cac": "LTV/CAC"},
                    {"new_customers": "int", "mature_customers": "int", "margin_ltv": "yen", "breakeven_cpa": "yen",
                     "target_cpa": "yen", "cac": "yen", "payback_months": "float", "ltv_cac": "ratio"},
                    "" if has_costs else label("No acquisition costs are registered; run `ltv report --costs FILE` to add them.",
                                               "広告費が登録されていません。`ltv report --costs ファイル` で追加できます。", lang))
    return Section("cac", t("sec_cac", lang),
                   charts=[Chart("cac", label("Break-even CPA and CAC by channel", "チャネル別 限界CPAと獲得単価", lang),
                                 figure, sentence)],
                   tables=[tb])

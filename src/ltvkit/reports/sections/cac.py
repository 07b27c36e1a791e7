"""LTV vs acquisition cost per channel: 限界CPA (break-even CPA), target CPA, payback months, LTV/CAC."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import _figures as fig
from .. import narrative
from .._i18n import label, t
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

"""RFM groups (Shopify names) and CPM 10 segments: sizes, value and the Pareto share of margin."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ... import pipeline
from .. import _figures as fig
from .. import narrative
from .._i18n import label, t
from ..data import Chart, Section, TableBlock
from ._common import as_of, clean, reuse

if TYPE_CHECKING:
    from ...store import Workspace
    from ..data import ReportSettings

def _table(summary: pd.DataFrame, key: str, title: str, lang: str) -> TableBlock:
    return TableBlock(key, title, summary,
                      {"segment": label("Segment", "セグメント", lang), "customers": label("Customers", "顧客数", lang),
                       "customer_share": label("Share of customers", "顧客構成比", lang),
                       "revenue": label("Revenue", "売上", lang), "margin": label("Margin", "粗利", lang),
                       "margin_share": label("Share of margin", "粗利構成比", lang),
                       "mean_orders": label("Mean orders", "平均注文数", lang),
                       "mean_recency_days": label("Mean days since last order", "最終購入からの平均日数", lang)},
                      {"customers": "int", "customer_share": "pct", "revenue": "yen", "margin": "yen",
                       "margin_share": "pct", "mean_orders": "float", "mean_recency_days": "days"})


def _share_chart(summary: pd.DataFrame, lang: str) -> dict:
    return fig.bar(summary["segment"].tolist(),
                   {label("Share of customers", "顧客構成比", lang): summary["customer_share"].tolist(),
                    label("Share of margin", "粗利構成比", lang): summary["margin_share"].tolist()},
                   y_format=".0%", hover_format=".1%", y_title=label("Share", "構成比", lang))


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    from ...features.labels import label as seg_label
    from ...features.segments import pareto_table, segment_summary

    lang = settings.lang
    day = as_of(ws, settings)
    charts, tables = [], []

    rfm_res = pipeline.segments(ws, day, kind="rfm", **reuse(settings))
    cpm_res = pipeline.segments(ws, day, kind="cpm", **reuse(settings))
    if rfm_res is None or cpm_res is None:
        return None
    rfm, cpm = rfm_res.data, cpm_res.data
    s = clean(segment_summary(rfm))
    s = s[s["customers"] > 0].reset_index(drop=True)
    if len(s):
        s["segment"] = s["segment"].map(lambda v: seg_label(v, lang))
        ranked = s.assign(lift=s["margin_share"] / s["customer_share"]).sort_values("margin_share", ascending=False)
        top = ranked.iloc[0]
        risk_name = seg_label("At risk", lang)
        risk = s[s["segment"] == risk_name]
        sentence = narrative.rfm_sentence(
            (top["segment"], float(top["customer_share"]), float(top["margin_share"])),
            (risk_name, float(risk["customer_share"].iloc[0])) if len(risk) else None, lang)
        tb = _table(s, "rfm_segments", label("RFM groups", "RFMグループ", lang), lang)
        charts.append(Chart("rfm_segments", label("RFM groups: share of customers and of margin", "RFMグループ別 顧客構成比と粗利構成比", lang),
                            _share_chart(s, lang), sentence))
        tables.append(tb)

    c = clean(segment_summary(cpm))
    c = c[c["customers"] > 0].reset_index(drop=True)
    if len(c):
        active = c[c["segment"].str.endswith("現役")]
        active_share = float(active["customers"].sum() / c["customers"].sum())
        best = c[c["segment"] == "優良現役"]
        best_t = ((seg_label("優良現役", lang), float(best["customer_share"].iloc[0]),
                   float(best["margin_share"].iloc[0])) if len(best) else None)
        sentence = narrative.cpm_sentence(active_share, best_t, lang)
        c["segment"] = c["segment"].map(lambda v: seg_label(v, lang))
        tb = _table(c, "cpm_segments", label("CPM segments", "CPM分析（10セグメント）", lang), lang)
        charts.append(Chart("cpm_segments", label("CPM segments: share of customers and of margin", "CPMセグメント別 顧客構成比と粗利構成比", lang),
                            _share_chart(c, lang), sentence))
        tables.append(tb)

    if not charts:
        return None
    pareto = clean(pareto_table(rfm))
    tables.append(TableBlock(
        "pareto", label("Pareto: share of margin from the best customers", "パレート分析：上位顧客の粗利構成比", lang),
        pareto, {"top_share": label("Top share of customers", "上位顧客の比率", lang),
                 "customers": label("Customers", "顧客数", lang),
                 "margin_share": label("Share of margin", "粗利構成比", lang)},
        {"top_share": "pct", "customers": "int", "margin_share": "pct"},
        label("The last row is the share of customers that earns 80% of the margin.",
              "最後の行は、粗利の80%を生む顧客の比率です。", lang)))
    return Section("segments", t("sec_segments", lang), charts=charts, tables=tables)

"""RFM groups (Shopify names) and CPM 10 segments: sizes, value and the Pareto share of margin."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ... import pipeline
from ...i18n import label, t
from .. import _figures as fig
from .. import narrative
from ..data import Chart, Section, TableBlock
from ._common import as_of, clean, margin, reuse

if TYPE_CHECKING:
    from ...store import Workspace
    from ..data import ReportSettings

def _table(summary: pd.DataFrame, key: str, title: str, lang: str) -> TableBlock:
    return TableBlock(key, title, summary,
                      {"segment": t("report.segments.segment", lang), "customers": t("report.segments.customers", lang),
                       "customer_share": t("report.segments.share_of_customers", lang),
                       "revenue": t("report.segments.revenue", lang), "margin": t("report.segments.margin", lang),
                       "margin_share": t("report.segments.share_of_margin", lang),
                       "mean_orders": t("report.segments.mean_orders", lang),
                       "mean_recency_days": t("report.segments.mean_days_since_last_order", lang)},
                      {"customers": "int", "customer_share": "pct", "revenue": "yen", "margin": "yen",
                       "margin_share": "pct", "mean_orders": "float", "mean_recency_days": "days"})


def _share_chart(summary: pd.DataFrame, lang: str) -> dict:
    return fig.bar(summary["segment"].tolist(),
                   {t("report.segments.share_of_customers", lang): summary["customer_share"].tolist(),
                    t("report.segments.share_of_margin", lang): summary["margin_share"].tolist()},
                   y_format=".0%", hover_format=".1%", y_title=t("report.segments.share", lang))


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    from ...features.segments import pareto_table, segment_summary
    from ...i18n import label as seg_label

    lang = settings.lang
    day = as_of(ws, settings)
    charts, tables = [], []

    rfm_res = pipeline.segments(ws, day, kind="rfm", **reuse(settings), **margin(settings))
    cpm_res = pipeline.segments(ws, day, kind="cpm", **reuse(settings), **margin(settings))
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
        tb = _table(s, "rfm_segments", t("report.segments.rfm_groups", lang), lang)
        charts.append(Chart("rfm_segments", t("report.segments.rfm_groups_share_of_customers_and_of", lang),
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
        tb = _table(c, "cpm_segments", t("report.segments.cpm_segments", lang), lang)
        charts.append(Chart("cpm_segments", t("report.segments.cpm_segments_share_of_customers_and", lang),
                            _share_chart(c, lang), sentence))
        tables.append(tb)

    if not charts:
        return None
    pareto = clean(pareto_table(rfm))
    pareto["row"] = pareto["row"].map(lambda v: label(v, lang))
    tables.append(TableBlock(
        "pareto", t("report.segments.pareto_share_of_margin_from_the_best", lang),
        pareto, {"row": label("row", lang), "top_share": t("report.segments.top_share_of_customers", lang),
                 "customers": t("report.segments.customers", lang),
                 "margin_share": t("report.segments.share_of_margin", lang)},
        {"row": "text", "top_share": "pct", "customers": "int", "margin_share": "pct"},
        t("report.segments.the_last_row_is_the_share_of", lang)))
    return Section("segments", t("report.sec_segments", lang), charts=charts, tables=tables)

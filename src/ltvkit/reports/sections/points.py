"""Point dependence: score distribution, point-acquired vs organic LTV curves with intervals, campaign share."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ... import pipeline
from .. import _figures as fig
from .. import narrative
from .._i18n import label, t
from ..data import Chart, Section, TableBlock
from ._common import as_of, clean, reuse, table_of

if TYPE_CHECKING:

    from ...store import Workspace
    from ..data import ReportSettings



def _score_chart(scores, lang: str) -> Chart | None:
    df = clean(scores.select("point_dependence_score", "point_segment", "orders", "base_rate").to_pandas())
    if df.empty:
        return None
    edges = np.linspace(0, 1, 21)
    counts, _ = np.histogram(df["point_dependence_score"].clip(0, 1).to_numpy(float), bins=edges)
    figure = fig.histogram(edges.tolist(), counts.tolist(),
                           x_title=label("Point-dependence score (0 = own rhythm, 1 = only with points)",
                                         "ポイント依存度スコア（0＝自分のペース、1＝ポイント時のみ）", lang),
                           y_title=label("Customers", "顧客数", lang))
    driven = float((df["point_segment"] == "point_driven").mean())
    tb = TableBlock("point_score", label("Point-dependence score distribution", "ポイント依存度スコアの分布", lang),
                    pd.DataFrame({"score_from": edges[:-1], "score_to": edges[1:], "customers": counts}),
                    {"score_from": label("Score from", "スコア下限", lang), "score_to": label("to", "上限", lang),
                     "customers": label("Customers", "顧客数", lang)},
                    {"score_from": "float", "score_to": "float", "customers": "int"})
    return Chart("point_score", label("How much customers depend on points and campaigns", "顧客のポイント・キャンペーン依存度", lang),
                 figure, narrative.point_score_sentence(driven, float(df["point_dependence_score"].mean()), lang), tb)


def _curves(df: pd.DataFrame, lang: str) -> Chart | None:
    """Mean cumulative margin per customer by 30-day step, point-acquired vs organic, with 95% intervals."""
    if df.empty:
        return None
    from ...features.labels import label as seg_label

    series, bands = {}, {}
    for g, part in df.groupby("group", sort=False):
        name = seg_label(g, lang)
        x = part["days"].tolist()
        series[name] = (x, part["margin_ltv"].tolist())
        bands[name] = (x, part["ci_low"].tolist(), part["ci_high"].tolist())
    figure = fig.lines(series, bands=bands,
                       x_title=label("Days since first purchase", "初回購入からの日数", lang),
                       y_title=label("Cumulative margin per customer (yen)", "1人あたり累積粗利（円）", lang))
    horizon = 360 if (df["days"] == 360).sum() == 2 else int(df.groupby("group")["days"].max().min())
    at = df[df["days"] == horizon].set_index("group")["margin_ltv"]
    sentence = narrative.point_ltv_sentence(at.get("point_acquired"), at.get("organic"), horizon, lang)
    out = df.assign(group=df["group"].map(lambda v: seg_label(v, lang)))
    tb = TableBlock("point_ltv_curves", label("Point-acquired vs organic margin LTV", "ポイント獲得とオーガニック獲得の粗利LTV", lang), out,
                    {"group": label("Acquired", "獲得区分", lang), "days": label("Days", "日数", lang),
                     "customers": label("Customers observed", "対象顧客数", lang),
                     "margin_ltv": label("Cumulative margin per customer", "1人あたり累積粗利", lang),
                     "ci_low": label("95% interval low", "95%信頼区間 下限", lang),
                     "ci_high": label("95% interval high", "95%信頼区間 上限", lang)},
                    {"days": "int", "customers": "int", "margin_ltv": "yen", "ci_low": "yen", "ci_high": "yen"},
                    label("Point-acquired: the first order fell in a campaign window or used points or coupons.",
                          "ポイント獲得：初回注文がキャンペーン期間中、またはポイント・クーポンを利用した顧客。", lang))
    return Chart("point_ltv_curves", label("Margin LTV: point-acquired vs organic customers", "粗利LTV：ポイント獲得顧客とオーガニック顧客", lang),
                 figure, sentence, tb)


def _campaign_share(monthly: pd.DataFrame, scores, lang: str) -> Chart | None:
    m = monthly.copy()
    if m.empty or not m["orders"].sum():
        return None
    m["month"] = pd.to_datetime(m["month"]).dt.strftime("%Y-%m")
    m["share"] = m["campaign"] / m["orders"]
    share = float(m["campaign"].sum() / m["orders"].sum())
    b = scores.aggregate(w=(scores.base_rate * scores.orders).sum(), n=scores.orders.sum()).to_pandas().iloc[0]
    base = float(b["w"]) / float(b["n"]) if b["n"] else None
    figure = fig.bar(m["month"].tolist(),
                     {label("Orders in campaigns", "キャンペーン期間の注文", lang): m["campaign"].tolist(),
                      label("Other orders", "それ以外の注文", lang): (m["orders"] - m["campaign"]).tolist()},
                     stacked=True, colors=("#e36209", "#9aa5b1"), y_title=label("Orders", "注文数", lang))
    tb = TableBlock("campaign_share", label("Campaign share of orders by month", "月別 キャンペーン期間の注文比率", lang),
                    m[["month", "orders", "campaign", "share"]],
                    {"month": label("Month", "月", lang), "orders": label("Orders", "注文数", lang),
                     "campaign": label("In campaigns", "キャンペーン期間", lang), "share": label("Share", "比率", lang)},
                    {"orders": "int", "campaign": "int", "share": "pct"})
    return Chart("campaign_share", label("Orders inside campaign windows", "キャンペーン期間中の注文", lang), figure,
                 narrative.campaign_share_sentence(share, base, lang), tb)


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    from ...features.labels import label as seg_label
    from ...features.points import point_segment_summary

    lang = settings.lang
    day = as_of(ws, settings)
    found = (pipeline.points(ws, day, **reuse(settings)), pipeline.point_curves(ws, day, **reuse(settings)),
             pipeline.campaign_share(ws, day, **reuse(settings)))
    if any(r is None for r in found):
        return None
    scores = table_of(ws, found[0])
    charts = [c for c in (_score_chart(scores, lang), _curves(found[1].data, lang),
                          _campaign_share(found[2].data, scores, lang)) if c is not None]
    if not charts:
        return None
    summary = clean(point_segment_summary(scores))
    summary["point_segment"] = summary["point_segment"].map(lambda v: seg_label(v, lang))
    tb = TableBlock("point_segments", label("Point segments", "ポイント依存区分", lang), summary,
                    {"point_segment": label("Segment", "区分", lang), "customers": label("Customers", "顧客数", lang),
                     "mean_score": label("Mean score", "平均スコア", lang),
                     "mean_campaign_share": label("Orders in campaigns", "キャンペーン期間の注文比率", lang),
                     "mean_base_rate": label("Campaign share of calendar", "暦上のキャンペーン比率", lang),
                     "mean_points_share": label("Paid with points and mall coupons", "ポイント・モールクーポン支払比率", lang),
                     "first_in_campaign": label("First order in a campaign", "初回がキャンペーン", lang),
                     "mean_orders": label("Mean orders", "平均注文数", lang),
                     "customer_share": label("Share of customers", "顧客構成比", lang)},
                    {"customers": "int", "mean_score": "float", "mean_campaign_share": "pct", "mean_base_rate": "pct",
                     "mean_points_share": "pct", "first_in_campaign": "pct", "mean_orders": "float",
                     "customer_share": "pct"})
    return Section("points", t("sec_points", lang), charts=charts, tables=[tb])

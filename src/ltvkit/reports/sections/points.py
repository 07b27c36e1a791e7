"""Point dependence: score distribution, point-acquired vs organic LTV curves with intervals, campaign share."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ... import pipeline
from ...i18n import t
from .. import _figures as fig
from .. import narrative
from ..data import Chart, Section, TableBlock
from ._common import as_of, clean, margin, reuse, table_of

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
                           x_title=t("report.points.point_dependence_score_0_own_rhythm_1", lang),
                           y_title=t("report.points.customers", lang))
    driven = float((df["point_segment"] == "point_driven").mean())
    tb = TableBlock("point_score", t("report.points.point_dependence_score_distribution", lang),
                    pd.DataFrame({"score_from": edges[:-1], "score_to": edges[1:], "customers": counts}),
                    {"score_from": t("report.points.score_from", lang), "score_to": t("report.points.to", lang),
                     "customers": t("report.points.customers", lang)},
                    {"score_from": "float", "score_to": "float", "customers": "int"})
    return Chart("point_score", t("report.points.how_much_customers_depend_on_points", lang),
                 figure, narrative.point_score_sentence(driven, float(df["point_dependence_score"].mean()), lang), tb)


def _curves(df: pd.DataFrame, lang: str) -> Chart | None:
    """Mean cumulative margin per customer by 30-day step, point-acquired vs organic, with 95% intervals."""
    if df.empty:
        return None
    from ...i18n import label as seg_label

    series, bands = {}, {}
    for g, part in df.groupby("group", sort=False):
        name = seg_label(g, lang)
        x = part["days"].tolist()
        series[name] = (x, part["margin_ltv"].tolist())
        bands[name] = (x, part["ci_low"].tolist(), part["ci_high"].tolist())
    figure = fig.lines(series, bands=bands,
                       x_title=t("report.points.days_since_first_purchase", lang),
                       y_title=t("report.points.cumulative_margin_per_customer_yen", lang))
    horizon = 360 if (df["days"] == 360).sum() == 2 else int(df.groupby("group")["days"].max().min())
    at = df[df["days"] == horizon].set_index("group")["margin_ltv"]
    sentence = narrative.point_ltv_sentence(at.get("point_acquired"), at.get("organic"), horizon, lang)
    out = df.assign(group=df["group"].map(lambda v: seg_label(v, lang)))
    tb = TableBlock("point_ltv_curves", t("report.points.point_acquired_vs_organic_margin_ltv", lang), out,
                    {"group": t("report.points.acquired", lang), "days": t("report.points.days", lang),
                     "customers": t("report.points.customers_observed", lang),
                     "margin_ltv": t("report.points.cumulative_margin_per_customer", lang),
                     "ci_low": t("report.points.95_interval_low", lang),
                     "ci_high": t("report.points.95_interval_high", lang)},
                    {"days": "int", "customers": "int", "margin_ltv": "yen", "ci_low": "yen", "ci_high": "yen"},
                    t("report.points.point_acquired_the_first_order_fell", lang))
    return Chart("point_ltv_curves", t("report.points.margin_ltv_point_acquired_vs_organic", lang),
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
                     {t("report.points.orders_in_campaigns", lang): m["campaign"].tolist(),
                      t("report.points.other_orders", lang): (m["orders"] - m["campaign"]).tolist()},
                     stacked=True, colors=("#e36209", "#9aa5b1"), y_title=t("report.points.orders", lang))
    tb = TableBlock("campaign_share", t("report.points.campaign_share_of_orders_by_month", lang),
                    m[["month", "orders", "campaign", "share"]],
                    {"month": t("report.points.month", lang), "orders": t("report.points.orders", lang),
                     "campaign": t("report.points.in_campaigns", lang), "share": t("report.points.share", lang)},
                    {"orders": "int", "campaign": "int", "share": "pct"})
    return Chart("campaign_share", t("report.points.orders_inside_campaign_windows", lang), figure,
                 narrative.campaign_share_sentence(share, base, lang), tb)


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    from ...features.points import point_segment_summary
    from ...i18n import label as seg_label

    lang = settings.lang
    day = as_of(ws, settings)
    found = (pipeline.points(ws, day, **reuse(settings), **margin(settings)), pipeline.point_curves(ws, day, **reuse(settings)),
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
    tb = TableBlock("point_segments", t("report.points.point_segments", lang), summary,
                    {"point_segment": t("report.points.segment", lang), "customers": t("report.points.customers", lang),
                     "mean_score": t("report.points.mean_score", lang),
                     "mean_campaign_share": t("report.points.campaign_share_column", lang),
                     "mean_base_rate": t("report.points.campaign_share_of_calendar", lang),
                     "mean_points_share": t("report.points.paid_with_points_and_mall_coupons", lang),
                     "first_in_campaign": t("report.points.first_order_in_a_campaign", lang),
                     "mean_orders": t("report.points.mean_orders", lang),
                     "customer_share": t("report.points.share_of_customers", lang)},
                    {"customers": "int", "mean_score": "float", "mean_campaign_share": "pct", "mean_base_rate": "pct",
                     "mean_points_share": "pct", "first_in_campaign": "pct", "mean_orders": "float",
                     "customer_share": "pct"})
    return Section("points", t("report.sec_points", lang), charts=charts, tables=[tb])

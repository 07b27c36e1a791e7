"""Predictions: P(alive) distribution, predicted vs actual on the holdout, valuable customers at risk, next weeks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from ... import pipeline
from ...exceptions import MissingDataError
from .. import _figures as fig
from .. import narrative
from .._i18n import label, t
from ..data import Chart, Section, TableBlock
from ._common import as_of, reuse, table_of

if TYPE_CHECKING:
    from ...store import Workspace
    from ..data import ReportSettings

COLUMNS = ("customer_key", "p_alive", "expected_purchases_30d", "expected_purchases_90d", "predicted_clv")
WEEKS = 13
VALUABLE_SHARE = 0.2


def predictions(ws: Workspace, settings: ReportSettings) -> Any:
    """The stored ``result_predictions`` as of the report's day (scored through the pipeline when missing and
    allowed; read-only: what is stored, even when computed as of another date), or ``None``."""
    res = pipeline.predictions(ws, as_of(ws, settings), stale_ok=not settings.compute_missing, **reuse(settings))
    return None if res is None else table_of(ws, res)


def _p_alive_chart(scores: ibis.Table, lang: str) -> Chart | None:
    bins = 20
    p = scores.filter(scores.p_alive.notnull())
    finite = p.filter(~p.p_alive.isinf() & ~p.p_alive.isnan())
    b = (finite.p_alive * bins).floor().clip(upper=bins - 1).cast("int64")
    rows = finite.group_by(b=b).aggregate(n=finite.count()).to_pandas()
    if rows.empty:
        return None
    counts = np.zeros(bins, dtype=np.int64)
    for k, n in zip(rows["b"], rows["n"], strict=True):
        counts[int(k)] = n
    agg = p.aggregate(share=(p.p_alive > 0.5).cast("int64").mean(), median=p.p_alive.median()).to_pandas().iloc[0]
    share, median = float(agg["share"]), float(agg["median"])
    edges = np.linspace(0, 1, bins + 1)
    figure = fig.histogram(edges.tolist(), counts.tolist(), x_title="P(alive)",
                           y_title=label("Customers", "顧客数", lang), x_format=".0%")
    table = pd.DataFrame({"p_alive_from": edges[:-1], "p_alive_to": edges[1:], "customers": counts})
    tb = TableBlock("p_alive", label("P(alive) distribution", "P(alive)の分布", lang), table,
                    {"p_alive_from": label("P(alive) from", "P(alive) 下限", lang),
                     "p_alive_to": label("to", "上限", lang), "customers": label("Customers", "顧客数", lang)},
                    {"p_alive_from": "pct", "p_alive_to": "pct", "customers": "int"})
    return Chart("p_alive", label("How likely each customer is still active", "顧客が今も購入を続けている確率（P(alive)）", lang),
                 figure, narrative.p_alive_sentence(share, median, lang), tb)


TRACK_COLUMNS = ("period_end", "predicted_cumulative", "actual_cumulative")


def _validation(ws: Workspace, settings: ReportSettings) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Holdout tracking and model comparison as of the report's day: stored ``result_tracking`` and
    ``result_model_comparison``, else :func:`ltvkit.pipeline.validation` when computing is allowed."""
    result = pipeline.validation(ws, as_of(ws, settings), **reuse(settings))
    if result is None:
        return None, None
    return result["tracking"], result["models"]


def _tracking_chart(track: pd.DataFrame, lang: str) -> Chart | None:
    """Predicted vs actual cumulative repeat purchases on the holdout."""
    df = track.sort_values("period_end").reset_index(drop=True)
    if df.empty:
        return None
    weeks = (df["period_end"] / 7.0).round(1).tolist()
    actual, predicted = label("Actual", "実績", lang), label("Predicted", "予測", lang)
    figure = fig.lines({actual: (weeks, df["actual_cumulative"].tolist()),
                        predicted: (weeks, df["predicted_cumulative"].tolist())}, dashed=[predicted],
                       x_title=label("Weeks after the calibration end", "検証期間の開始からの週数", lang),
                       y_title=label("Cumulative repeat purchases", "累積リピート購入数", lang))
    tb = TableBlock("tracking", label("Predicted vs actual (holdout)", "予測と実績（検証期間）", lang),
                    df[list(TRACK_COLUMNS)],
                    {"period_end": label("Days into the holdout", "検証期間の経過日数", lang),
                     "predicted_cumulative": label("Predicted (cumulative)", "予測（累積）", lang),
                     "actual_cumulative": label("Actual (cumulative)", "実績（累積）", lang)},
                    {"period_end": "int", "predicted_cumulative": "float", "actual_cumulative": "int"})
    last = df.iloc[-1]
    return Chart("tracking", label("Predicted vs actual purchases on the holdout", "検証期間の購入数：予測と実績", lang),
                 figure, narrative.tracking_sentence(float(last["predicted_cumulative"]), float(last["actual_cumulative"]),
                                                     int(round(float(last["period_end"]) / 7)), lang), tb)


def _models_table(models: pd.DataFrame, lang: str) -> TableBlock:
    if "chosen" in models:
        models = models.assign(chosen=models["chosen"].map(lambda v: "✓" if bool(v) else ""))
    kinds = {c: "float" for c in models.columns if c not in ("model", "chosen")}
    kinds["params"] = "int"
    labels = {"model": label("Model", "モデル", lang), "chosen": label("Used", "採用", lang),
              "log_likelihood": label("Log-likelihood", "対数尤度", lang), "mae": "MAE", "rmse": "RMSE",
              "aic": "AIC", "bic": "BIC", "params": label("Parameters", "パラメータ数", lang),
              "bias": label("Bias", "バイアス", lang)}
    return TableBlock("model_comparison", label("Model comparison on the holdout", "検証期間でのモデル比較", lang),
                      models, labels, kinds)


def _at_risk_table(ws: Workspace, scores: ibis.Table, settings: ReportSettings) -> TableBlock | None:
    lang = settings.lang
    day = as_of(ws, settings)
    extra = [c for c in ("expected_purchases_90d", "predicted_clv", "churn_risk") if c in scores.columns]
    o = ws.orders()
    o = o.filter((o.status == "ordered") & (o.order_date <= ibis.literal(day)))
    spend = o.group_by("customer_key").aggregate(orders=(o.source.concat(o.order_id)).nunique(),
                                                  revenue=o.line_amount.sum(), last_order=o.order_date.max())
    spend = spend.mutate(_rank=ibis.percent_rank().over(order_by=spend.revenue))
    valuable = spend.filter(spend._rank >= 1 - VALUABLE_SHARE)
    p = scores.filter(scores.p_alive.notnull())
    j = valuable.join(p, "customer_key")
    df = j.select(customer_key=j.customer_key, orders=j.orders, revenue=j.revenue, last_order=j.last_order,
                  days_since=ibis.literal(day).delta(j.last_order, unit="day"), p_alive=j.p_alive,
                  **{c: j[c] for c in extra}).order_by([ibis.asc("p_alive"), ibis.desc("revenue")]).limit(
                      settings.at_risk_top).to_pandas()
    if df.empty:
        return None
    labels = {"customer_key": label("Customer key", "顧客キー", lang), "orders": label("Orders", "注文数", lang),
              "revenue": label("Past spend", "累計購入額", lang), "last_order": label("Last order", "最終購入日", lang),
              "days_since": label("Days since", "経過日数", lang), "p_alive": "P(alive)",
              "expected_purchases_90d": label("Expected purchases (90 days)", "90日の予測購入回数", lang),
              "predicted_clv": label("Predicted CLV", "予測CLV", lang), "churn_risk": label("Churn risk", "離脱リスク", lang)}
    kinds = {"orders": "int", "revenue": "yen", "days_since": "int", "p_alive": "pct",
             "expected_purchases_90d": "float", "predicted_clv": "yen", "churn_risk": "pct"}
    if "churn_risk" in df and df["churn_risk"].dtype == object:
        kinds["churn_risk"] = "text"
    return TableBlock("at_risk", label("Valuable customers most at risk", "離脱が心配な優良顧客", lang), df, labels, kinds,
                      narrative.at_risk_sentence(len(df), float(df["revenue"].sum()), lang))


def _next_weeks_chart(scores: ibis.Table, settings: ReportSettings) -> Chart | None:
    """Expected purchases per week, interpolated from the stored 30- and 90-day expectations."""
    lang = settings.lang
    agg = scores.aggregate(e30=scores.expected_purchases_30d.sum(), e90=scores.expected_purchases_90d.sum(),
                           n=scores.count()).to_pandas().iloc[0]
    e30, e90, n = (None if pd.isna(agg[k]) else agg[k] for k in ("e30", "e90", "n"))
    if e30 is None or e90 is None or not n:
        return None
    days = np.array([0.0, 30.0, 90.0])
    cum = np.array([0.0, float(e30), float(e90)])
    ends = np.arange(1, WEEKS + 1) * 7.0
    weekly = np.diff(np.concatenate([[0.0], np.interp(np.minimum(ends, 90.0), days, cum)]))
    x = [label(f"W{i}", f"{i}週目", lang) for i in range(1, WEEKS + 1)]
    figure = fig.bar(x, {label("Expected purchases", "予測購入数", lang): weekly.tolist()}, hover_format=",.0f",
                     x_title=label("Weeks from now", "今後の週", lang),
                     y_title=label("Expected purchases", "予測購入数", lang))
    tb = TableBlock("next_weeks", label("Expected purchases by week", "週別 予測購入数", lang),
                    pd.DataFrame({"week": range(1, WEEKS + 1), "expected_purchases": weekly}),
                    {"week": label("Week", "週", lang), "expected_purchases": label("Expected purchases", "予測購入数", lang)},
                    {"week": "int", "expected_purchases": "float"},
                    label("Weekly figures are interpolated from each customer's expected purchases in 30 and 90 days.",
                          "週ごとの値は、顧客ごとの30日・90日の予測購入回数から按分しています。", lang))
    return Chart("next_weeks", label("Expected purchases in the coming weeks", "今後の週別 予測購入数", lang), figure,
                 narrative.next_purchases_sentence(float(weekly[:4].sum()), float(weekly.sum()), WEEKS, lang), tb)


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    scores = predictions(ws, settings)
    if scores is None:
        raise MissingDataError(t("need_predict", settings.lang))
    lang = settings.lang
    track, models = _validation(ws, settings)
    charts = [c for c in (_p_alive_chart(scores, lang), _tracking_chart(track, lang) if track is not None else None,
                          _next_weeks_chart(scores, settings)) if c is not None]
    tables = [tb for tb in (_at_risk_table(ws, scores, settings),
                            _models_table(models, lang) if models is not None else None) if tb is not None]
    if not charts and not tables:
        return None
    return Section("predictive", t("sec_predictive", lang), charts=charts, tables=tables,
                   notes=[t("privacy_note", lang)])

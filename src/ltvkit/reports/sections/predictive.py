"""Predictions: P(alive) distribution, predicted vs actual on the holdout, valuable customers at risk, next weeks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from ... import pipeline
from ...exceptions import MissingDataError
from ...i18n import t
from .. import _figures as fig
from .. import narrative
from ..data import Chart, Section, TableBlock
from ._common import as_of, margin, reuse, table_of

if TYPE_CHECKING:
    from ...store import Workspace
    from ..data import ReportSettings

COLUMNS = ("customer_key", "p_alive", "expected_purchases_30d", "expected_purchases_90d", "predicted_clv")
WEEKS = 13


def predictions(ws: Workspace, settings: ReportSettings) -> Any:
    """The stored ``result_predictions`` as of the report's day (scored through the pipeline when missing and
    allowed; read-only: what is stored, even when computed as of another date), or ``None``."""
    res = pipeline.predictions(ws, as_of(ws, settings), stale_ok=not settings.compute_missing, **reuse(settings),
                               **margin(settings))
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
                           y_title=t("report.predictive.customers", lang), x_format=".0%")
    table = pd.DataFrame({"p_alive_from": edges[:-1], "p_alive_to": edges[1:], "customers": counts})
    tb = TableBlock("p_alive", t("report.predictive.p_alive_distribution", lang), table,
                    {"p_alive_from": t("report.predictive.p_alive_from", lang),
                     "p_alive_to": t("report.predictive.to", lang), "customers": t("report.predictive.customers", lang)},
                    {"p_alive_from": "pct", "p_alive_to": "pct", "customers": "int"})
    return Chart("p_alive", t("report.predictive.how_likely_each_customer_is_still", lang),
                 figure, narrative.p_alive_sentence(share, median, lang), tb)


TRACK_COLUMNS = ("period_end", "predicted_cumulative", "actual_cumulative")


def _validation(ws: Workspace, settings: ReportSettings) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Holdout tracking and model comparison as of the report's day: stored ``result_tracking`` and
    ``result_model_comparison``, else :func:`ltvkit.pipeline.validation` when computing is allowed."""
    result = pipeline.validation(ws, as_of(ws, settings), detail=False, **reuse(settings))
    if result is None:
        return None, None
    return result["tracking"], result["models"]


def _tracking_chart(track: pd.DataFrame, lang: str) -> Chart | None:
    """Predicted vs actual cumulative repeat purchases on the holdout."""
    df = track.sort_values("period_end").reset_index(drop=True)
    if df.empty:
        return None
    weeks = (df["period_end"] / 7.0).round(1).tolist()
    actual, predicted = t("report.predictive.actual", lang), t("report.predictive.predicted", lang)
    figure = fig.lines({actual: (weeks, df["actual_cumulative"].tolist()),
                        predicted: (weeks, df["predicted_cumulative"].tolist())}, dashed=[predicted],
                       x_title=t("report.predictive.weeks_after_the_calibration_end", lang),
                       y_title=t("report.predictive.cumulative_repeat_purchases", lang))
    tb = TableBlock("tracking", t("report.predictive.predicted_vs_actual_holdout", lang),
                    df[list(TRACK_COLUMNS)],
                    {"period_end": t("report.predictive.days_into_the_holdout", lang),
                     "predicted_cumulative": t("report.predictive.predicted_cumulative", lang),
                     "actual_cumulative": t("report.predictive.actual_cumulative", lang)},
                    {"period_end": "int", "predicted_cumulative": "float", "actual_cumulative": "int"})
    last = df.iloc[-1]
    return Chart("tracking", t("report.predictive.predicted_vs_actual_purchases_on_the", lang),
                 figure, narrative.tracking_sentence(float(last["predicted_cumulative"]), float(last["actual_cumulative"]),
                                                     int(round(float(last["period_end"]) / 7)), lang), tb)


def _models_table(models: pd.DataFrame, lang: str) -> TableBlock:
    if "chosen" in models:
        models = models.assign(chosen=models["chosen"].map(lambda v: "✓" if bool(v) else ""))
    kinds = {c: "float" for c in models.columns if c not in ("model", "chosen")}
    kinds["params"] = "int"
    labels = {"model": t("report.predictive.model", lang), "chosen": t("report.predictive.used", lang),
              "log_likelihood": t("report.predictive.log_likelihood", lang), "mae": "MAE", "rmse": "RMSE",
              "aic": "AIC", "bic": "BIC", "params": t("report.predictive.parameters", lang),
              "bias": t("report.predictive.bias", lang)}
    return TableBlock("model_comparison", t("report.predictive.model_comparison_on_the_holdout", lang),
                      models, labels, kinds)


def _at_risk_table(ws: Workspace, scores: ibis.Table, settings: ReportSettings) -> TableBlock | None:
    lang = settings.lang
    day = as_of(ws, settings)
    df = pipeline.at_risk(ws, day, scores, top=settings.at_risk_top).to_pandas()
    if df.empty:
        return None
    labels = {"customer_key": t("report.predictive.customer_key", lang), "orders": t("report.predictive.orders", lang),
              "revenue": t("report.predictive.past_spend", lang), "last_order": t("report.predictive.last_order", lang),
              "days_since": t("report.predictive.days_since", lang), "p_alive": "P(alive)",
              "value_at_stake": t("report.predictive.value_at_stake", lang),
              "expected_purchases_90d": t("report.predictive.expected_purchases_90_days", lang),
              "predicted_clv": t("report.predictive.predicted_clv", lang), "churn_risk": t("report.predictive.churn_risk", lang)}
    kinds = {"orders": "int", "revenue": "yen", "days_since": "int", "p_alive": "pct", "value_at_stake": "yen",
             "expected_purchases_90d": "float", "predicted_clv": "yen", "churn_risk": "pct"}
    if "churn_risk" in df and df["churn_risk"].dtype == object:
        kinds["churn_risk"] = "text"
    return TableBlock("at_risk", t("report.predictive.valuable_customers_most_at_risk", lang), df, labels, kinds,
                      narrative.at_risk_sentence(len(df), float(df["revenue"].sum()), lang) + t("report.predictive.at_risk_rule", lang))


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
    x = [t("report.predictive.wi", lang, i=i) for i in range(1, WEEKS + 1)]
    figure = fig.bar(x, {t("report.predictive.expected_purchases", lang): weekly.tolist()}, hover_format=",.0f",
                     x_title=t("report.predictive.weeks_from_now", lang),
                     y_title=t("report.predictive.expected_purchases", lang))
    tb = TableBlock("next_weeks", t("report.predictive.expected_purchases_by_week", lang),
                    pd.DataFrame({"week": range(1, WEEKS + 1), "expected_purchases": weekly}),
                    {"week": t("report.predictive.week", lang), "expected_purchases": t("report.predictive.expected_purchases", lang)},
                    {"week": "int", "expected_purchases": "float"},
                    t("report.predictive.weekly_figures_are_interpolated_from", lang))
    return Chart("next_weeks", t("report.predictive.expected_purchases_in_the_coming", lang), figure,
                 narrative.next_purchases_sentence(float(weekly[:4].sum()), float(weekly.sum()), WEEKS, lang), tb)


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    scores = predictions(ws, settings)
    if scores is None:
        raise MissingDataError(t("report.need_predict", settings.lang))
    lang = settings.lang
    track, models = _validation(ws, settings)
    charts = [c for c in (_p_alive_chart(scores, lang), _tracking_chart(track, lang) if track is not None else None,
                          _next_weeks_chart(scores, settings)) if c is not None]
    tables = [tb for tb in (_at_risk_table(ws, scores, settings),
                            _models_table(models, lang) if models is not None else None) if tb is not None]
    if not charts and not tables:
        return None
    return Section("predictive", t("report.sec_predictive", lang), charts=charts, tables=tables,
                   notes=[t("report.privacy_note", lang)])

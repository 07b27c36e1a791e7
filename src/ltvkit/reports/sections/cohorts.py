"""Cohort heatmap (first-purchase month × elapsed days, cumulative margin per head) and retention curves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ... import pipeline
from ...i18n import t
from .. import _figures as fig
from .. import narrative
from ..data import Chart, Section, TableBlock
from ._common import as_of, cohort_summary, margin, reuse, weighted_mean

if TYPE_CHECKING:
    from ...store import Workspace
    from ..data import ReportSettings

STEP_DAYS = 30
MAX_DAYS = 720


def _month(value: Any) -> str:
    return pd.Timestamp(value).strftime("%Y-%m")


def _days(d: int, lang: str) -> str:
    return t("unit.days_short", lang, n=d)


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    lang = settings.lang
    day = as_of(ws, settings)
    res = pipeline.cohorts(ws, day, by="month", period="days", step_days=STEP_DAYS, max_days=MAX_DAYS,
                           **reuse(settings), **margin(settings))
    if res is None or res.data.empty:
        return None
    long = res.data
    if long.empty:
        return None
    long = long[long["segment"] == long["segment"].iloc[0]].copy()
    long["cohort_label"] = long["cohort"].map(_month)
    done = long[long["complete"].astype(bool)]
    periods = sorted(long["period"].unique())
    cohorts = sorted(long["cohort_label"].unique())

    # heatmap of cumulative margin per acquired customer (incomplete cells blank)
    wide = done.pivot_table(index="cohort_label", columns="period", values="cum_margin_per_customer", aggfunc="first")
    wide = wide.reindex(index=cohorts, columns=periods)
    heat = fig.heatmap([_days(int(p), lang) for p in periods], cohorts, wide.to_numpy().tolist(),
                       colorbar_title=t("report.cohorts.yen", lang),
                       x_title=t("report.cohorts.days_since_first_purchase", lang),
                       y_title=t("report.cohorts.first_purchase_month", lang))
    sizes = long.drop_duplicates("cohort_label").set_index("cohort_label")["cohort_size"]
    table = wide.copy()
    table.columns = [f"d{int(p)}" for p in periods]
    table.insert(0, "cohort_size", sizes.reindex(table.index).to_numpy())
    table = table.reset_index().rename(columns={"cohort_label": "cohort"})
    labels = {"cohort": t("report.cohorts.first_purchase_month", lang),
              "cohort_size": t("report.cohorts.new_customers", lang)}
    labels.update({f"d{int(p)}": _days(int(p), lang) for p in periods})
    kinds = {"cohort_size": "int", **{f"d{int(p)}": "yen" for p in periods}}
    heat_table = TableBlock("cohort_margin", t("report.cohorts.cohort_cumulative_margin_per_customer", lang),
                            table, labels, kinds)

    def avg_at(p: int) -> float | None:
        cell = done[done["period"] == p]
        return weighted_mean(cell["cum_margin_per_customer"], cell["cohort_size"])

    at90 = done[done["period"] == 90].sort_values("cohort_label")
    newest = (at90["cohort_label"].iloc[-1], float(at90["cum_margin_per_customer"].iloc[-1])) if len(at90) else None
    oldest = (at90["cohort_label"].iloc[0], float(at90["cum_margin_per_customer"].iloc[0])) if len(at90) else None
    charts = [Chart("cohort_heatmap", t("report.cohorts.cumulative_margin_per_new_customer_by", lang),
                    heat, narrative.cohort_heatmap_sentence(avg_at(90), avg_at(360), newest, oldest, lang), heat_table)]

    # retention curves from days 30-59 on (days 0-29 hold the first purchase, so they are always 100%): the
    # size-weighted average and up to five cohorts spread over time with at least three full periods
    later = [p for p in periods if p > STEP_DAYS]
    avg = pd.Series({p: weighted_mean(g["retention"], g["cohort_size"]) for p, g in done.groupby("period")},
                    dtype=float).reindex(later)
    series: dict[str, tuple[list[Any], list[Any]]] = {
        t("report.cohorts.all_cohorts_average", lang): ([_days(int(p), lang) for p in later], avg.tolist())}
    enough = done[done["period"] > STEP_DAYS].groupby("cohort_label")["period"].count()
    candidates = [c for c in cohorts if enough.get(c, 0) >= 3]
    picks = sorted({candidates[int(i)] for i in np.linspace(0, len(candidates) - 1, 5).round()}) if candidates else []
    for c in picks:
        part = done[(done["cohort_label"] == c) & (done["period"] > STEP_DAYS)].sort_values("period")
        series[c] = ([_days(int(p), lang) for p in part["period"]], part["retention"].tolist())
    first_name = next(iter(series))
    ret = fig.lines(series, widths={first_name: 4}, y_format=".0%",
                    x_title=t("report.cohorts.days_since_first_purchase_30_day", lang),
                    y_title=t("report.cohorts.customers_buying_in_the_period", lang))
    ret["layout"]["xaxis"]["type"] = "category"
    second = avg.get(60) if 60 in avg.index else None
    last_p = avg.dropna()
    last = (int(last_p.index[-1]), float(last_p.iloc[-1])) if len(last_p) > 2 else None
    ret_table = TableBlock("retention", t("report.cohorts.retention_by_period", lang),
                           pd.DataFrame({"period": later, "retention": avg.to_numpy()}),
                           {"period": t("report.cohorts.days_since_first_purchase_up_to", lang),
                            "retention": t("report.cohorts.retention_column", lang)},
                           {"period": "int", "retention": "pct"})
    charts.append(Chart("retention_curves", t("report.cohorts.retention_curves", lang), ret,
                        narrative.retention_sentence(second, last, lang), ret_table))

    # per-cohort 12/24-month margin LTV
    summary = cohort_summary(ws, settings, day)
    if summary is None:
        summary = pd.DataFrame({"segment": [], "cohort": []})
    summary = summary[summary["segment"] == summary["segment"].iloc[0]] if len(summary) else summary
    tables = []
    if len(summary):
        s = pd.DataFrame({
            "cohort": summary["cohort"].map(_month), "cohort_size": summary["cohort_size"],
            "revenue_ltv_12m": summary["revenue_ltv_12m"], "margin_ltv_12m": summary["margin_ltv_12m"],
            "margin_ltv_24m": summary["margin_ltv_24m"],
        })
        tables.append(TableBlock(
            "cohort_ltv", t("report.cohorts.12_and_24_month_ltv_by_cohort", lang), s,
            {"cohort": t("report.cohorts.first_purchase_month", lang),
             "cohort_size": t("report.cohorts.new_customers", lang),
             "revenue_ltv_12m": t("report.cohorts.12_month_revenue_ltv", lang),
             "margin_ltv_12m": t("report.cohorts.12_month_margin_ltv", lang),
             "margin_ltv_24m": t("report.cohorts.24_month_margin_ltv", lang)},
            {"cohort_size": "int", "revenue_ltv_12m": "yen", "margin_ltv_12m": "yen", "margin_ltv_24m": "yen"},
            t("report.cohorts.empty_cells_the_cohort_has_not_been", lang)))
    return Section("cohorts", t("report.sec_cohorts", lang), charts=charts, tables=tables)

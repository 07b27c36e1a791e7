"""F2 conversion within fixed windows and the second-purchase "golden time"."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ... import pipeline
from ...i18n import t
from .. import _figures as fig
from .. import narrative
from ..data import Chart, Section, TableBlock
from ._common import as_of, reuse

if TYPE_CHECKING:
    from ...store import Workspace
    from ..data import ReportSettings

WINDOWS = (30, 60, 90, 180, 365)


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    lang = settings.lang
    day = as_of(ws, settings)
    charts = []
    tables = []

    res = pipeline.f2(ws, day, windows=WINDOWS, by="month", **reuse(settings))
    f2 = res.data if res is not None else pd.DataFrame()
    if len(f2):
        agg = f2.groupby("window_days")[["eligible", "f2_customers", "f3_customers"]].sum()
        agg = agg[agg["eligible"] > 0]
        rates = (agg["f2_customers"] / agg["eligible"]).to_dict()
        f3 = (agg["f3_customers"] / agg["eligible"]).to_dict()
        if rates:
            x = [t("report.f2.within_w_days", lang, w=w) for w in agg.index]
            figure = fig.bar(x, {t("report.f2.f2_2nd_purchase", lang): list(rates.values()),
                                 t("report.f2.f3_from_first", lang): list(f3.values())},
                             y_format=".0%", hover_format=".1%",
                             x_title=t("report.f2.window_after_the_first_purchase", lang),
                             y_title=t("report.f2.share_of_first_time_buyers", lang))
            table = pd.DataFrame({"window_days": agg.index, "eligible": agg["eligible"].to_numpy(),
                                  "f2_rate": list(rates.values()), "f3_rate": list(f3.values())})
            tb = TableBlock("f2_windows", t("report.f2.f2_and_f3_by_window", lang), table,
                            {"window_days": t("report.f2.window_days", lang),
                             "eligible": t("report.f2.first_time_buyers_observed_that_long", lang),
                             "f2_rate": t("report.f2.f2_conversion", lang),
                             "f3_rate": t("report.f2.f3_conversion_from_first", lang)},
                            {"window_days": "int", "eligible": "int", "f2_rate": "pct", "f3_rate": "pct"})
            charts.append(Chart("f2_windows", t("report.f2.f2_conversion_by_window", lang), figure,
                                narrative.f2_windows_sentence(rates, lang), tb))

    overall = pipeline.golden(ws, day, bin_days=7, horizon_days=364, by_category=False, **reuse(settings))
    hazard, golden = (overall[0].data, overall[1].data) if overall is not None else (pd.DataFrame(), None)
    if len(hazard) and hazard["second_purchases"].sum() > 0:
        g = golden.iloc[0]
        colors = ["#e36209" if g["golden_start"] is not None and s == g["golden_start"] else "#1f6feb"
                  for s in hazard["bin_start"]]
        x = [f"{int(a)}–{int(b)}" for a, b in zip(hazard["bin_start"], hazard["bin_end"], strict=True)]
        figure = fig.bar(x, {t("report.f2.second_purchase_hazard", lang): hazard["hazard"].tolist()},
                         y_format=".1%", hover_format=".2%",
                         x_title=t("report.f2.days_since_first_purchase", lang),
                         y_title=t("report.f2.share_buying_a_2nd_time_that_week", lang))
        figure["data"][0]["marker"]["color"] = colors
        tb = TableBlock("golden_time_hazard", t("report.f2.second_purchase_hazard_by_week", lang),
                        hazard.drop(columns=["first_category"]),
                        {"bin_start": t("report.f2.from_day", lang), "bin_end": t("report.f2.to_day", lang),
                         "at_risk": t("report.f2.at_risk", lang),
                         "second_purchases": t("report.f2.second_purchases", lang),
                         "hazard": t("report.f2.hazard", lang)},
                        {"bin_start": "int", "bin_end": "int", "at_risk": "int", "second_purchases": "int",
                         "hazard": "pct"})
        charts.append(Chart("golden_time", t("report.f2.golden_time_for_the_second_purchase", lang),
                            figure, narrative.golden_time_sentence(g["golden_start"], g["golden_end"],
                                                                   g["peak_hazard"], g["median_days_to_second"], lang),
                            tb))

    per_category = pipeline.golden(ws, day, bin_days=7, horizon_days=364, by_category=True, **reuse(settings))
    by_cat = per_category[1].data if per_category is not None else pd.DataFrame()
    if len(by_cat) > 1:
        by_cat = by_cat.sort_values("customers", ascending=False).reset_index(drop=True)
        by_cat["repeat_share"] = by_cat["repeaters"] / by_cat["customers"].where(by_cat["customers"] > 0)
        tables.append(TableBlock(
            "golden_time_by_category", t("report.f2.golden_time_by_first_category", lang),
            by_cat[["first_category", "customers", "repeaters", "repeat_share", "median_days_to_second",
                    "golden_start", "golden_end", "peak_hazard"]],
            {"first_category": t("report.f2.first_category", lang),
             "customers": t("report.f2.customers", lang), "repeaters": t("report.f2.bought_again", lang),
             "repeat_share": t("report.f2.share_bought_again", lang),
             "median_days_to_second": t("report.f2.median_days_to_2nd", lang),
             "golden_start": t("report.f2.golden_time_from_day", lang),
             "golden_end": t("report.f2.golden_end_column", lang), "peak_hazard": t("report.f2.peak_weekly_hazard", lang)},
            {"customers": "int", "repeaters": "int", "repeat_share": "pct", "median_days_to_second": "days",
             "golden_start": "int", "golden_end": "int", "peak_hazard": "pct"}))
    if not charts and not tables:
        return None
    return Section("f2", t("report.sec_f2", lang), charts=charts, tables=tables)

"""F2 conversion within fixed windows and the second-purchase "golden time"."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ... import pipeline
from .. import _figures as fig
from .. import narrative
from .._i18n import label, t
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
            x = [label(f"within {w} days", f"{w}日以内", lang) for w in agg.index]
            figure = fig.bar(x, {label("F2 (2nd purchase)", "F2（2回目購入）", lang): list(rates.values()),
                                 label("F3 from first", "F3（初回比）", lang): list(f3.values())},
                             y_format=".0%", hover_format=".1%",
                             x_title=label("Window after the first purchase", "初回購入からの期間", lang),
                             y_title=label("Share of first-time buyers", "初回購入者に占める割合", lang))
            table = pd.DataFrame({"window_days": agg.index, "eligible": agg["eligible"].to_numpy(),
                                  "f2_rate": list(rates.values()), "f3_rate": list(f3.values())})
            tb = TableBlock("f2_windows", label("F2 and F3 by window", "期間別 F2・F3転換率", lang), table,
                            {"window_days": label("Window (days)", "期間（日）", lang),
                             "eligible": label("First-time buyers observed that long", "対象の初回購入者数", lang),
                             "f2_rate": label("F2 conversion", "F2転換率", lang),
                             "f3_rate": label("F3 conversion (from first)", "F3転換率（初回比）", lang)},
                            {"window_days": "int", "eligible": "int", "f2_rate": "pct", "f3_rate": "pct"})
            charts.append(Chart("f2_windows", label("F2 conversion by window", "期間別 F2転換率", lang), figure,
                                narrative.f2_windows_sentence(rates, lang), tb))

    overall = pipeline.golden(ws, day, bin_days=7, horizon_days=364, by_category=False, **reuse(settings))
    hazard, golden = (overall[0].data, overall[1].data) if overall is not None else (pd.DataFrame(), None)
    if len(hazard) and hazard["second_purchases"].sum() > 0:
        g = golden.iloc[0]
        colors = ["#e36209" if g["golden_start"] is not None and s == g["golden_start"] else "#1f6feb"
                  for s in hazard["bin_start"]]
        x = [f"{int(a)}–{int(b)}" for a, b in zip(hazard["bin_start"], hazard["bin_end"], strict=True)]
        figure = fig.bar(x, {label("Second-purchase hazard", "2回目購入のハザード", lang): hazard["hazard"].tolist()},
                         y_format=".1%", hover_format=".2%",
                         x_title=label("Days since first purchase", "初回購入からの日数", lang),
                         y_title=label("Share buying a 2nd time that week", "その週に2回目を購入する割合", lang))
        figure["data"][0]["marker"]["color"] = colors
        tb = TableBlock("golden_time_hazard", label("Second-purchase hazard by week", "週別 2回目購入ハザード", lang),
                        hazard.drop(columns=["first_category"]),
                        {"bin_start": label("From day", "開始日", lang), "bin_end": label("To day", "終了日", lang),
                         "at_risk": label("At risk", "対象者数", lang),
                         "second_purchases": label("Second purchases", "2回目購入数", lang),
                         "hazard": label("Hazard", "ハザード", lang)},
                        {"bin_start": "int", "bin_end": "int", "at_risk": "int", "second_purchases": "int",
                         "hazard": "pct"})
        charts.append(Chart("golden_time", label("Golden time for the second purchase", "2回目購入のゴールデンタイム", lang),
                            figure, narrative.golden_time_sentence(g["golden_start"], g["golden_end"],
                                                                   g["peak_hazard"], g["median_days_to_second"], lang),
                            tb))

    per_category = pipeline.golden(ws, day, bin_days=7, horizon_days=364, by_category=True, **reuse(settings))
    by_cat = per_category[1].data if per_category is not None else pd.DataFrame()
    if len(by_cat) > 1:
        by_cat = by_cat.sort_values("customers", ascending=False).reset_index(drop=True)
        by_cat["repeat_share"] = by_cat["repeaters"] / by_cat["customers"].where(by_cat["customers"] > 0)
        tables.append(TableBlock(
            "golden_time_by_category", label("Golden time by first category", "初回購入カテゴリ別 ゴールデンタイム", lang),
            by_cat[["first_category", "customers", "repeaters", "repeat_share", "median_days_to_second",
                    "golden_start", "golden_end", "peak_hazard"]],
            {"first_category": label("First category", "初回購入カテゴリ", lang),
             "customers": label("Customers", "顧客数", lang), "repeaters": label("Bought again", "2回目購入者", lang),
             "repeat_share": label("Share bought again", "2回目購入率", lang),
             "median_days_to_second": label("Median days to 2nd", "2回目までの日数（中央値）", lang),
             "golden_start": label("Golden time from day", "ゴールデンタイム開始日", lang),
             "golden_end": label("to day", "終了日", lang), "peak_hazard": label("Peak weekly hazard", "最大週次ハザード", lang)},
            {"customers": "int", "repeaters": "int", "repeat_share": "pct", "median_days_to_second": "days",
             "golden_start": "int", "golden_end": "int", "peak_hazard": "pct"}))
    if not charts and not tables:
        return None
    return Section("f2", t("sec_f2", lang), charts=charts, tables=tables)

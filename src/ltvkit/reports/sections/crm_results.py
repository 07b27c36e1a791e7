"""施策の効果検証 / Did it work?: the stored results of ``ltv crm results`` (read only, never computed here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ...exceptions import MissingDataError
from ...i18n import t
from ..data import Section, TableBlock

if TYPE_CHECKING:
    from ...workspace import Workspace
    from ..data import ReportSettings



def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    from ...actions.results import ResultsReport, text

    lang = settings.lang
    if not ws.has_result("crm_results"):
        raise MissingDataError(t("report.crm.no_measurement", lang))
    run = ws.result_run("crm_results")
    frame = ws.read_result("crm_results").to_pandas()
    if not len(frame):
        return None
    frame = frame.astype(object).where(frame.notna(), None)
    def same_run(name: str) -> bool:  # a companion table of the latest measurement, not of an older one
        other = ws.result_run(name) if ws.has_result(name) else None
        return other is not None and run is not None and other.run_id == run.run_id

    cum = ws.read_result("crm_cumulative").to_pandas() if same_run("crm_cumulative") else pd.DataFrame()
    window = int(frame["window_days"].iloc[0])
    report = ResultsReport(run.as_of, window, frame.to_dict("records"), cum, [], lang)
    cols = ["scenario", "send_month", "treated", "holdout", "conversion_treated", "conversion_holdout", "uplift",
            "uplift_ci_low", "uplift_ci_high", "adjusted_uplift", "adjusted_ci_low", "adjusted_ci_high",
            "variance_reduction", "margin_uplift_per_customer", "margin_uplift_ci_low", "margin_uplift_ci_high",
            "incremental_margin_after_cost", "mde"]
    labels = {
        "scenario": t("report.crm.scenario", lang), "send_month": t("report.crm.send_month", lang),
        "treated": t("report.crm.treated", lang), "holdout": t("report.crm.holdout", lang),
        "conversion_treated": t("report.crm.conversion_treated", lang),
        "conversion_holdout": t("report.crm.conversion_holdout", lang),
        "uplift": t("report.crm.uplift", lang), "uplift_ci_low": t("report.crm.95_from", lang),
        "uplift_ci_high": t("report.crm.95_to", lang), "adjusted_uplift": t("report.crm.adjusted_uplift", lang),
        "adjusted_ci_low": t("report.crm.adjusted_95_from", lang), "adjusted_ci_high": t("report.crm.adjusted_95_to", lang),
        "variance_reduction": t("report.crm.variance_reduction", lang),
        "margin_uplift_per_customer": t("report.crm.margin_uplift_per_customer", lang),
        "margin_uplift_ci_low": t("report.crm.margin_95_from", lang), "margin_uplift_ci_high": t("report.crm.margin_95_to", lang),
        "incremental_margin_after_cost": t("report.crm.incremental_margin_after_message_cost", lang),
        "mde": t("report.crm.minimum_detectable_effect", lang),
    }
    kinds = {c: "pct" for c in cols if c.startswith(("conversion", "uplift", "adjusted", "variance", "mde"))}
    kinds.update({"treated": "int", "holdout": "int", "margin_uplift_per_customer": "yen",
                  "margin_uplift_ci_low": "yen", "margin_uplift_ci_high": "yen",
                  "incremental_margin_after_cost": "yen"})
    tables = [TableBlock("crm_results", t("report.crm.treated_vs_holdout", lang, window=window),
                         frame[[c for c in cols if c in frame.columns]], labels, kinds)]
    if len(cum):
        tables.append(TableBlock(
            "crm_cumulative", t("report.crm.cumulative_margin_per_customer_by_days_s", lang),
            cum, {"scenario": labels["scenario"], "days_since_send": t("report.crm.days_since_send", lang),
                  "treated": labels["treated"], "holdout": labels["holdout"],
                  "margin_per_customer_treated": t("report.crm.margin_per_customer_treated", lang),
                  "margin_per_customer_holdout": t("report.crm.margin_per_customer_holdout", lang),
                  "difference": t("report.crm.difference", lang)},
            {"treated": "int", "holdout": "int", "days_since_send": "int", "margin_per_customer_treated": "yen",
             "margin_per_customer_holdout": "yen", "difference": "yen"}))
    if same_run("crm_cohorts"):
        coh = ws.read_result("crm_cohorts").to_pandas().drop(columns=["observational"], errors="ignore")
        tables.append(TableBlock(
            "crm_cohorts", t("report.crm.acquisition_cohorts_before_after_a_scena", lang),
            coh, {"scenario": labels["scenario"], "period": t("report.crm.period", lang),
                  "acquired_from": t("report.crm.acquired_from", lang), "acquired_to": t("report.crm.to", lang),
                  "customers": t("report.crm.customers", lang), "observed_customers": t("report.crm.observed_that_long", lang),
                  "horizon_days": t("report.crm.days_after_first_order", lang),
                  "margin_per_customer": t("report.crm.margin_per_customer", lang)},
            {"customers": "int", "observed_customers": "int", "horizon_days": "int", "margin_per_customer": "yen"},
            text("observational", lang)))
    intro = t("report.crm.intro", lang)
    return Section("crm_results", t("report.crm.title", lang), intro=intro, tables=tables,
                   notes=report.sentences() + [text("observational", lang)])

"""施策の効果検証 / Did it work?: the stored results of ``ltv crm results`` (read only, never computed here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ...exceptions import MissingDataError
from .._i18n import label
from ..data import Section, TableBlock

if TYPE_CHECKING:
    from ...workspace import Workspace
    from ..data import ReportSettings

TITLE = ("Did it work? Holdout tests of the CRM scenarios", "施策の効果検証（シナリオ別ホールドアウト比較）")


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    from ...actions.results import ResultsReport, text

    lang = settings.lang
    if not ws.has_result("crm_results"):
        raise MissingDataError(label("no measurement stored yet; run `ltv crm results`",
                                     "効果検証の結果がまだありません。`ltv crm results` を実行してください", lang))
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
    L = lambda en, ja: label(en, ja, lang)  # noqa: E731
    labels = {
        "scenario": L("Scenario", "シナリオ"), "send_month": L("Send month", "送信月"),
        "treated": L("Treated", "送信群"), "holdout": L("Holdout", "ホールドアウト"),
        "conversion_treated": L("Conversion, treated", "購入率（送信群）"),
        "conversion_holdout": L("Conversion, holdout", "購入率（ホールドアウト）"),
        "uplift": L("Uplift", "差（効果）"), "uplift_ci_low": L("95% from", "95%区間 下限"),
        "uplift_ci_high": L("95% to", "95%区間 上限"), "adjusted_uplift": L("Adjusted uplift", "補正後の差"),
        "adjusted_ci_low": L("Adjusted 95% from", "補正後 下限"), "adjusted_ci_high": L("Adjusted 95% to", "補正後 上限"),
        "variance_reduction": L("Variance reduction", "分散の削減率"),
        "margin_uplift_per_customer": L("Margin uplift per customer", "1人あたり粗利の差"),
        "margin_uplift_ci_low": L("Margin 95% from", "粗利 下限"), "margin_uplift_ci_high": L("Margin 95% to", "粗利 上限"),
        "incremental_margin_after_cost": L("Incremental margin after message cost", "配信費控除後の増分粗利"),
        "mde": L("Minimum detectable effect", "検出可能な最小効果"),
    }
    kinds = {c: "pct" for c in cols if c.startswith(("conversion", "uplift", "adjusted", "variance", "mde"))}
    kinds.update({"treated": "int", "holdout": "int", "margin_uplift_per_customer": "yen",
                  "margin_uplift_ci_low": "yen", "margin_uplift_ci_high": "yen",
                  "incremental_margin_after_cost": "yen"})
    tables = [TableBlock("crm_results", L(f"Treated vs holdout, {window} days after the planned send",
                                          f"送信群とホールドアウトの比較（送信予定から{window}日間）"),
                         frame[[c for c in cols if c in frame.columns]], labels, kinds)]
    if len(cum):
        tables.append(TableBlock(
            "crm_cumulative", L("Cumulative margin per customer by days since send", "送信後日数別 1人あたり累積粗利"),
            cum, {"scenario": labels["scenario"], "days_since_send": L("Days since send", "送信後日数"),
                  "treated": labels["treated"], "holdout": labels["holdout"],
                  "margin_per_customer_treated": L("Margin per customer, treated", "1人あたり粗利（送信群）"),
                  "margin_per_customer_holdout": L("Margin per customer, holdout", "1人あたり粗利（ホールドアウト）"),
                  "difference": L("Difference", "差")},
            {"treated": "int", "holdout": "int", "days_since_send": "int", "margin_per_customer_treated": "yen",
             "margin_per_customer_holdout": "yen", "difference": "yen"}))
    if same_run("crm_cohorts"):
        coh = ws.read_result("crm_cohorts").to_pandas().drop(columns=["observational"], errors="ignore")
        tables.append(TableBlock(
            "crm_cohorts", L("Acquisition cohorts before / after a scenario started (observational)",
                             "シナリオ開始前後の獲得コホート（観察データ）"),
            coh, {"scenario": labels["scenario"], "period": L("Period", "期間"),
                  "acquired_from": L("Acquired from", "獲得開始日"), "acquired_to": L("to", "獲得終了日"),
                  "customers": L("Customers", "顧客数"), "observed_customers": L("Observed that long", "観測済み顧客数"),
                  "horizon_days": L("Days after first order", "初回購入後日数"),
                  "margin_per_customer": L("Margin per customer", "1人あたり粗利")},
            {"customers": "int", "observed_customers": "int", "horizon_days": "int", "margin_per_customer": "yen"},
            text("observational", lang)))
    intro = L("Treated = every planned message not held out, whatever happened at sending (intention to treat); "
              "the holdout was never sent. Intervals are 95%; see docs/measurement.md.",
              "送信群＝ホールドアウト以外の計画済みメッセージすべて（送信に失敗したものも含む：ITT）。ホールドアウトには"
              "一切送っていません。区間は95%信頼区間です（docs/measurement.md）。")
    return Section("crm_results", L(*TITLE), intro=intro, tables=tables,
                   notes=report.sentences() + [text("observational", lang)])

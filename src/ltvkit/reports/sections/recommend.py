"""A sample of "what's needed next" recommendations (stored ``result_recommendations``, computed if missing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from ... import pipeline
from ...exceptions import MissingDataError
from ...i18n import MESSAGES, t
from .. import _figures as fig
from .. import narrative
from ..data import Chart, Section, TableBlock
from ._common import as_of, reuse, table_of

if TYPE_CHECKING:
    from ...store import Workspace
    from ..data import ReportSettings

COLUMNS = ("customer_key", "rank", "sku", "score", "reason")
SHOWN_RANKS = 3


def recommendations(ws: Workspace, settings: ReportSettings) -> Any:
    """The stored recommendations as of the report's day (computed through the pipeline when missing and allowed;
    read-only: what is stored, even when computed as of another date), or ``None``."""
    return pipeline.recommendations(ws, as_of(ws, settings), k=10, lang=settings.lang,
                                    stale_ok=not settings.compute_missing, **reuse(settings))


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    lang = settings.lang
    res = recommendations(ws, settings)
    if res is None:
        raise MissingDataError(t("report.need_recommend", settings.lang))
    table = table_of(ws, res)
    n_customers = int(table.customer_key.nunique().to_pandas())
    if not n_customers:
        return None
    extra = [c for c in ("reason_code", "related_sku") if c in table.columns]
    keys = table.select("customer_key").distinct()
    h = keys.customer_key.hash()  # DuckDB's hash is unsigned; Ibis reads it as signed: negatives sort last
    chosen = keys.order_by([h < 0, h]).limit(settings.recommendation_sample)
    sample = table.filter(table.customer_key.isin(chosen.customer_key) & (table["rank"] <= SHOWN_RANKS)).select(
        *COLUMNS, *extra).order_by(["customer_key", "rank"]).to_pandas()
    shown_ranks = table.filter(table["rank"] <= SHOWN_RANKS)
    top = shown_ranks.group_by("sku").aggregate(customers=shown_ranks.customer_key.nunique()).order_by(
        [ibis.desc("customers"), "sku"]).limit(10).to_pandas()
    names = ws.product_names([*sample["sku"].tolist(), *top["sku"].tolist(),
                               *(sample["related_sku"].dropna().tolist() if "related_sku" in sample else [])])
    sample["product_name"] = [names.get(s, (None, None))[0] or s for s in sample["sku"]]
    sample["category"] = [names.get(s, (None, None))[1] for s in sample["sku"]]
    stored_lang = res.details.get("lang") or res.params.get("lang")
    if "reason_code" in sample and stored_lang not in (None, lang):
        # imported here: the recommend package (and scipy.sparse) is only needed to translate stored reasons
        from ...recommend._reasons import REASON_CODES, reason_text

        def localise(row: Any) -> str:
            if f"reason.{row['reason_code']}" not in MESSAGES:
                return row["reason"]
            related = names.get(row.get("related_sku"), (None, None))[0] or row.get("related_sku") or ""
            category = names.get(row["sku"], (None, None))[1] or ""
            return reason_text(REASON_CODES.index(row["reason_code"]), lang, related=related, category=category)
        sample["reason"] = sample.apply(localise, axis=1)
    shown = sample[["customer_key", "rank", "product_name", "category", "sku", "score", "reason"]]
    tb = TableBlock(
        "recommendations", t("report.recommend.recommendations_for_a_sample_of", lang), shown,
        {"customer_key": t("report.recommend.customer_key", lang), "rank": t("report.recommend.rank", lang),
         "product_name": t("report.recommend.product", lang), "category": t("report.recommend.category", lang),
         "sku": t("report.recommend.sku", lang), "score": t("report.recommend.score", lang),
         "reason": t("report.recommend.why", lang)},
        {"rank": "int", "score": "float"},
        t("report.recommend.top_shown_ranks_items_for", lang, shown_ranks=SHOWN_RANKS, recommendation_sample=settings.recommendation_sample))
    charts = []
    if len(top):
        item_names = [names.get(s, (None, None))[0] or s for s in top["sku"]]
        figure = fig.bar(item_names, {t("report.recommend.customers", lang): top["customers"].tolist()}, horizontal=True,
                         x_title=t("report.recommend.customers_with_the_item_in_their_top", lang, shown_ranks=SHOWN_RANKS),
                         height=max(320, 34 * len(top) + 110))
        top_table = pd.DataFrame({"sku": top["sku"], "product_name": item_names, "customers": top["customers"]})
        charts.append(Chart(
            "top_recommended", t("report.recommend.most_recommended_items", lang), figure,
            narrative.recommendation_sentence(item_names[0], int(n_customers), int(top["customers"].iloc[0]), lang),
            TableBlock("top_recommended", t("report.recommend.most_recommended_items", lang), top_table,
                       {"sku": t("report.recommend.sku", lang), "product_name": t("report.recommend.product", lang),
                        "customers": t("report.recommend.customers", lang)}, {"customers": "int"})))
    return Section("recommend", t("report.sec_recommend", lang), charts=charts, tables=[tb])

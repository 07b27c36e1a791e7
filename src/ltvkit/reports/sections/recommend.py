"""A sample of "what's needed next" recommendations (stored ``result_recommendations``, computed if missing)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from ...exceptions import MissingDataError
from ...i18n import MESSAGES, t
from ...recommend._reasons import REASON_CODES, reason_text
from .. import _figures as fig
from .. import narrative
from ..data import Chart, Section, TableBlock
from ._common import as_of, call, product_names, stored, stored_as_of

if TYPE_CHECKING:
    from ...workspace import Workspace
    from ..data import ReportSettings

COLUMNS = ("customer_key", "rank", "sku", "score", "reason")
SHOWN_RANKS = 3


def _stored_lang(ws: Workspace) -> str | None:
    rows = ws.con.execute("SELECT params FROM result_log WHERE table_name = 'result_recommendations'").fetchall()
    row = rows[0] if rows else None
    try:
        return json.loads(row[0]).get("lang") if row and row[0] else None
    except (ValueError, AttributeError):
        return None


def recommendations(ws: Workspace, settings: ReportSettings) -> Any:
    """The stored recommendations, computed and stored first when missing and allowed."""
    day = as_of(ws, settings)
    table = stored_as_of(ws, "recommendations", COLUMNS, day)
    if table is None and settings.compute_missing:
        from ...recommend import recommend_workspace

        call(recommend_workspace, ws, as_of=settings.as_of, k=10, lang=settings.lang, store=True)
        table = stored_as_of(ws, "recommendations", COLUMNS, day)
    if table is None:  # read-only: what is stored, even when computed as of another date
        table = stored(ws, "recommendations", COLUMNS)
    return table


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    lang = settings.lang
    table = recommendations(ws, settings)
    if table is None:
        raise MissingDataError(t("report.need_recommend", settings.lang))
    name = table.get_name()
    n_customers = ws.con.execute(f'SELECT count(DISTINCT customer_key) FROM "{name}"').fetchall()[0][0]
    if not n_customers:
        return None
    extra = [c for c in ("reason_code", "related_sku") if c in table.columns]
    cols = ", ".join(f'"{c}"' for c in (*COLUMNS, *extra))
    sample = ws.con.execute(
        f"""
        WITH chosen AS (
          SELECT customer_key FROM (SELECT DISTINCT customer_key FROM "{name}")
          ORDER BY hash(customer_key) LIMIT ?
        )
        SELECT {cols} FROM "{name}" WHERE customer_key IN (SELECT customer_key FROM chosen) AND rank <= ?
        ORDER BY customer_key, rank
        """, [settings.recommendation_sample, SHOWN_RANKS]).fetchdf()
    top = ws.con.execute(
        f"""SELECT sku, count(DISTINCT customer_key) AS customers FROM "{name}" WHERE rank <= ?
            GROUP BY sku ORDER BY customers DESC, sku LIMIT 10""", [SHOWN_RANKS]).fetchdf()
    names = product_names(ws, [*sample["sku"].tolist(), *top["sku"].tolist(),
                               *(sample["related_sku"].dropna().tolist() if "related_sku" in sample else [])])
    sample["product_name"] = [names.get(s, (None, None))[0] or s for s in sample["sku"]]
    sample["category"] = [names.get(s, (None, None))[1] for s in sample["sku"]]
    if "reason_code" in sample and _stored_lang(ws) not in (None, lang):
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

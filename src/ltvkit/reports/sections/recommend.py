"""A sample of "what's needed next" recommendations (stored ``result_recommendations``, computed if missing)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from ...exceptions import MissingDataError
from .. import _figures as fig
from .. import narrative
from .._i18n import label, t
from ..data import Chart, Section, TableBlock
from ._common import as_of, call, product_names, stored, stored_as_of

if TYPE_CHECKING:
    from ...workspace import Workspace
    from ..data import ReportSettings

COLUMNS = ("customer_key", "rank", "sku", "score", "reason")
SHOWN_RANKS = 3
_REASONS = {  # reason_code -> (en, ja) short labels, used when the stored reasons are in the other language
    "repurchase_due": ("Repurchase due", "買い替え時期"),
    "bought_together": ("Bought together with {related}", "「{related}」と一緒に購入"),
    "popular_next_in_category": ("Popular next in the category", "同カテゴリで次に人気"),
    "similar_customers": ("Similar customers buy it", "似たお客様が購入"),
    "you_buy_often": ("A regular item", "いつもの商品"),
    "popular": ("Popular in the shop", "当店の人気商品"),
}


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
        raise MissingDataError(t("need_recommend", settings.lang))
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
            en, ja = _REASONS.get(row["reason_code"], (row["reason"], row["reason"]))
            related = names.get(row.get("related_sku"), (None, None))[0] or row.get("related_sku") or ""
            return (ja if lang == "ja" else en).format(related=related)
        sample["reason"] = sample.apply(localise, axis=1)
    shown = sample[["customer_key", "rank", "product_name", "category", "sku", "score", "reason"]]
    tb = TableBlock(
        "recommendations", label("Recommendations for a sample of customers", "顧客別レコメンドの例", lang), shown,
        {"customer_key": label("Customer key", "顧客キー", lang), "rank": label("Rank", "順位", lang),
         "product_name": label("Product", "商品名", lang), "category": label("Category", "カテゴリ", lang),
         "sku": label("SKU", "商品コード", lang), "score": label("Score", "スコア", lang),
         "reason": label("Why", "理由", lang)},
        {"rank": "int", "score": "float"},
        label(f"Top {SHOWN_RANKS} items for {settings.recommendation_sample} customers picked at random.",
              f"無作為に選んだ{settings.recommendation_sample}人について、上位{SHOWN_RANKS}件を表示しています。", lang))
    charts = []
    if len(top):
        item_names = [names.get(s, (None, None))[0] or s for s in top["sku"]]
        figure = fig.bar(item_names, {label("Customers", "顧客数", lang): top["customers"].tolist()}, horizontal=True,
                         x_title=label(f"Customers with the item in their top {SHOWN_RANKS}",
                                       f"上位{SHOWN_RANKS}件に含まれる顧客数", lang),
                         height=max(320, 34 * len(top) + 110))
        top_table = pd.DataFrame({"sku": top["sku"], "product_name": item_names, "customers": top["customers"]})
        charts.append(Chart(
            "top_recommended", label("Most recommended items", "よく勧められている商品", lang), figure,
            narrative.recommendation_sentence(item_names[0], int(n_customers), int(top["customers"].iloc[0]), lang),
            TableBlock("top_recommended", label("Most recommended items", "よく勧められている商品", lang), top_table,
                       {"sku": label("SKU", "商品コード", lang), "product_name": label("Product", "商品名", lang),
                        "customers": label("Customers", "顧客数", lang)}, {"customers": "int"})))
    return Section("recommend", t("sec_recommend", lang), charts=charts, tables=[tb])

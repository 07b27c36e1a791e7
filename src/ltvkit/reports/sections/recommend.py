"""A sample of "what's needed next" recommendations (stored ``result_recommendations``, computed if missing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
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


def recommendations(ws: Workspace, settings: ReportSettings) -> Any:
    """The stored recommendations as of the report's day (computed through the pipeline when missing and allowed;
    read-only: what is stored, even when computed as of another date), or ``None``."""
    return pipeline.recommendations(ws, as_of(ws, settings), k=10, lang=settings.lang,
                                    stale_ok=not settings.compute_missing, **reuse(settings))


def build(ws: Workspace, settings: ReportSettings) -> Section | None:
    lang = settings.lang
    res = recommendations(ws, settings)
    if res is None:
        raise MissingDataError(t("need_recommend", settings.lang))
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

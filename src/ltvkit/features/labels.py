"""Japanese and English labels for the analytics' column and segment names (``--lang ja|en``)."""

from __future__ import annotations

from typing import Any

__all__ = ["LABELS", "label", "relabel"]

# name -> (ja, en)
LABELS: dict[str, tuple[str, str]] = {
    # summary
    "as_of": ("基準日", "as of"),
    "customers": ("顧客数", "customers"),
    "orders": ("注文数", "orders"),
    "revenue": ("売上", "revenue"),
    "margin": ("貢献利益", "contribution margin"),
    "customers_last_year": ("直近1年の購入顧客数", "customers in the last year"),
    "new_customers_last_year": ("直近1年の新規顧客数", "new customers in the last year"),
    "aov": ("平均注文単価", "average order value"),
    "purchases_per_year": ("年間購入回数", "purchases per year"),
    "retention_rate": ("年間継続率", "annual retention rate"),
    "lifespan_years": ("平均継続年数", "average lifespan (years)"),
    "margin_per_customer_year": ("顧客1人あたり年間貢献利益", "margin per customer-year"),
    "textbook_ltv": ("LTV（単価×頻度×継続期間）", "LTV (AOV × frequency × lifespan)"),
    "retention_ltv": ("LTV（継続率モデル）", "LTV (retention model)"),
    "discount_rate": ("割引率", "discount rate"),
    "f2_rate_365d": ("F2転換率（365日）", "F2 conversion (365 days)"),
    "annual_ltv_revenue": ("年間LTV（売上）", "annual LTV (revenue)"),
    "annual_ltv_margin": ("年間粗利LTV", "annual margin LTV"),
    # cohorts
    "segment": ("セグメント", "segment"),
    "cohort": ("初回購入期 (月・週)", "cohort"),
    "cohort_size": ("新規顧客数", "new customers"),
    "period": ("経過", "period"),
    "active_customers": ("購入顧客数", "active customers"),
    "retention": ("継続率", "retention"),
    "cum_revenue_per_customer": ("累計売上/人", "cumulative revenue per customer"),
    "cum_margin_per_customer": ("粗利LTV/人", "cumulative margin per customer"),
    "complete": ("確定", "complete"),
    "revenue_ltv_12m": ("年間LTV 12か月", "revenue LTV 12m"),
    "margin_ltv_12m": ("★粗利LTV 12か月", "★margin LTV 12m"),
    "margin_ltv_24m": ("★粗利LTV 24か月", "★margin LTV 24m"),
    "ltv_12m_complete": ("12か月確定", "12m complete"),
    "ltv_24m_complete": ("24か月確定", "24m complete"),
    # F2
    "window_days": ("期間（日）", "window (days)"),
    "eligible": ("対象顧客数", "eligible"),
    "f2_customers": ("2回目購入者", "2nd-order customers"),
    "f3_customers": ("3回目購入者", "3rd-order customers"),
    "f2_rate": ("F2転換率", "F2 rate"),
    "f3_rate_from_first": ("F3転換率（初回比）", "F3 rate (from first)"),
    "f3_rate_step": ("F3転換率（F2比）", "F3 rate (step)"),
    "first_category": ("初回カテゴリ", "first category"),
    "bin_start": ("開始日", "from day"),
    "bin_end": ("終了日", "to day"),
    "at_risk": ("リスク集合", "at risk"),
    "second_purchases": ("2回目購入", "second purchases"),
    "hazard": ("ハザード", "hazard"),
    "repeaters": ("リピーター", "repeaters"),
    "median_days_to_second": ("2回目までの日数（中央値）", "median days to 2nd"),
    "golden_start": ("ゴールデンタイム開始", "golden time from"),
    "golden_end": ("ゴールデンタイム終了", "golden time to"),
    "peak_hazard": ("最大ハザード", "peak hazard"),
    # segments
    "customer_key": ("顧客キー", "customer_key"),
    "customer_share": ("顧客構成比", "customer share"),
    "margin_share": ("利益構成比", "margin share"),
    "mean_orders": ("平均注文数", "mean orders"),
    "mean_recency_days": ("平均経過日数", "mean recency (days)"),
    "top_share": ("上位顧客比率", "top share of customers"),
    # points
    "point_segment": ("ポイント依存区分", "point segment"),
    "mean_score": ("平均スコア", "mean score"),
    "point_dependence_score": ("ポイント依存度", "point dependence score"),
    "mean_campaign_share": ("キャンペーン購入比率", "campaign share"),
    "mean_base_rate": ("基準比率", "base rate"),
    "mean_points_share": ("ポイント・モールクーポン比率", "points share"),
    "first_in_campaign": ("初回キャンペーン", "first in campaign"),
    "group": ("獲得区分", "group"),
    "horizon": ("期間", "horizon"),
    "metric": ("指標", "metric"),
    "value": ("値", "value"),
    "ci_low": ("95%信頼区間下限", "95% CI low"),
    "ci_high": ("95%信頼区間上限", "95% CI high"),
    # cac
    "channel": ("獲得チャネル", "channel"),
    "new_customers": ("新規顧客数", "new customers"),
    "mature_customers": ("集計対象顧客数", "mature customers"),
    "cac": ("獲得単価(CAC)", "CAC"),
    "margin_ltv": ("粗利LTV", "margin LTV"),
    "breakeven_cpa": ("限界CPA", "break-even CPA"),
    "target_cpa": ("目標CPA", "target CPA"),
    "payback_months": ("回収月数", "payback months"),
    "ltv_cac": ("LTV/CAC", "LTV/CAC"),
    # segment and group values
    "Champions": ("チャンピオン", "Champions"),
    "Loyal": ("ロイヤル", "Loyal"),
    "Active": ("アクティブ", "Active"),
    "Needs attention": ("要注意", "Needs attention"),
    "Promising": ("有望", "Promising"),
    "New": ("新規", "New"),
    "At risk": ("離反リスク", "At risk"),
    "Previously loyal": ("元ロイヤル", "Previously loyal"),
    "Almost lost": ("離反寸前", "Almost lost"),
    "Dormant": ("休眠", "Dormant"),
    "Prospects": ("見込み客", "Prospects"),
    "point_driven": ("ポイント依存", "point-driven"),
    "mixed": ("混合", "mixed"),
    "loyal": ("ロイヤル", "loyal"),
    "point_acquired": ("ポイント獲得", "point-acquired"),
    "organic": ("オーガニック", "organic"),
    "campaign": ("キャンペーン", "campaign"),
    "non_campaign": ("通常", "non-campaign"),
    "points_or_coupon": ("ポイント・クーポン利用", "points or coupon"),
    "no_discount": ("値引きなし", "no discount"),
}

_CPM_EN = {"初回": "first", "よちよち": "toddler", "コツコツ": "steady", "流行": "trend", "優良": "prime",
           "現役": "active", "離脱": "lapsed"}


def label(name: str, lang: str = "en") -> str:
    """The label of a column or segment name in ``ja`` or ``en`` (the name itself when unknown).

    Examples
    --------
    >>> label("f2_rate", "ja")
    'F2転換率'
    >>> label("優良現役", "en")
    'prime (active)'
    """
    if name in LABELS:
        return LABELS[name][0 if lang == "ja" else 1]
    if lang == "en" and len(name) >= 4 and name[-2:] in _CPM_EN and name[:-2] in _CPM_EN:
        return f"{_CPM_EN[name[:-2]]} ({_CPM_EN[name[-2:]]})"
    return name


def relabel(df: Any, lang: str = "en", *, values: tuple[str, ...] = ("segment", "point_segment", "group", "metric")) -> Any:
    """A copy of a pandas frame with labelled headers and segment values (for people, not for files)."""
    out = df.copy()
    for col in values:
        if col in out.columns:
            out[col] = out[col].map(lambda v: label(v, lang) if isinstance(v, str) else v)
    out.columns = [label(str(c), lang) for c in out.columns]
    return out

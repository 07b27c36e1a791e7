"""Words and number formats of the report in Japanese and English."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["LANGS", "fmt", "label", "t"]

LANGS = ("ja", "en")

# key -> (en, ja)
_TEXT: dict[str, tuple[str, str]] = {
    # page
    "report_title": ("Customer lifetime value report", "顧客生涯価値（LTV）レポート"),
    "generated": ("Generated", "作成日時"),
    "period": ("Orders from", "対象期間"),
    "to": ("to", "〜"),
    "as_of": ("As of", "基準日"),
    "contents": ("Contents", "目次"),
    "not_available": ("Not available yet", "まだ利用できない分析"),
    "not_available_intro": (
        "These analyses are not in this report yet. They appear once the workspace holds what they need.",
        "次の分析はこのレポートにまだ含まれていません。必要なデータや計算結果がそろうと表示されます。",
    ),
    "rows_shown": ("Showing {shown:,} of {total:,} rows; the Excel file has them all.",
                   "{total:,}行のうち{shown:,}行を表示しています（全行はExcelファイルにあります）。"),
    "privacy_note": (
        "Customers appear only by their pseudonymous customer key; no names or contact details are in this report.",
        "顧客は仮名の顧客キーだけで表示しています。氏名や連絡先はこのレポートに含まれません。",
    ),
    "footer": ("Made with ltvkit", "ltvkit で作成"),
    "show_data": ("Show the numbers", "数値を表示"),
    "failed": ("could not be computed: {error}", "計算できませんでした: {error}"),
    "missing_module": ("the {what} module is not installed in this version",
                       "このバージョンには{what}の機能がまだありません"),
    "no_data": ("not enough data", "データが足りません"),
    "need_predict": ("no predictions stored yet; run `ltv predict` (or `ltv report` without --read-only)",
                     "予測結果がまだありません。`ltv predict` を実行してください（--read-only なしの `ltv report` でも計算します）"),
    "need_recommend": ("no recommendations stored yet; run `ltv recommend` (or `ltv report` without --read-only)",
                       "レコメンド結果がまだありません。`ltv recommend` を実行してください（--read-only なしの `ltv report` でも計算します）"),
    "workbook_summary": ("Summary", "概要"),
    "item": ("Item", "項目"),
    "value": ("Value", "値"),
    "sheet_contents": ("Sheets", "シート一覧"),
    "sheet": ("Sheet", "シート"),
    "description": ("What it shows", "内容"),
    # sections
    "sec_kpi": ("Key figures", "主要指標"),
    "sec_cohorts": ("Cohorts: cumulative margin and retention", "コホート分析：累積粗利とリピート"),
    "sec_f2": ("Second purchase (F2) and golden time", "F2転換とゴールデンタイム"),
    "sec_segments": ("Customer segments (RFM and CPM)", "顧客セグメント（RFM・CPM）"),
    "sec_points": ("Point dependence", "ポイント依存度"),
    "sec_cac": ("LTV vs acquisition cost by channel", "チャネル別 LTV と獲得コスト"),
    "sec_predictive": ("Predictions: who is still active and what comes next", "予測：稼働顧客とこれからの購入"),
    "sec_recommend": ("What customers need next (sample)", "次に必要な商品（レコメンドの例）"),
    "sec_crm_results": ("Did it work?", "施策の効果検証"),
    # KPI labels
    "kpi_customers": ("Customers", "顧客数"),
    "kpi_orders": ("Orders", "注文数"),
    "kpi_aov": ("Average order value", "平均注文単価"),
    "kpi_frequency": ("Purchases per year", "年間購入回数"),
    "kpi_lifespan": ("Customer lifespan", "平均継続年数"),
    "kpi_textbook_ltv": ("Textbook LTV", "LTV（単価×頻度×継続年数）"),
    "kpi_margin_ltv_12m": ("12-month margin LTV", "12か月粗利LTV"),
    "kpi_margin_ltv_24m": ("24-month margin LTV", "24か月粗利LTV"),
    "kpi_f2": ("F2 conversion", "F2転換率"),
    "kpi_retention": ("Yearly retention", "年間継続率"),
    "kpi_revenue": ("Revenue", "売上"),
    "kpi_repeat_rate": ("Repeat customers", "リピート顧客比率"),
    "kpi_help_textbook": ("AOV × purchases per year × lifespan", "平均単価 × 年間購入回数 × 継続年数"),
    "kpi_help_margin": ("Cumulative contribution margin per acquired customer", "新規顧客1人あたりの累積粗利"),
    "kpi_help_f2": ("Share of first-time buyers who bought a second time", "初回購入者のうち2回目を購入した割合"),
}


def t(key: str, lang: str, **kwargs: Any) -> str:
    """The text ``key`` in ``lang`` (``ja`` or ``en``), formatted with ``kwargs``; the key itself if unknown."""
    pair = _TEXT.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "ja" else pair[0]
    return text.format(**kwargs) if kwargs else text


def label(en: str, ja: str, lang: str) -> str:
    """Pick the Japanese or English wording."""
    return ja if lang == "ja" else en


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def fmt(value: Any, kind: str, lang: str) -> str:
    """A number as people read it: ``yen`` (12,345円 / ¥12,345), ``int``, ``pct`` (a share 0..1), ``float``,
    ``days``, ``months``, ``years``, ``ratio`` (×), or ``text``."""
    if _is_missing(value):
        return "—"
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if hasattr(value, "strftime") and not isinstance(value, str):
        has_time = any(getattr(value, a, 0) for a in ("hour", "minute", "second"))
        return value.strftime("%Y-%m-%d %H:%M" if has_time else "%Y-%m-%d")
    if kind == "text" or isinstance(value, str) or isinstance(value, bool):
        return str(value)
    v = float(value)
    if kind == "yen":
        s = f"{v:,.0f}"
        return f"{s}円" if lang == "ja" else f"¥{s}".replace("¥-", "-¥")
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "pct":
        return f"{v * 100:.1f}%"
    if kind == "days":
        return f"{v:,.0f}日" if lang == "ja" else f"{v:,.0f} days"
    if kind == "months":
        return f"{v:,.1f}か月" if lang == "ja" else f"{v:,.1f} months"
    if kind == "years":
        return f"{v:,.2f}年" if lang == "ja" else f"{v:,.2f} years"
    if kind == "ratio":
        return f"{v:,.2f}倍" if lang == "ja" else f"{v:,.2f}×"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if v == int(v):
        return f"{int(v):,}"
    return f"{v:,.2f}" if abs(v) >= 0.01 else f"{v:.2g}"

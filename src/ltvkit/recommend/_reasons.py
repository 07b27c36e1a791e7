"""Reasons a customer would accept, in English and Japanese."""

from __future__ import annotations

REPURCHASE, TOGETHER, CATEGORY_NEXT, SIMILAR, FREQUENT, POPULAR = range(6)
REASON_CODES = ("repurchase_due", "bought_together", "popular_next_in_category", "similar_customers",
                "you_buy_often", "popular")

_TEXT = {
    "en": (
        "Repurchase due: you may be running low",
        "Bought together with {related}",
        "Popular next in your category ({category})",
        "Customers like you buy this",
        "One of your regular items",
        "Popular in the shop",
    ),
    "ja": (
        "そろそろ買い替え時期です",
        "「{related}」と一緒に購入されています",
        "「{category}」を購入した方が次によく購入しています",
        "あなたと似たお客様がよく購入しています",
        "いつもご購入いただいている商品です",
        "当店の人気商品です",
    ),
}


def reason_text(code: int, lang: str = "en", *, related: str = "", category: str = "") -> str:
    """Human-readable reason for a reason code (see :data:`REASON_CODES`)."""
    text = _TEXT[lang][code]
    if code == CATEGORY_NEXT and not category:
        text = _TEXT[lang][POPULAR]
    return text.format(related=related, category=category)

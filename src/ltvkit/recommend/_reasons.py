"""Reasons a customer would accept, in Japanese and English (``reason.*`` keys of the catalogue)."""

from __future__ import annotations

from ..i18n import t

REPURCHASE, TOGETHER, CATEGORY_NEXT, SIMILAR, FREQUENT, POPULAR = range(6)
REASON_CODES = ("repurchase_due", "bought_together", "popular_next_in_category", "similar_customers",
                "you_buy_often", "popular")

def reason_text(code: int, lang: str = "en", *, related: str = "", category: str = "") -> str:
    """Human-readable reason for a reason code (see :data:`REASON_CODES`)."""
    if code == CATEGORY_NEXT and not category:
        code = POPULAR
    return t(f"reason.{REASON_CODES[code]}", lang, related=related, category=category)

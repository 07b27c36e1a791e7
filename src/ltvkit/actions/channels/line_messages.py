"""LINE message objects: text with quick replies, and a Flex carousel of recommended items (ja/en).

Quick replies offer 「もう一度注文する」 (a postback ``reorder:<sku>`` the webhook answers with the item's URL) and
「配信停止」 (a text the webhook records as an opt-out). Item URLs come from ``LTV_ITEM_URL_TEMPLATE`` with the SKU
percent-encoded; texts are sent as JSON strings, never interpreted, so a hostile product name stays text.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

__all__ = ["STOP_WORDS", "TEXTS", "flex_items", "item_url", "text_message"]

TEXTS = {
    "ja": {"reorder": "もう一度注文する", "stop": "配信停止", "recommended": "次におすすめの商品",
           "view": "商品を見る", "reorder_answer": "ご注文はこちらからどうぞ: {url}",
           "reorder_no_url": "ご注文ありがとうございます。担当者よりご連絡します。",
           "stopped": "配信を停止しました。これまでのご利用ありがとうございました。",
           "linked": "LINEとご注文の連携が完了しました。今後はこちらでお知らせします。",
           "bad_code": "このコードは無効か、有効期限が切れています。同梱のカードのコードをご確認ください。",
           "welcome": "友だち追加ありがとうございます。同梱カードの連携コードを送信すると、ご注文と連携できます。"},
    "en": {"reorder": "Order again", "stop": "stop", "recommended": "You may need next", "view": "View item",
           "reorder_answer": "You can order it here: {url}",
           "reorder_no_url": "Thank you - our staff will get back to you.",
           "stopped": "You will receive no more messages from us. Thank you for shopping with us.",
           "linked": "Your LINE account is now linked to your orders.",
           "bad_code": "This code is not valid or has expired; please check the card in your parcel.",
           "welcome": "Thanks for adding us. Send the linking code on the card in your parcel to link your orders."},
}
STOP_WORDS = frozenset({"配信停止", "停止", "ストップ", "STOP", "UNSUBSCRIBE"})


def _t(lang: str) -> dict[str, str]:
    return TEXTS.get(lang, TEXTS["ja"])


def item_url(template: str, sku: str) -> str | None:
    """The shop's item URL for a SKU (percent-encoded into ``{sku}``), or ``None`` without a template."""
    if not template or "{sku}" not in template:
        return None
    return template.replace("{sku}", quote(str(sku), safe=""))


def _label(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_message(text: str, lang: str = "ja", *, sku: str | None = None) -> dict[str, Any]:
    """A text message with quick replies: reorder (when the message is about an item) and stop."""
    t = _t(lang)
    items: list[dict[str, Any]] = []
    if sku:
        items.append({"type": "action", "action": {"type": "postback", "label": _label(t["reorder"]),
                                                    "data": f"reorder:{sku}"[:300], "displayText": t["reorder"]}})
    items.append({"type": "action", "action": {"type": "message", "label": _label(t["stop"]), "text": t["stop"]}})
    return {"type": "text", "text": text[:5000], "quickReply": {"items": items}}


def flex_items(items: list[dict[str, Any]], lang: str, url_template: str) -> dict[str, Any] | None:
    """A Flex carousel with one bubble per recommended item (name and a button to its page); ``None`` when no
    item has a URL."""
    t = _t(lang)
    bubbles = []
    for item in items[:10]:
        url = item_url(url_template, str(item.get("sku") or ""))
        if not url or not item.get("sku"):
            continue
        name = str(item.get("name") or item["sku"])
        bubbles.append({
            "type": "bubble", "size": "micro",
            "body": {"type": "box", "layout": "vertical", "contents": [
                {"type": "text", "text": t["recommended"], "size": "xxs", "color": "#888888"},
                {"type": "text", "text": name[:200], "wrap": True, "weight": "bold", "size": "sm"}]},
            "footer": {"type": "box", "layout": "vertical", "contents": [
                {"type": "button", "style": "link", "height": "sm",
                 "action": {"type": "uri", "label": _label(t["view"]), "uri": url}}]},
        })
    if not bubbles:
        return None
    return {"type": "flex", "altText": t["recommended"], "contents": {"type": "carousel", "contents": bubbles}}

"""Package inserts: one printable A6 card per shipped order, inviting the buyer to the shop's LINE account.

Each card has a personal thank-you, the items bought with care/usage tips, "what you may need next" from the
stored recommendations, and a one-time linking code (see :mod:`ltvkit.actions.linking`) the customer sends in
LINE to link their orders. A QR code of the shop's LINE add-friend URL (``LTV_LINE_ADD_FRIEND_URL``, drawn as
vector squares with segno) is printed only where an external URL may be printed (``LTV_INSERTS_EXTERNAL_URL``:
``auto`` = not on Rakuten orders, whose rules forbid external links unless approved).

The PDF embeds a Japanese font (Noto Sans CJK by default, from Debian's ``fonts-noto-cjk``; ``LTV_INSERTS_FONT``
names another). Texts are drawn as plain text: a product name is never interpreted as markup.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import InputError, MissingDataError
from ._ops import OpsStore
from .linking import format_code, issue_link_codes

if TYPE_CHECKING:
    from ..config import Settings
    from ..store import Workspace

__all__ = ["Insert", "find_cjk_font", "plan_inserts", "write_inserts_csv", "write_inserts_pdf"]

TEXT = {
    "ja": {"thanks": "ご購入ありがとうございます", "dear": "このたびは{shop}をご利用いただき、心より御礼申し上げます。",
           "order": "ご注文日 {date}　注文番号 {order}", "bought": "お買い上げの商品", "tips": "使い方・お手入れのヒント",
           "next": "次に必要になりそうなもの", "line": "LINEでお知らせを受け取る",
           "scan": "QRコードから友だち追加し、次のコードをトークで送信してください。",
           "search": "{shop}のLINE公式アカウントを友だち追加し、次のコードをトークで送信してください。",
           "expires": "有効期限 {date}", "tip": "ご使用前に、ラベルの使用方法・注意事項をご確認ください。",
           "shop": "当店"},
    "en": {"thanks": "Thank you for your order", "dear": "Thank you for shopping at {shop}.",
           "order": "Ordered {date}  Order {order}", "bought": "What you bought", "tips": "Tips for use and care",
           "next": "You may need next", "line": "Get our news on LINE",
           "scan": "Add us as a friend with the QR code, then send this code in the chat.",
           "search": "Add {shop}'s LINE official account as a friend, then send this code in the chat.",
           "expires": "Valid until {date}", "tip": "Please read the label for use and care before first use.",
           "shop": "our shop"},
}
FONT_GLOBS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/**/NotoSansCJK*Regular*.tt[cf]",
    "/usr/share/fonts/**/NotoSans*JP*Regular*.[ot]tf",
    "/usr/local/share/fonts/**/Noto*CJK*Regular*.tt[cf]",
    "~/.fonts/**/Noto*CJK*Regular*.tt[cf]",
    "~/.local/share/fonts/**/Noto*CJK*Regular*.tt[cf]",
    "/Library/Fonts/**/Noto*CJK*Regular*.tt[cf]",
    "/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc",
)


@dataclass
class Insert:
    """What one card says (no contact data: the print service matches cards to parcels by order number)."""

    source: str
    order_id: str
    customer_key: str
    order_date: dt.date
    items: list[str]
    tips: list[str]
    next_items: list[str]
    code: str
    code_expires: dt.datetime
    qr_url: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {"source": self.source, "order_id": self.order_id, "order_date": self.order_date.isoformat(),
                "customer_key": self.customer_key, "items": " / ".join(self.items), "tips": " / ".join(self.tips),
                "next_items": " / ".join(self.next_items), "link_code": format_code(self.code),
                "code_expires": self.code_expires.date().isoformat(), "qr_url": self.qr_url or ""}


def find_cjk_font(configured: Path | None = None) -> Path:
    """The Japanese font to embed: ``LTV_INSERTS_FONT`` when set, else Noto Sans CJK where systems put it."""
    if configured is not None:
        if not Path(configured).is_file():
            raise InputError(key="err.inserts_font_not_file", path=str(configured))
        return Path(configured)
    for pattern in FONT_GLOBS:
        hits = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
        if hits:
            return Path(hits[0])
    raise InputError(key="err.inserts_no_font")


def _read_tips(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise InputError(key="err.inserts_tips_unreadable", path=str(path), reason=str(exc.strerror)) from None
    if rows and not {"match", "tip"} <= set(rows[0]):
        raise InputError(key="err.inserts_tips_columns", name=path.name)
    return {str(r["match"]).strip(): str(r["tip"]).strip() for r in rows if r.get("match") and r.get("tip")}


def _external_allowed(settings: Settings, source: str) -> bool:
    mode = settings.inserts_external_url
    return mode == "yes" or (mode == "auto" and source != "rakuten")


def plan_inserts(ws: Workspace, store: OpsStore, settings: Settings, *, since: dt.date, lang: str = "ja",
                 tips: Path | None = None, now: dt.datetime | None = None) -> list[Insert]:
    """One :class:`Insert` per order (status ``ordered``: not cancelled or returned) dated ``since`` or later, with its linking code (issued
    once per order: printing again prints the same code while it is valid)."""
    import pandas as pd

    t = ws.orders()
    lines = (t.filter(t.status == "ordered", t.order_date >= since)
             .select("source", "order_id", "line_no", "customer_key", "order_date", "sku", "product_name",
                     "category").to_pandas())
    if lines.empty:
        raise MissingDataError(key="err.inserts_no_orders", since=str(since))
    lines = lines.sort_values(["source", "order_id", "line_no"])
    tip_map = _read_tips(tips)
    recs: dict[str, list[str]] = {}
    if ws.has_result("recommendations"):
        r = ws.read_result("recommendations")
        keys = sorted(set(lines["customer_key"]))
        rf = r.filter(r["rank"] <= 5).select("customer_key", "rank", "sku").to_pandas()
        rf = rf[rf["customer_key"].isin(keys)].sort_values(["customer_key", "rank"])
        recs = rf.groupby("customer_key", sort=False)["sku"].agg(list).to_dict()
    rec_skus = sorted({s for v in recs.values() for s in v})
    names = {k: (v[0] or k) for k, v in ws.product_names(rec_skus).items()} if rec_skus else {}
    orders = lines.groupby(["source", "order_id"], sort=False)
    pairs = [(str(g["customer_key"].iloc[0]), f"{src}:{oid}") for (src, oid), g in orders]
    codes = issue_link_codes(store, pairs, days=settings.link_code_days, now=now)
    generic = TEXT.get(lang, TEXT["ja"])["tip"]
    out = []
    for (src, oid), g in orders:
        customer = str(g["customer_key"].iloc[0])
        bought = [str(n if isinstance(n, str) and n else s) for n, s in zip(g["product_name"], g["sku"], strict=True)]
        own = set(g["sku"].astype(str))
        tip_list = []
        for s, c in zip(g["sku"].astype(str), g["category"], strict=True):
            tip = tip_map.get(s) or (tip_map.get(str(c)) if isinstance(c, str) else None)
            if tip and tip not in tip_list:
                tip_list.append(tip)
        nxt = [names.get(s, s) for s in recs.get(customer, []) if s not in own][:3]
        code, expires = codes[(customer, f"{src}:{oid}")]
        qr = settings.line_add_friend_url if settings.line_add_friend_url and _external_allowed(settings, src) \
            else None
        out.append(Insert(str(src), str(oid), customer, pd.Timestamp(g["order_date"].iloc[0]).date(),
                          list(dict.fromkeys(bought)), tip_list or [generic], nxt, code, expires, qr))
    return out


def write_inserts_csv(inserts: list[Insert], out: Any) -> int:
    """The cards as CSV rows (for print services), to a path or an open text stream."""
    fields = list(Insert("", "", "", dt.date(2000, 1, 1), [], [], [], "AAAAAAAA", dt.datetime(2000, 1, 1),
                         None).row())
    if isinstance(out, (str, os.PathLike)):
        with open(out, "w", encoding="utf-8-sig", newline="") as f:
            return write_inserts_csv(inserts, f)
    w = csv.DictWriter(out, fieldnames=fields)
    w.writeheader()
    for ins in inserts:
        w.writerow(ins.row())
    return len(inserts)


def _collection_index(path: Path) -> int:
    """For a .ttc, the index of its Japanese face (``… JP``), else 0."""
    if path.suffix.lower() != ".ttc":
        return 0
    from fontTools.ttLib import TTCollection

    coll = TTCollection(str(path), lazy=True)
    try:
        for i, font in enumerate(coll.fonts):
            name = font["name"].getDebugName(1) or ""
            if name.endswith(" JP") or "JP" in name.split():
                return i
    finally:
        coll.close()
    return 0


def _qr(pdf: Any, url: str, x: float, y: float, size: float) -> None:
    """The QR code of ``url`` as filled squares (vector; merged per row), with a 4-module quiet zone."""
    import segno

    qr = segno.make(url, error="m", micro=False)
    matrix = qr.matrix
    n = len(matrix)
    module = size / (n + 8)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                pdf.rect(x + (start + 4) * module, y + (r + 4) * module, (c - start) * module, module, style="F")
            else:
                c += 1


def write_inserts_pdf(inserts: list[Insert], path: str | os.PathLike[str], *, lang: str = "ja", shop: str = "",
                      font: Path | None = None) -> int:
    """Render the cards, one A6 page each, into ``path``; return the number of pages."""
    from fpdf import FPDF

    font_path = find_cjk_font(font)
    t = TEXT.get(lang, TEXT["ja"])
    shop_name = shop or t["shop"]
    pdf = FPDF(format=(105, 148), unit="mm")  # A6
    pdf.set_auto_page_break(False)
    pdf.set_margins(8, 8, 8)
    pdf.add_font("jp", fname=str(font_path), collection_font_number=_collection_index(font_path))
    width = 105 - 16

    def para(text: str, size: float, gap: float = 1.0) -> None:
        pdf.set_font("jp", size=size)
        pdf.multi_cell(width, size * 0.45, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    def bullets(title: str, rows: list[str], limit: int) -> None:
        if not rows:
            return
        para(title, 8.5, 0.5)
        for row in rows[:limit]:
            para("・" + (row if len(row) <= 60 else row[:59] + "…"), 7.5, 0.3)
        pdf.ln(1)

    for ins in inserts:
        pdf.add_page()
        para(shop_name, 9, 1)
        para(t["thanks"], 13, 1.5)
        para(t["dear"].format(shop=shop_name), 8, 0.5)
        para(t["order"].format(date=ins.order_date.isoformat(), order=ins.order_id), 7, 2)
        bullets(t["bought"], ins.items, 4)
        bullets(t["tips"], ins.tips, 2)
        bullets(t["next"], ins.next_items, 3)
        top = 148 - 8 - 34
        pdf.set_draw_color(180, 180, 180)
        pdf.line(8, top - 3, 105 - 8, top - 3)
        text_x = 8
        if ins.qr_url:
            _qr(pdf, ins.qr_url, 8, top, 34)
            text_x = 8 + 34 + 3
        tw = 105 - 8 - text_x
        y = top
        how = t["scan"] if ins.qr_url else t["search"].format(shop=shop_name)
        for text, size, height, gap in ((t["line"], 9, 4.5, 0), (how, 7, 3.3, 1),
                                        (format_code(ins.code), 15, 7, 0),
                                        (t["expires"].format(date=ins.code_expires.date().isoformat()), 7, 3.3, 0)):
            pdf.set_xy(text_x, y)
            pdf.set_font("jp", size=size)
            pdf.multi_cell(tw, height, text, new_x="LEFT", new_y="NEXT")
            y = pdf.get_y() + gap
    pdf.output(str(path))
    return len(inserts)

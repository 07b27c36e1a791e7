"""Package inserts: the PDF renders, every QR decodes to the add-friend URL, codes are unique and expire, and a
hostile product name prints as text."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pypdfium2 as pdfium
import pytest
import zxingcpp

from ltvkit.actions import OpsStore, default_ops_url, redeem_code
from ltvkit.actions.inserts import find_cjk_font
from ltvkit.actions.linking import CODE_ALPHABET, normalize_code
from ltvkit.cli import main
from ltvkit.store import Workspace

URL = "https://line.me/R/ti/p/@ltvkit-test?from=insert"
HOSTILE = "<b>x</b>{{ 7*7 }} ) Tj (%PDF"

try:
    find_cjk_font()
    HAVE_FONT = True
except Exception:  # noqa: BLE001
    HAVE_FONT = False
needs_font = pytest.mark.skipif(not HAVE_FONT, reason="no Noto Sans CJK font (apt-get install fonts-noto-cjk)")


def line(source, order, no, customer, day, sku, name, status="ordered"):
    t = pd.Timestamp(day) + pd.Timedelta(hours=10)
    return {"source": source, "order_id": order, "line_no": no, "customer_key": customer, "ordered_at": t,
            "sku": sku, "product_name": name, "category": "care" if sku.startswith("S") else None, "quantity": 1,
            "unit_price": 1000, "line_amount": 1000, "shop_coupon": 0, "mall_coupon": 0, "points_used": 0,
            "shipping_fee": 0, "status": status}


@pytest.fixture
def shop(tmp_path, monkeypatch):
    ws_path = tmp_path / "ltv.duckdb"
    rows = [line("shopify", "#1001", 1, "c1", "2026-11-20", "S-1", "シャンプー 詰め替え"),
            line("shopify", "#1001", 2, "c1", "2026-11-20", "T-1", HOSTILE),
            line("shopify", "#1002", 1, "c2", "2026-11-21", "S-1", "シャンプー 詰め替え"),
            line("rakuten", "123-20261122-1", 1, "c3", "2026-11-22", "S-1", "シャンプー 詰め替え"),
            line("shopify", "#0999", 1, "c4", "2026-10-01", "S-1", "old order"),
            line("shopify", "#1003", 1, "c5", "2026-11-23", "S-1", "cancelled", status="cancelled")]
    with Workspace(ws_path) as ws:
        ws.append_order_lines(pd.DataFrame(rows))
        ws.write_result("recommendations", pd.DataFrame({"customer_key": ["c1", "c1", "c2"], "rank": [1, 2, 1],
                                                         "sku": ["S-1", "R-9", "T-1"]}),
                        as_of=dt.date(2026, 11, 30))
        ws.append_order_lines(pd.DataFrame([line("shopify", "#0001", 1, "c9", "2026-01-01", "R-9", "トリートメント")]))
    tips = tmp_path / "tips.csv"
    tips.write_text("match,tip\ncare,泡立ててから髪になじませてください。\n", encoding="utf-8")
    monkeypatch.setenv("LTV_LINE_ADD_FRIEND_URL", URL)
    monkeypatch.setenv("LTV_CRM_SHOP_NAME", "テスト店")
    monkeypatch.delenv("LTV_INSERTS_EXTERNAL_URL", raising=False)
    return ws_path, tips


def pages_text_and_qr(pdf_path):
    doc = pdfium.PdfDocument(str(pdf_path))
    out = []
    for page in doc:
        text = page.get_textpage().get_text_range()
        image = page.render(scale=4).to_pil()
        out.append((text, [b.text for b in zxingcpp.read_barcodes(image)], image.size))
    doc.close()
    return out


@needs_font
def test_pdf_renders_with_qr_codes_and_text(shop, tmp_path):
    ws, tips = shop
    pdf = tmp_path / "inserts.pdf"
    assert main(["inserts", "--orders-since", "2026-11-01", "--out", str(pdf), "--tips", str(tips),
                 "--workspace", str(ws)]) == 0
    raw = pdf.read_bytes()
    assert b"/FontFile" in raw and b"NotoSansCJK" in raw  # the Japanese font is embedded (a subset)
    pages = pages_text_and_qr(pdf)
    assert len(pages) == 3  # three orders since 11-01; the cancelled one and the October one get none
    by_order = {next(o for o in ("#1001", "#1002", "123-20261122-1") if o in text): (text, qrs, size)
                for text, qrs, size in pages}
    for order in ("#1001", "#1002"):
        text, qrs, size = by_order[order]
        assert qrs == [URL]
        assert round(size[0] / size[1], 2) == round(105 / 148, 2)  # A6
        assert "ご購入ありがとうございます" in text and "泡立ててから" in text
    assert HOSTILE in by_order["#1001"][0]  # printed as the characters it is
    assert "トリートメント" in by_order["#1001"][0]  # what you may need next (not what was just bought)
    text, qrs, _ = by_order["123-20261122-1"]
    assert qrs == [] and "line.me" not in text  # Rakuten: no external URL or QR unless allowed
    codes = [normalize_code(word) for text, _, _ in pages for word in text.split() if normalize_code(word)]
    assert len(codes) == 3 and len(set(codes)) == 3
    assert all(set(c) <= set(CODE_ALPHABET) for c in codes)


@needs_font
def test_external_url_allowed_on_rakuten_when_approved(shop, tmp_path, monkeypatch):
    ws, _ = shop
    monkeypatch.setenv("LTV_INSERTS_EXTERNAL_URL", "yes")
    pdf = tmp_path / "inserts.pdf"
    assert main(["inserts", "--orders-since", "2026-11-22", "--lang", "en", "--out", str(pdf),
                 "--workspace", str(ws)]) == 0
    ((text, qrs, _),) = pages_text_and_qr(pdf)
    assert qrs == [URL] and "Thank you for your order" in text


def test_csv_codes_are_stable_unique_and_expire(shop, tmp_path, capsys):
    ws, _ = shop
    assert main(["inserts", "--orders-since", "2026-11-01", "--csv", "--workspace", str(ws)]) == 0
    first = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert main(["inserts", "--orders-since", "2026-11-01", "--csv", "--workspace", str(ws)]) == 0
    again = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert list(first["link_code"]) == list(again["link_code"])  # printing again prints the same codes
    assert first["link_code"].is_unique and len(first) == 3
    assert set(first.loc[first["source"] == "rakuten", "qr_url"].fillna("")) == {""}
    assert set(first.loc[first["source"] == "shopify", "qr_url"]) == {URL}
    store = OpsStore(default_ops_url(ws))
    try:
        code = normalize_code(first["link_code"].iloc[0])
        expires = dt.datetime.fromisoformat(first["code_expires"].iloc[0]) + dt.timedelta(days=1)
        assert redeem_code(store, code, "Ulate", now=expires) is None  # expired: nothing is linked
        assert redeem_code(store, code, "Uok") == first["customer_key"].iloc[0]
        assert redeem_code(store, code, "Uagain") is None  # used once
    finally:
        store.close()
    assert main(["inserts", "--orders-since", "2026-11-01", "--csv", "--workspace", str(ws)]) == 0
    third = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert third["link_code"].iloc[0] != first["link_code"].iloc[0]  # a used code is replaced on a reprint
    assert list(third["link_code"].iloc[1:]) == list(first["link_code"].iloc[1:])


def test_missing_font_fails_with_one_sentence(shop, tmp_path, monkeypatch, capsys):
    ws, _ = shop
    monkeypatch.setenv("LTV_INSERTS_FONT", str(tmp_path / "nope.ttf"))
    args = ["inserts", "--orders-since", "2026-11-01", "--out", str(tmp_path / "x.pdf"), "--workspace", str(ws)]
    assert main([*args, "--lang", "en"]) == 1
    assert capsys.readouterr().err.strip() == f"Error: LTV_INSERTS_FONT={tmp_path / 'nope.ttf'} is not a font file."
    assert main(args) == 1  # the default language is Japanese
    assert capsys.readouterr().err.strip() == (f"エラー: LTV_INSERTS_FONT={tmp_path / 'nope.ttf'} "
                                               "はフォントファイルではありません。")

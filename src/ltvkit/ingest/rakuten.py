"""Rakuten Ichiba (楽天市場) RMS order CSV: the 楽天ペイ受注 layout and the legacy 通常購入データ layout.

CP932, one row per item line with order-level values repeated on every line. Buyer e-mails are masked per order
(あんしんメルアド), so the customer key is a keyed hash of name + phone + postal code. ステータス 900
(キャンセル確定) is a cancelled order. Headers are matched after NFKC, so the legacy file's full-width digits and
colons (``注文者郵便番号１``, ``注文者住所：都道府県``) match too.
"""

from __future__ import annotations

from ._reader import Reader, status_sql

__all__ = ["RAKUTEN"]


def _status(f):  # type: ignore[no-untyped-def]
    return status_sql(f("status"), cancelled=("キャンセル確定", "キャンセル済"), returned=("返品",),
                      cancelled_codes=("900", "キャンセル"))


RAKUTEN = Reader(
    name="rakuten",
    source="rakuten",
    description="Rakuten RMS order CSV (楽天ペイ受注 or legacy 通常購入データ), CP932.",
    fields={
        "order_id": ("注文番号", "受注番号"),
        "ordered_at": ("注文日時", ("注文日", "注文時間"), "注文日"),
        "status": (("ステータス", "サブステータス"), "ステータス", "受注ステータス"),
        "sku": ("商品管理番号", "SKU管理番号", "商品番号", "商品ID"),
        "product_name": ("商品名",),
        "quantity": ("個数",),
        "unit_price": ("単価",),
        "points_used": ("ポイント利用額",),
        "shop_coupon": ("店舗発行クーポン利用額",),
        "mall_coupon": ("楽天発行クーポン利用額",),
        "shipping_fee": ("送料合計", "送料(-99999=無効値)"),
        "point_rate": ("ポイント倍率",),
        "channel": ("利用端末",),
        "subscription_id": ("申込番号",),
        "delivery_count": ("申込お届け回数",),
        "email": ("注文者メールアドレス", "メールアドレス"),
        "name": (("注文者姓", "注文者名"), ("注文者名字", "注文者名前")),
        "phone": (("注文者電話番号1", "注文者電話番号2", "注文者電話番号3"),),
        "zip": (("注文者郵便番号1", "注文者郵便番号2"),),
        "prefecture": ("注文者住所都道府県", "注文者住所:都道府県"),
        "address": (("注文者住所都道府県", "注文者住所郡市区", "注文者住所それ以降の住所"),
                    ("注文者住所:都道府県", "注文者住所:都市区", "注文者住所:町以降")),
    },
    signatures=(
        ("注文番号", "注文日時", "商品名", "単価", "個数"),
        ("受注番号", "注文日時", "商品名", "単価", "個数"),
        ("受注番号", "注文日", "商品名", "単価", "個数"),
    ),
    order_level=frozenset({"points_used", "shop_coupon", "mall_coupon", "shipping_fee"}),
    identity=("contact", "email"),
    status=_status,
    notes=("One row per item line; order values (ポイント利用額, 店舗発行/楽天発行クーポン利用額, 送料合計) are "
           "allocated across the lines. 商品管理番号 -> sku; 単価 × 個数 -> line_amount; ポイント倍率 -> point_rate; "
           "申込番号 / 申込お届け回数 -> subscription_id / delivery_count; ステータス 900 or キャンセル確定 -> cancelled; サブステータス 返品 -> returned; "
           "customer_key = keyed hash of 注文者姓名 + 電話番号 + 郵便番号 (e-mails are masked). Legacy layout: "
           "受注番号, 注文日 + 注文時間, 送料(-99999=無効値) (-99999 read as 0), full-width header digits."),
)

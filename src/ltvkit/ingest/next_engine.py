"""Next Engine 汎用受注CSV: the multi-mall interchange file (店舗伝票番号, 受注日, 商品コード …), Shift_JIS.

顧客コード is the customer key when present; otherwise a keyed hash of 受注メールアドレス or of
受注名 + 受注電話番号 + 受注郵便番号.
"""

from __future__ import annotations

from ._reader import Reader, status_sql

__all__ = ["NEXT_ENGINE"]


def _status(f):  # type: ignore[no-untyped-def]
    return status_sql(f("status"), cancelled_codes=("1",), cancelled=("キャンセル", "取消"), returned=("返品",))


NEXT_ENGINE = Reader(
    name="next-engine",
    source="next-engine",
    description="Next Engine 汎用受注CSV (店舗伝票番号, 受注日, 商品コード …), Shift_JIS.",
    fields={
        "order_id": ("店舗伝票番号", "伝票番号", "受注番号"),
        "ordered_at": ("受注日",),
        "status": ("キャンセル区分", "受注キャンセル"),
        "customer_id": ("顧客コード",),
        "email": ("受注メールアドレス",),
        "name": ("受注名",),
        "phone": ("受注電話番号",),
        "zip": ("受注郵便番号",),
        "address": (("受注住所1", "受注住所2"),),
        "prefecture": ("受注住所1",),
        "sku": ("商品コード",),
        "product_name": ("商品名",),
        "quantity": ("受注数量",),
        "unit_price": ("商品価格",),
        "points_used": ("ポイント",),
        "shipping_fee": ("発送料",),
        "channel": ("店舗名", "店舗コード"),
    },
    signatures=(("店舗伝票番号", "受注日", "商品コード", "商品価格", "受注数量"),),
    order_level=frozenset({"points_used", "shipping_fee"}),
    identity=("number", "email", "contact"),
    status=_status,
    extra={"prefecture_from_address": True},
    notes=("店舗伝票番号 -> order_id; 受注日 -> ordered_at; 商品コード -> sku; 商品価格 × 受注数量 -> line_amount; "
           "ポイント and 発送料 allocated across lines; 顧客コード -> customer_key (else keyed hash of "
           "受注メールアドレス, else 受注名 + 受注電話番号 + 受注郵便番号); prefecture from the start of 受注住所１."),
)

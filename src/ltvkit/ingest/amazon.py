"""Amazon Seller Central order report: tab-separated, ``purchase-date`` in ISO 8601 UTC.

``item-price`` is the price of the whole line (all units), ``shipping-price`` and the promotion discounts are
per line too. Times are converted from UTC to the shop's time zone.
"""

from __future__ import annotations

from ._reader import Reader, status_sql

__all__ = ["AMAZON"]


def _status(f):  # type: ignore[no-untyped-def]
    return status_sql(f("status"), returned=("returned", "refunded"), cancelled=("cancel",))


AMAZON = Reader(
    name="amazon",
    source="amazon",
    description="Amazon Seller Central order report (order-id, purchase-date, sku …), tab-separated.",
    fields={
        "order_id": ("order-id", "amazon-order-id"),
        "ordered_at": ("purchase-date",),
        "status": ("order-status", "item-status"),
        "sku": ("sku", "asin"),
        "product_name": ("product-name",),
        "quantity": ("quantity-purchased", "quantity"),
        "line_amount": ("item-price",),
        "shipping_fee": ("shipping-price",),
        "shop_coupon": ("item-promotion-discount",),
        "channel": ("sales-channel",),
        "email": ("buyer-email",),
        "name": ("buyer-name",),
        "phone": ("buyer-phone-number",),
        "zip": ("ship-postal-code",),
        "prefecture": ("ship-state",),
        "address": (("ship-state", "ship-city", "ship-address-1", "ship-address-2", "ship-address-3"),),
    },
    signatures=(("order-id", "purchase-date", "sku", "quantity-purchased", "item-price"),
                ("amazon-order-id", "purchase-date", "sku", "quantity", "item-price")),
    identity=("email", "contact"),
    naive_tz="UTC",
    delimiter="\t",
    status=_status,
    extra={"abs_money": ("shop_coupon",)},
    notes=("Tab-separated. order-id -> order_id; item-price is the line amount (unit_price = item-price ÷ "
           "quantity); shipping-price and item-promotion-discount are per line; purchase-date (UTC) -> shop time "
           "zone; order-status Cancelled -> cancelled; customer_key = keyed hash of buyer-email (else name + phone + "
           "zip)."),
)

"""Shopify orders export: English headers, one row per line item, order fields on the first row of each order.

``Created at`` carries an offset (``2024-01-01 12:00:00 +0900``) and is converted to the shop's time zone.
``Cancelled at`` set -> cancelled; ``Financial Status`` refunded -> returned.
"""

from __future__ import annotations

from ._csv import sql_text
from ._reader import Reader

__all__ = ["SHOPIFY"]


def _status(f):  # type: ignore[no-untyped-def]
    whens = []
    if f("cancelled_at"):
        whens.append(f"WHEN {sql_text(f('cancelled_at'))} IS NOT NULL THEN 'cancelled'")
    if f("status"):
        whens.append(f"WHEN lower({sql_text(f('status'))}) = 'refunded' THEN 'returned'")
    return f"CASE {' '.join(whens)} ELSE 'ordered' END" if whens else "'ordered'"


_ORDER_FIELDS = ("ordered_at", "email", "customer_id", "status", "cancelled_at", "points_used", "shop_coupon",
                 "shipping_fee", "channel", "name", "phone", "zip", "prefecture", "address")

SHOPIFY = Reader(
    name="shopify",
    source="shopify",
    description="Shopify orders export (Name, Email, Created at, Lineitem …), UTF-8.",
    fields={
        "order_id": ("Name", "Id"),
        "ordered_at": ("Created at",),
        "status": ("Financial Status",),
        "cancelled_at": ("Cancelled at",),
        "customer_id": ("Customer ID", "Customer Id"),
        "email": ("Email",),
        "sku": ("Lineitem sku", "Lineitem name"),
        "product_name": ("Lineitem name",),
        "quantity": ("Lineitem quantity",),
        "unit_price": ("Lineitem price",),
        "shop_coupon": ("Discount Amount",),
        "shipping_fee": ("Shipping",),
        "channel": ("Source",),
        "category": ("Vendor",),
        "name": ("Billing Name",),
        "phone": ("Billing Phone", "Phone"),
        "zip": ("Billing Zip",),
        "prefecture": ("Billing Province Name", "Billing Province"),
        "address": (("Billing Province", "Billing City", "Billing Address1", "Billing Address2"),),
    },
    signatures=(("Name", "Email", "Created at", "Lineitem quantity", "Lineitem price"),),
    order_level=frozenset({"shop_coupon", "shipping_fee"}),
    fill_within_order=_ORDER_FIELDS,
    identity=("number", "email", "contact"),
    status=_status,
    notes=("Order fields given on the first row of an order are copied to its other rows. Name -> order_id; "
           "Lineitem sku (else Lineitem name) -> sku; Lineitem price × Lineitem quantity -> line_amount; Discount "
           "Amount -> shop_coupon and Shipping -> shipping_fee, allocated across lines; Created at (with offset) -> "
           "shop time zone; Cancelled at set -> cancelled; Financial Status refunded -> returned; customer_key = "
           "Customer ID when exported, else keyed hash of Email."),
)

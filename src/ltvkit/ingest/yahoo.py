"""Yahoo! Shopping (ストアクリエイターPro) order export: an order file and an item file joined on ``OrderId``.

Field names follow the orderInfo API. The order file carries the order-level values (``OrderTime``, ``UsePoint``,
``TotalMallCouponDiscount``, ``ShipCharge``, ``BillMailAddress`` …); the item file one row per line
(``LineId``, ``ItemId``, ``Title``, ``UnitPrice``, ``Quantity``). A single file holding both sets also works.
"""

from __future__ import annotations

from ._csv import norm_header
from ._reader import Reader, status_sql

__all__ = ["ORDER_SIGNATURE", "ITEM_SIGNATURE", "YAHOO", "file_role"]

ORDER_SIGNATURE = ("OrderId", "OrderTime")
ITEM_SIGNATURE = ("OrderId", "ItemId", "Quantity", "UnitPrice")


def file_role(norm_headers: set[str]) -> str | None:
    """``order``, ``item``, ``both`` or None for a Yahoo file, from its header."""
    has_order = {norm_header(h) for h in ORDER_SIGNATURE} <= norm_headers
    has_item = {norm_header(h) for h in ITEM_SIGNATURE} <= norm_headers
    if has_order and has_item:
        return "both"
    return "order" if has_order else "item" if has_item else None


def _status(f):  # type: ignore[no-untyped-def]
    return status_sql(f("status"), cancelled_codes=("4",))


YAHOO = Reader(
    name="yahoo",
    source="yahoo",
    description="Yahoo! Shopping order file + item file (OrderId, OrderTime, ItemId …), usually CP932.",
    fields={
        "order_id": ("OrderId",),
        "line_no": ("LineId",),
        "ordered_at": ("OrderTime",),
        "status": (("OrderStatus", "StoreStatus"), "OrderStatus"),
        "sku": ("ItemId", "SubCode"),
        "product_name": ("Title",),
        "quantity": ("Quantity",),
        "unit_price": ("UnitPrice",),
        "points_used": ("UsePoint",),
        "mall_coupon": ("TotalMallCouponDiscount",),
        "shop_coupon": ("StoreCouponDiscount", "ItemCouponDiscount"),
        "shipping_fee": ("ShipCharge",),
        "channel": ("DeviceType",),
        "subscription_id": ("SubscriptionId",),
        "delivery_count": ("SubscriptionContinueCount",),
        "email": ("BillMailAddress",),
        "name": ("BillName", ("BillLastName", "BillFirstName")),
        "phone": ("BillPhoneNumber",),
        "zip": ("BillZipCode",),
        "prefecture": ("BillPrefecture",),
        "address": (("BillPrefecture", "BillCity", "BillAddress1", "BillAddress2"),),
    },
    signatures=(ORDER_SIGNATURE + ITEM_SIGNATURE[1:],),
    order_level=frozenset({"points_used", "mall_coupon", "shop_coupon", "shipping_fee"}),
    identity=("email", "contact"),
    status=_status,
    notes=("Item rows joined to order rows on OrderId (item rows without an order row and order rows without "
           "items are quarantined). LineId -> line_no; ItemId -> sku; UnitPrice × Quantity -> line_amount; "
           "UsePoint, TotalMallCouponDiscount (mall_coupon), StoreCouponDiscount or ItemCouponDiscount "
           "(shop_coupon) and ShipCharge are allocated across lines; OrderStatus 4 -> cancelled; StoreStatus 返品 -> returned; "
           "customer_key = keyed hash of BillMailAddress (else bill name + phone + zip)."),
)

"""The canonical data model, documented once.

Every importer turns a shop's export into rows of :data:`ORDER_LINES`; every analysis reads them. The same
definitions create the workspace tables (see ``ltvkit.store``), validate rows and render ``docs/data-model.md``.

Conventions
-----------
* Money is an integer in the smallest unit of the shop currency (yen for JPY). Sums are exact on every engine.
* ``ordered_at`` is the shop's wall-clock time in the workspace time zone (``Asia/Tokyo`` unless told otherwise),
  converted once at import and stored without an offset, so that day and month arithmetic gives the same answer
  on DuckDB and Spark. ``order_date`` is its calendar date; day arithmetic uses dates, never timestamps.
* Order-level amounts (points, coupons, shipping) are allocated to the lines of the order in proportion to the
  line amounts (integer largest-remainder), so that summing any money column over lines gives the order's total.
* The natural key of a line is ``(source, order_id, line_no)``; re-importing a file updates lines in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

__all__ = [
    "CONTACTS",
    "CUSTOMERS",
    "Column",
    "ORDER_LINES",
    "ORDER_LINE_KEY",
    "PRODUCTS",
    "QUARANTINE",
    "STATUSES",
    "arrow_schema",
    "ddl",
    "markdown_table",
]

STATUSES = ("ordered", "cancelled", "returned")


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    arrow_type: pa.DataType
    required: bool
    description: str


def _c(name: str, sql_type: str, arrow_type: pa.DataType, required: bool, description: str) -> Column:
    return Column(name, sql_type, arrow_type, required, description)


ORDER_LINES: tuple[Column, ...] = (
    _c("source", "VARCHAR", pa.string(), True, "Where the line came from: rakuten, yahoo, shopify, amazon, next-engine, generic, or a name given at import."),
    _c("order_id", "VARCHAR", pa.string(), True, "The source's order number (注文番号 / OrderId / Name)."),
    _c("line_no", "INTEGER", pa.int32(), True, "1-based position of the line within its order."),
    _c("customer_key", "VARCHAR", pa.string(), True, "Pseudonymous customer key: the source's own customer number, or a keyed hash of contact data (prefix `h:`)."),
    _c("ordered_at", "TIMESTAMP", pa.timestamp("us"), True, "Order time, shop wall-clock time (workspace time zone, default Asia/Tokyo)."),
    _c("order_date", "DATE", pa.date32(), True, "Calendar date of `ordered_at`."),
    _c("sku", "VARCHAR", pa.string(), True, "Item code (商品管理番号 / ItemId / Lineitem sku); the product name when the source has no code."),
    _c("product_name", "VARCHAR", pa.string(), False, "Item name as sold."),
    _c("category", "VARCHAR", pa.string(), False, "Product category as the source gives it (Shopify: Vendor; generic files: a mapped column). Analyses use the products table's category of the SKU when it has one, else this."),
    _c("quantity", "INTEGER", pa.int32(), True, "Units on the line."),
    _c("unit_price", "BIGINT", pa.int64(), True, "Price per unit, tax included as the shop sells it."),
    _c("line_amount", "BIGINT", pa.int64(), True, "unit_price × quantity, before coupons and points."),
    _c("shop_coupon", "BIGINT", pa.int64(), True, "Shop-funded coupon discount allocated to the line."),
    _c("mall_coupon", "BIGINT", pa.int64(), True, "Mall-funded coupon discount allocated to the line (楽天発行クーポン, TotalMallCouponDiscount)."),
    _c("points_used", "BIGINT", pa.int64(), True, "Points redeemed by the buyer, allocated to the line."),
    _c("point_rate", "DOUBLE", pa.float64(), False, "Shop-set point multiplier of the line (ポイント倍率), when the source has it."),
    _c("shipping_fee", "BIGINT", pa.int64(), True, "Shipping charged to the buyer, allocated to the line."),
    _c("cost", "BIGINT", pa.int64(), False, "Cost of goods for the line (optional; else from the products table or a cost rate)."),
    _c("channel", "VARCHAR", pa.string(), False, "Sales or acquisition channel as the source names it (device, referrer, shop)."),
    _c("status", "VARCHAR", pa.string(), True, "ordered, cancelled or returned."),
    _c("subscription_id", "VARCHAR", pa.string(), False, "Subscription (定期購入) identifier, when the order belongs to one."),
    _c("delivery_count", "INTEGER", pa.int32(), False, "Delivery number within the subscription (申込お届け回数), 1 for the first."),
    _c("import_id", "BIGINT", pa.int64(), True, "The import (see import_log) that last wrote the line."),
)

ORDER_LINE_KEY = ("source", "order_id", "line_no")

CUSTOMERS: tuple[Column, ...] = (
    _c("customer_key", "VARCHAR", pa.string(), True, "Pseudonymous customer key."),
    _c("source", "VARCHAR", pa.string(), True, "Source of the customer's first order."),
    _c("first_order_at", "TIMESTAMP", pa.timestamp("us"), True, "First order time (any status)."),
    _c("last_order_at", "TIMESTAMP", pa.timestamp("us"), True, "Latest order time (any status)."),
    _c("orders", "BIGINT", pa.int64(), True, "Number of orders that are not cancelled."),
    _c("revenue", "BIGINT", pa.int64(), True, "Sum of line_amount over lines that are not cancelled."),
    _c("prefecture", "VARCHAR", pa.string(), False, "Prefecture of the buyer (coarse, not personal), when the source has it."),
)

PRODUCTS: tuple[Column, ...] = (
    _c("sku", "VARCHAR", pa.string(), True, "Item code."),
    _c("product_name", "VARCHAR", pa.string(), False, "Latest name seen."),
    _c("category", "VARCHAR", pa.string(), False, "Category: set by `ltv products import FILE`, else the latest the order lines gave. Every analysis reads it for all lines of the SKU."),
    _c("unit_cost", "BIGINT", pa.int64(), False, "Cost of goods per unit: set by `ltv products import FILE`, else the latest line cost an import gave. Used for lines without a cost of their own."),
    _c("list_price", "BIGINT", pa.int64(), False, "List price from `ltv products import FILE`; an order import replaces it with the latest unit price seen."),
)

CONTACTS: tuple[Column, ...] = (
    _c("customer_key", "VARCHAR", pa.string(), True, "Pseudonymous customer key."),
    _c("source", "VARCHAR", pa.string(), True, "Source the contact data came from."),
    _c("name", "VARCHAR", pa.string(), False, "Buyer name (only stored with --keep-contacts)."),
    _c("email", "VARCHAR", pa.string(), False, "Buyer e-mail (only stored with --keep-contacts)."),
    _c("phone", "VARCHAR", pa.string(), False, "Buyer phone (only stored with --keep-contacts)."),
    _c("zip", "VARCHAR", pa.string(), False, "Postal code (only stored with --keep-contacts)."),
    _c("address", "VARCHAR", pa.string(), False, "Address (only stored with --keep-contacts)."),
    _c("updated_at", "TIMESTAMP", pa.timestamp("us"), True, "When the contact row was last written."),
)

QUARANTINE: tuple[Column, ...] = (
    _c("import_id", "BIGINT", pa.int64(), True, "The import that found the row."),
    _c("file", "VARCHAR", pa.string(), True, "File name."),
    _c("line_number", "BIGINT", pa.int64(), True, "1-based line number in the file (the header is line 1)."),
    _c("column_name", "VARCHAR", pa.string(), False, "Column that failed, when one did."),
    _c("value", "VARCHAR", pa.string(), False, "The offending value (never contact data)."),
    _c("reason", "VARCHAR", pa.string(), True, "Why the row was not imported."),
)


def arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    """The Arrow schema of a canonical table."""
    return pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required) for c in columns])


def ddl(table: str, columns: tuple[Column, ...]) -> str:
    """``CREATE TABLE`` statement for a canonical table."""
    body = ",\n  ".join(f"{c.name} {c.sql_type}{' NOT NULL' if c.required else ''}" for c in columns)
    return f"CREATE TABLE {table} (\n  {body}\n)"


def markdown_table(columns: tuple[Column, ...]) -> str:
    """A Markdown table documenting the columns (used for docs/data-model.md)."""
    rows = ["| column | type | required | meaning |", "|---|---|---|---|"]
    rows += [f"| `{c.name}` | {c.sql_type} | {'yes' if c.required else ''} | {c.description} |" for c in columns]
    return "\n".join(rows)

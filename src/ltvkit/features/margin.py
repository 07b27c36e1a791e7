"""Contribution margin per order line: what each sale leaves the shop after the costs it causes.

``margin = revenue − cost of goods − shop-funded discounts − cost of points the shop grants − shipping cost
− payment fee − mall fee``, where

* revenue is ``line_amount`` (price × quantity, tax included), plus the shipping charged when
  ``shipping_fee_is_revenue`` is set;
* cost of goods is the line's ``cost`` when the import had it, else ``products.unit_cost × quantity``, else
  ``cost_rate × line_amount``;
* shop-funded discounts are ``shop_coupon`` always, and ``points_used`` only on sources where the shop runs its
  own points (own site); points redeemed on a mall and mall coupons (``mall_coupon``) are paid back by the mall,
  so they are *not* the shop's cost;
* granted points: on malls the shop funds the base 1 % and its own multiplier (ポイント倍率), charged as
  ``granted_point_rate × point_rate × line_amount`` (``point_rate`` taken as 1 when missing);
* shipping cost is ``shipping_cost_per_order`` shared equally among the lines of the order;
* payment fee is ``payment_fee_rate`` × what the buyer paid (``line_amount − coupons − points``, plus shipping
  when it is revenue); mall fee is ``mall_fee_rates[source]`` × ``line_amount``.

Every amount is rounded to whole yen per line, so sums stay integers on every engine.
"""

from __future__ import annotations

from typing import Any

import ibis
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MarginSettings", "margin_lines"]

MALL_SOURCES = ("rakuten", "yahoo", "amazon", "au", "wowma", "qoo10")


class MarginSettings(BaseModel):
    """How contribution margin is computed (defaults are documented in docs/analytics.md).

    Examples
    --------
    >>> MarginSettings().cost_rate
    0.4
    >>> MarginSettings(mall_fee_rates={"rakuten": 0.1}).mall_fee_rates["rakuten"]
    0.1
    """

    model_config = ConfigDict(extra="forbid")

    cost_rate: float = Field(0.40, ge=0, le=1, description="Cost of goods as a share of line_amount when neither the line nor the products table has a cost.")
    shipping_cost_per_order: int = Field(0, ge=0, description="What shipping one order costs the shop (yen), shared among its lines.")
    shipping_fee_is_revenue: bool = Field(False, description="Count the shipping charged to the buyer as revenue.")
    payment_fee_rate: float = Field(0.03, ge=0, le=1, description="Payment (card, wallet) fee as a share of what the buyer paid.")
    mall_fee_rates: dict[str, float] = Field(
        default_factory=lambda: {"rakuten": 0.07, "yahoo": 0.05, "amazon": 0.10},
        description="Mall fees (system use, affiliate, point-programme charges) as a share of line_amount, per source.")
    default_mall_fee_rate: float = Field(0.0, ge=0, le=1, description="Mall fee rate of sources not listed (own site: 0).")
    mall_sources: tuple[str, ...] = Field(MALL_SOURCES, description="Sources whose redeemed points are funded by the mall.")
    granted_point_rate: float = Field(0.01, ge=0, le=1, description="Points the shop grants per unit of point_rate on mall sources (base 1 %).")


def margin_lines(lines: ibis.Table, settings: MarginSettings | None = None,
                 products: ibis.Table | None = None) -> ibis.Table:
    """Add ``cogs``, ``shop_discount``, ``point_cost``, ``shipping_cost``, ``fees``, ``revenue`` and ``margin``.

    Parameters
    ----------
    lines
        Canonical order lines (Ibis table).
    settings
        Margin settings; defaults when ``None``.
    products
        The workspace ``products`` table, for ``unit_cost`` when a line has no ``cost``.

    Returns
    -------
    ibis.Table
        The lines with the extra integer-yen columns.
    """
    s = settings or MarginSettings()
    t = lines
    if products is not None:
        p = products.select(_p_sku=products.sku, _unit_cost=products.unit_cost).distinct(on="_p_sku", keep="first")
        t = t.left_join(p, t.sku == p._p_sku).drop("_p_sku")
        unit_cost = t._unit_cost
    else:
        unit_cost = ibis.null("int64")
    is_mall = t.source.isin(list(s.mall_sources))
    revenue = t.line_amount + (t.shipping_fee if s.shipping_fee_is_revenue else 0)
    cogs = t.cost.coalesce(unit_cost * t.quantity, (t.line_amount * s.cost_rate).round().cast("int64"))
    shop_discount = t.shop_coupon + is_mall.ifelse(0, t.points_used)
    point_cost = is_mall.ifelse(
        (t.line_amount * s.granted_point_rate * t.point_rate.coalesce(1.0)).round().cast("int64"), 0)
    if s.shipping_cost_per_order:
        n_lines = t.count().over(group_by=[t.source, t.order_id])
        shipping_cost = (ibis.literal(float(s.shipping_cost_per_order)) / n_lines).round().cast("int64")
    else:
        shipping_cost = ibis.literal(0, "int64")
    paid = t.line_amount - t.shop_coupon - t.mall_coupon - t.points_used + (
        t.shipping_fee if s.shipping_fee_is_revenue else 0)
    fee_rate = _fee_rate(t.source, s)
    fees = (paid * s.payment_fee_rate + t.line_amount * fee_rate).round().cast("int64")
    t = t.mutate(revenue=revenue.cast("int64"), cogs=cogs.cast("int64"), shop_discount=shop_discount.cast("int64"),
                 point_cost=point_cost.cast("int64"), shipping_cost=shipping_cost, fees=fees)
    t = t.mutate(margin=t.revenue - t.cogs - t.shop_discount - t.point_cost - t.shipping_cost - t.fees)
    return t.drop("_unit_cost") if products is not None else t


def _fee_rate(source: Any, s: MarginSettings) -> Any:
    if not s.mall_fee_rates:
        return ibis.literal(s.default_mall_fee_rate)
    branches = [(source == name, ibis.literal(float(rate))) for name, rate in s.mall_fee_rates.items()]
    return ibis.cases(*branches, else_=ibis.literal(float(s.default_mall_fee_rate)))

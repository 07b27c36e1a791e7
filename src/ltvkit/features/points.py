"""Point dependence: how much a customer's buying hangs on mall campaigns, points and coupons.

Per customer (valid orders up to ``as_of``):

* ``campaign_share`` = orders inside a campaign window of the order's mall ÷ orders;
* ``base_rate`` = the share a campaign-blind customer would have: the mean, over the customer's orders, of the
  calendar's base rate for the order's mall (share of hours in campaigns; 0 for own-site orders);
* ``campaign_excess`` = ``(campaign_share − base_rate) ÷ (1 − base_rate)`` clipped to [0, 1], shrunk towards 0
  by ``orders ÷ (orders + shrink_orders)`` so that one lucky order does not make a customer point-driven;
* ``points_share`` = (points redeemed + mall coupons) ÷ line_amount;
* ``first_in_campaign`` = the first order fell in a campaign window;
* ``discount_depth`` = (points + mall coupons + shop coupons) ÷ line_amount.

``point_dependence_score`` = weighted mean of ``campaign_excess``, ``min(points_share ÷ points_cap, 1)``,
``first_in_campaign`` and ``min(discount_depth ÷ depth_cap, 1)``; segments are ``point_driven`` (score ≥
``driven_at``), ``loyal`` (score < ``loyal_below``) and ``mixed`` otherwise.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import ibis
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ..calendar import MALL_OF_SOURCE, CampaignCalendar
from ._orders import first_orders, order_bounds, order_table, ranked_orders, resolve_as_of
from .margin import MarginSettings

__all__ = [
    "PointSettings",
    "acquisition_comparison",
    "campaign_share_by_month",
    "point_dependence",
    "point_ltv_curves",
    "point_segment_summary",
]


class PointSettings(BaseModel):
    """Weights, caps and cut-offs of the point-dependence score."""

    model_config = ConfigDict(extra="forbid")

    weight_campaign: float = Field(0.45, ge=0, description="Weight of the campaign excess.")
    weight_points: float = Field(0.25, ge=0, description="Weight of the share paid by points and mall coupons.")
    weight_first: float = Field(0.15, ge=0, description="Weight of a first order inside a campaign.")
    weight_depth: float = Field(0.15, ge=0, description="Weight of the discount depth.")
    points_cap: float = Field(0.20, gt=0, description="points_share at which that part of the score is full.")
    depth_cap: float = Field(0.30, gt=0, description="discount_depth at which that part of the score is full.")
    shrink_orders: float = Field(2.0, ge=0, description="Pseudo-orders that shrink the campaign excess of few-order customers.")
    driven_at: float = Field(0.5, ge=0, le=1, description="Score from which a customer is point_driven.")
    loyal_below: float = Field(0.25, ge=0, le=1, description="Score below which a customer is loyal.")


def _clip01(x: Any) -> Any:
    return ibis.greatest(ibis.least(x, 1.0), 0.0)


def point_dependence(orders: ibis.Table, as_of: dt.date | None = None, *, calendar: CampaignCalendar | None = None,
                     points: PointSettings | None = None, settings: MarginSettings | None = None,
                     products: ibis.Table | None = None) -> ibis.Table:
    """Per-customer point-dependence indicators, ``point_dependence_score`` in [0, 1] and ``point_segment``.

    Returns
    -------
    ibis.Table
        ``customer_key, source, orders, campaign_orders, campaign_share, base_rate, campaign_excess,
        points_share, first_in_campaign, discount_depth, point_dependence_score, point_segment``.
    """
    as_of = resolve_as_of(orders, as_of)
    p = points or PointSettings()
    cal = calendar or CampaignCalendar.default()
    lo, hi = order_bounds(orders, as_of)
    o = order_table(orders, as_of=as_of, settings=settings, products=products, calendar=cal, bounds=(lo, hi))
    rates = {src: cal.base_rate(lo, hi, mall) for src, mall in MALL_OF_SOURCE.items()}
    base = ibis.cases(*[(o.source == s, ibis.literal(r)) for s, r in sorted(rates.items())], else_=ibis.literal(0.0)) \
        if rates else ibis.literal(0.0)
    o = o.mutate(_base=base)
    r = ranked_orders(o)
    f = first_orders(r).select("customer_key", first_in_campaign=ibis._.first_campaign, source=ibis._.source)
    c = r.group_by("customer_key").aggregate(
        orders=r.count(), campaign_orders=r.count(where=r.in_campaign), base_rate=r._base.mean(),
        line_amount=r.line_amount.sum(), mall_paid=(r.points_used + r.mall_coupon).sum(),
        discounts=(r.points_used + r.mall_coupon + r.shop_coupon).sum(),
    )
    c = c.join(f, "customer_key")
    n = c.orders.cast("float64")
    share = c.campaign_orders / n
    raw_excess = ((share - c.base_rate) / (1.0 - c.base_rate)).fill_null(0.0)
    amount = ibis.greatest(c.line_amount, 1).cast("float64")
    c = c.mutate(
        campaign_share=share,
        campaign_excess=_clip01(raw_excess) * (n / (n + p.shrink_orders)),
        points_share=c.mall_paid / amount,
        discount_depth=c.discounts / amount,
    )
    total_w = p.weight_campaign + p.weight_points + p.weight_first + p.weight_depth or 1.0
    score = (
        p.weight_campaign * c.campaign_excess
        + p.weight_points * ibis.least(c.points_share / p.points_cap, 1.0)
        + p.weight_first * c.first_in_campaign.ifelse(1.0, 0.0)
        + p.weight_depth * ibis.least(c.discount_depth / p.depth_cap, 1.0)
    ) / total_w
    c = c.mutate(point_dependence_score=_clip01(score))
    seg = ibis.cases((c.point_dependence_score >= p.driven_at, "point_driven"),
                     (c.point_dependence_score < p.loyal_below, "loyal"), else_="mixed")
    c = c.mutate(point_segment=seg)
    return c.select("customer_key", "source", "orders", "campaign_orders", "campaign_share", "base_rate",
                    "campaign_excess", "points_share", "first_in_campaign", "discount_depth",
                    "point_dependence_score", "point_segment")


def point_segment_summary(scores: ibis.Table) -> pd.DataFrame:
    """Customers and mean indicators per point segment."""
    g = scores.group_by("point_segment").aggregate(
        customers=scores.count(), mean_score=scores.point_dependence_score.mean(),
        mean_campaign_share=scores.campaign_share.mean(), mean_base_rate=scores.base_rate.mean(),
        mean_points_share=scores.points_share.mean(), first_in_campaign=scores.first_in_campaign.mean(),
        mean_orders=scores.orders.mean(),
    ).to_pandas()
    g["customer_share"] = g["customers"] / g["customers"].sum()
    order = {"point_driven": 0, "mixed": 1, "loyal": 2}
    return g.sort_values("point_segment", key=lambda s: s.map(order), ignore_index=True)


def acquisition_comparison(orders: ibis.Table, as_of: dt.date | None = None, *,
                           calendar: CampaignCalendar | None = None, settings: MarginSettings | None = None,
                           products: ibis.Table | None = None, z: float = 1.96) -> pd.DataFrame:
    """Point-acquired vs organic customers: retention and 12/24-month 粗利LTV with normal-approximation CIs.

    A customer is *point-acquired* when the first order fell in a campaign window or used points or coupons.
    Per group and horizon (365 and 730 days) over the customers observed that long: ``retention`` = share with a
    second order within the horizon; ``margin_ltv`` = mean cumulative margin of days ``0 … horizon−1``; each with
    ``mean ± z·sd/√n``.
    """
    as_of = resolve_as_of(orders, as_of)
    cal = calendar or CampaignCalendar.default()
    lo, hi = order_bounds(orders, as_of)
    o = order_table(orders, as_of=as_of, settings=settings, products=products, calendar=cal, bounds=(lo, hi))
    r = ranked_orders(o)
    f = first_orders(r).select("customer_key", group=(ibis._.first_campaign | ibis._.first_points).ifelse(
        "point_acquired", "organic"))
    rows = []
    for horizon in (365, 730):
        within = r.days_since_first < horizon
        c = r.group_by("customer_key").aggregate(
            first_date=r.first_date.min(),
            margin=r.margin.sum(where=within),
            repeat=(within & (r.order_no >= 2)).any(),
        )
        c = c.filter(ibis.literal(as_of).delta(c.first_date, unit="day") >= horizon - 1).join(f, "customer_key")
        c = c.mutate(ret=c.repeat.cast("int64").cast("float64"), m=c.margin.coalesce(0).cast("float64"))
        g = c.group_by("group").aggregate(n=c.count(), retention=c.ret.mean(), retention_sd=c.ret.std(),
                                          margin_ltv=c.m.mean(), margin_sd=c.m.std()).to_pandas()
        for rec in g.to_dict("records"):
            n = int(rec["n"])
            for metric, sd in (("retention", "retention_sd"), ("margin_ltv", "margin_sd")):
                mean = float(rec[metric])
                s = float(rec[sd]) if rec[sd] is not None and rec[sd] == rec[sd] else float("nan")
                half = z * s / math.sqrt(n) if n > 1 and s == s else float("nan")
                low, high = mean - half, mean + half
                if metric == "retention":
                    low, high = max(low, 0.0), min(high, 1.0)
                rows.append((rec["group"], f"{horizon // 365 * 12}m", metric, n, mean, low, high))
    out = pd.DataFrame(rows, columns=["group", "horizon", "metric", "customers", "value", "ci_low", "ci_high"])
    return out.sort_values(["metric", "horizon", "group"], ignore_index=True)


def point_ltv_curves(orders: ibis.Table, as_of: dt.date, *, products: ibis.Table | None = None, step: int = 30,
                     steps: int = 24, z: float = 1.96) -> pd.DataFrame:
    """Mean cumulative margin per customer by ``step``-day period, point-acquired vs organic, with intervals.

    Point-acquired: the first order fell in a campaign window or used points or coupons. A customer counts for
    period ``k`` once observed for ``(k + 1)·step − 1`` days. Returns ``group, days, customers, margin_ltv,
    ci_low, ci_high`` (normal intervals, ``z`` standard errors).
    """
    columns = ["group", "days", "customers", "margin_ltv", "ci_low", "ci_high"]
    r = ranked_orders(order_table(orders, as_of=as_of, products=products))
    idx = (r.days_since_first // step).cast("int64")
    used = (r.points_used + r.mall_coupon + r.shop_coupon) > 0
    # per customer: point-acquired or not (the first order's flags), days observed, and the cumulative margin at
    # the end of each period; then per group and period the count, mean and sample deviation over the customers
    # observed that long: two rows leave the engine
    per = r.group_by("customer_key").aggregate(
        acquired=(r.in_campaign | used).any(where=r.order_no == 1),
        observed=ibis.literal(as_of).delta(r.first_date.min(), unit="day"),
        **{f"c{k}": r.margin.sum(where=idx <= k).coalesce(0).cast("float64") for k in range(steps)})
    per = per.mutate(grp=per.acquired.ifelse("point_acquired", "organic"))
    aggs: dict[str, Any] = {}
    for k in range(steps):
        seen = per.observed >= (k + 1) * step - 1
        aggs[f"n{k}"] = per.count(where=seen)
        aggs[f"mean{k}"] = per[f"c{k}"].mean(where=seen)
        aggs[f"sd{k}"] = per[f"c{k}"].std(where=seen, how="sample")
    stats = {row["grp"]: row for row in per.group_by("grp").aggregate(**aggs).to_pandas().to_dict("records")}
    rows = []
    for g in ("point_acquired", "organic"):
        rec = stats.get(g)
        for k in range(steps):
            n = int(rec[f"n{k}"]) if rec is not None else 0
            if n < 2:
                continue
            mean, half = float(rec[f"mean{k}"]), z * float(rec[f"sd{k}"]) / math.sqrt(n)
            rows.append((g, (k + 1) * step, n, mean, mean - half, mean + half))
    if not rows:
        return pd.DataFrame({"group": pd.Series([], dtype=str), "days": pd.Series([], dtype="int64"),
                             "customers": pd.Series([], dtype="int64"),
                             **{c: pd.Series([], dtype=float) for c in columns[3:]}})
    return pd.DataFrame(rows, columns=columns)


def campaign_share_by_month(orders: ibis.Table, as_of: dt.date, *,
                            products: ibis.Table | None = None) -> pd.DataFrame:
    """Orders per calendar month and how many fell inside a campaign window: ``month, orders, campaign``."""
    from .cohorts import cohort_orders

    o = cohort_orders(orders, as_of, products=products)
    o = o.mutate(month=o.order_date.truncate("M"))
    return o.group_by("month").aggregate(orders=o.count(), campaign=o.count(where=o.in_campaign)).order_by(
        "month").to_pandas()

"""Customer segments: RFM quintile scores with Shopify's group names, the CPM 10 segments, Pareto shares.

RFM scores (1–5) are rank-based on the customers who bought: ``score = 1 + floor(5 × percent_rank)`` (capped
at 5), where ``percent_rank`` orders recency descending (fewer days since the last order scores higher),
frequency and monetary ascending. Ties share the lowest score, so every one-time buyer gets ``F = 1``.
``FM = round_half_up((F + M) / 2)``. Groups are assigned in this order (first match wins):

===================  ==========================================
group                rule
===================  ==========================================
New                  one order, R = 5
Promising            one order, R = 4
Champions            R = 5, FM ≥ 4
Loyal                R ≥ 3, FM ≥ 4
Active               R ≥ 4
Needs attention      R = 3
At risk              R = 2, FM ≥ 3
Almost lost          R = 2
Previously loyal     R = 1, FM ≥ 4
Dormant              R = 1
Prospects            no valid order (only cancelled or returned)
===================  ==========================================

CPM (customer portfolio management, やずや): with ``n`` orders, tenure = days from first to last order,
recency = days since the last order, spend = cumulative revenue: 離脱 (lapsed) when recency ≥ 240 days, else
現役 (active); 初回 when ``n = 1``; よちよち when tenure < 90; コツコツ when spend < ¥70,000; 流行 when
tenure < 210; else 優良. All four thresholds are settings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ..exceptions import InputError
from ._orders import order_table, resolve_as_of
from .margin import MarginSettings

__all__ = [
    "CPM_CLASSES",
    "CpmSettings",
    "RFM_GROUPS",
    "customer_base",
    "pareto_table",
    "segment_customers",
    "segment_summary",
]

RFM_GROUPS = ("Champions", "Loyal", "Active", "Needs attention", "Promising", "New", "At risk", "Previously loyal",
              "Almost lost", "Dormant", "Prospects")
CPM_CLASSES = ("初回", "よちよち", "コツコツ", "流行", "優良")


class CpmSettings(BaseModel):
    """Thresholds of the CPM 10 segments (LTV-Lab defaults; category-dependent, so configurable)."""

    model_config = ConfigDict(extra="forbid")

    lapse_days: int = Field(240, ge=1, description="Days without an order after which a customer is 離脱 (lapsed).")
    young_days: int = Field(90, ge=0, description="Tenure below which a repeat customer is よちよち.")
    prime_days: int = Field(210, ge=0, description="Tenure from which a high spender is 優良 rather than 流行.")
    spend_yen: int = Field(70_000, ge=0, description="Cumulative spend from which a customer is 流行 or 優良.")


def customer_base(orders: ibis.Table, as_of: dt.date, *, settings: MarginSettings | None = None,
                  products: ibis.Table | None = None) -> ibis.Table:
    """Per customer: ``orders, first_date, last_date, recency_days, tenure_days, revenue, margin``.

    Customers whose every line is cancelled or returned get ``orders = 0`` (Shopify's Prospects).
    """
    o = order_table(orders, as_of=as_of, settings=settings, products=products, detail=False)
    c = o.group_by("customer_key").aggregate(
        orders=o.count(), first_date=o.order_date.min(), last_date=o.order_date.max(),
        revenue=o.revenue.sum(), margin=o.margin.sum(),
    )
    seen = orders.filter(orders.order_date <= ibis.literal(as_of)).select("customer_key").distinct()
    c = seen.left_join(c, "customer_key").drop("customer_key_right")
    c = c.mutate(orders=c.orders.coalesce(0), revenue=c.revenue.coalesce(0), margin=c.margin.coalesce(0))
    a = ibis.literal(as_of)
    return c.mutate(recency_days=a.delta(c.last_date, unit="day"), tenure_days=c.last_date.delta(c.first_date, unit="day"))


def _score(col: Any, buyer: Any, descending: bool = False) -> Any:
    w = ibis.window(group_by=buyer, order_by=ibis.desc(col) if descending else col)
    score = ibis.least((ibis.percent_rank().over(w) * 5).floor().cast("int64") + 1, 5)
    return buyer.ifelse(score, ibis.null("int64"))


def _rfm(c: ibis.Table) -> ibis.Table:
    # One pass: buyers are ranked among themselves (window partitioned on "has a valid order").
    buyer = c.orders > 0
    s = c.mutate(r_score=_score(c.recency_days, buyer, descending=True), f_score=_score(c.orders, buyer),
                 m_score=_score(c.revenue, buyer))
    s = s.mutate(fm_score=((s.f_score + s.m_score + 1) // 2).cast("int64"))
    r, fm, one = s.r_score, s.fm_score, s.orders == 1
    group = ibis.cases(
        (s.orders == 0, "Prospects"),
        (one & (r == 5), "New"), (one & (r == 4), "Promising"), ((r == 5) & (fm >= 4), "Champions"),
        ((r >= 3) & (fm >= 4), "Loyal"), (r >= 4, "Active"), (r == 3, "Needs attention"),
        ((r == 2) & (fm >= 3), "At risk"), (r == 2, "Almost lost"), (fm >= 4, "Previously loyal"),
        else_="Dormant",
    )
    return s.mutate(segment=group)


def _cpm(c: ibis.Table, cfg: CpmSettings) -> ibis.Table:
    c = c.filter(c.orders > 0)
    klass = ibis.cases(
        (c.orders == 1, "初回"), (c.tenure_days < cfg.young_days, "よちよち"), (c.revenue < cfg.spend_yen, "コツコツ"),
        (c.tenure_days < cfg.prime_days, "流行"), else_="優良",
    )
    state = (c.recency_days >= cfg.lapse_days).ifelse("離脱", "現役")
    return c.mutate(cpm_class=klass, cpm_state=state, segment=klass.concat(state))


def segment_customers(orders: ibis.Table, as_of: dt.date | None = None, *, kind: str = "rfm",
                      cpm: CpmSettings | None = None, settings: MarginSettings | None = None,
                      products: ibis.Table | None = None) -> ibis.Table:
    """Per-customer segments as an Ibis expression (``customer_key``, the base columns, scores, ``segment``).

    Parameters
    ----------
    kind
        ``"rfm"`` (Shopify group names) or ``"cpm"`` (the 10 CPM segments, e.g. ``優良現役``).
    """
    as_of = resolve_as_of(orders, as_of)
    c = customer_base(orders, as_of, settings=settings, products=products)
    if kind == "rfm":
        return _rfm(c)
    if kind == "cpm":
        return _cpm(c, cpm or CpmSettings())
    raise InputError(key="err.unknown_segment_kind", value=kind)


def segment_summary(customers: ibis.Table) -> pd.DataFrame:
    """Per segment: customers, their share, revenue, margin, margin share, mean orders and mean recency."""
    g = customers.group_by("segment").aggregate(
        customers=customers.count(), revenue=customers.revenue.sum(), margin=customers.margin.sum(),
        mean_orders=customers.orders.mean(), mean_recency_days=customers.recency_days.mean(),
    )
    df = g.to_pandas()
    cpm_names = [f"{k}{s}" for k in CPM_CLASSES for s in ("現役", "離脱")]
    if len(df) and df["segment"].isin(cpm_names).all():  # CPM: all 10 segments, the empty ones as zeros
        missing = [name for name in cpm_names if name not in set(df["segment"])]
        zeros = pd.DataFrame({"segment": missing, "customers": 0, "revenue": 0.0, "margin": 0.0,
                              "mean_orders": float("nan"), "mean_recency_days": float("nan")})
        df = pd.concat([df.astype({"revenue": float, "margin": float}), zeros], ignore_index=True)
    df["customer_share"] = df["customers"] / df["customers"].sum()
    total = df["margin"].sum()
    df["margin_share"] = df["margin"] / total if total else float("nan")
    order = {name: i for i, name in enumerate(RFM_GROUPS)}
    order.update({f"{k}{s}": 100 + i * 2 + j for i, k in enumerate(CPM_CLASSES) for j, s in enumerate(("現役", "離脱"))})
    df = df.sort_values("segment", key=lambda s: s.map(lambda v: order.get(v, 999)), ignore_index=True)
    return df[["segment", "customers", "customer_share", "revenue", "margin", "margin_share", "mean_orders",
               "mean_recency_days"]]


def pareto_table(customers: ibis.Table, shares: tuple[float, ...] = (0.01, 0.05, 0.1, 0.2, 0.5)) -> pd.DataFrame:
    """Share of total margin earned by the top ``x`` share of buyers (ranked by margin), and the share of
    buyers that earns 80 % of the margin (``row`` = ``margin_80``, ``margin_share`` = 0.8; the others are ``top``),
    sorted by ``top_share``."""
    b = customers.filter(customers.orders > 0)
    w = ibis.window(order_by=[ibis.desc(b.margin), b.customer_key], preceding=None, following=0)
    b = b.mutate(rank=ibis.row_number().over(w) + 1, cum=b.margin.sum().over(w))
    n_total = b.aggregate(n=b.count(), total=b.margin.sum()).to_pandas().iloc[0]
    n, total = int(n_total["n"]), float(n_total["total"] or 0)
    if n == 0:
        raise InputError(key="err.no_customers_before")
    ranks = sorted({max(1, int(round(s * n))) for s in shares})
    got = b.filter(b.rank.isin(ranks)).select("rank", "cum").to_pandas().set_index("rank")["cum"]
    rows = [("top", r / n, r, float(got.get(r, float("nan"))) / total if total else float("nan")) for r in ranks]
    first80 = b.filter(b.cum >= 0.8 * total).rank.min().execute() if total > 0 else None
    if first80 is not None and first80 == first80:
        rows.append(("margin_80", int(first80) / n, int(first80), 0.8))
    df = pd.DataFrame(rows, columns=["row", "top_share", "customers", "margin_share"])
    return df.sort_values(["top_share", "row"], kind="stable", ignore_index=True)

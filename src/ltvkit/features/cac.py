"""LTV against acquisition cost per channel: 限界CPA, target CPA, payback months and LTV/CAC.

* Acquisition channel = ``channel`` of the customer's first order (its ``source`` when the channel is empty).
* ``margin_ltv`` (粗利LTV over the window) = mean cumulative contribution margin of elapsed days
  ``0 … window_days − 1`` over the channel's customers acquired at least ``window_days`` before ``as_of``.
* 限界CPA (``breakeven_cpa``) = ``margin_ltv``: the most one new customer may cost at zero profit.
* 目標CPA (``target_cpa``) = ``margin_ltv − profit goal`` (empty without a profit goal); a goal below 1 is a share of the LTV (0.3 = keep
  30 %), otherwise yen per customer.
* CAC = ``cac`` from the costs file, else ``spend ÷ new customers`` of that channel (acquired between the file's
  optional ``start`` and ``end`` dates, else over all data).
* ``payback_months`` = the first month ``m`` (30-day steps) at which mean cumulative margin per customer reaches
  the CAC, or empty when it does not within 24 months; ``ltv_cac`` = ``margin_ltv ÷ CAC``.

Costs file: CSV or YAML with a ``channel`` column and ``spend`` or ``cac`` (optional ``start``, ``end``). YAML is
either a list of such mappings or a mapping ``channel: {spend: …}``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import yaml

from ..calendar import CampaignCalendar
from ..exceptions import InputError
from ._orders import first_orders, order_table, ranked_orders, resolve_as_of
from .margin import MarginSettings

__all__ = ["cac_table", "read_costs"]


def read_costs(path: str | Path) -> pd.DataFrame:
    """Read a costs file (CSV or YAML) into ``channel, spend, cac, start, end``."""
    path = Path(path)
    if not path.exists():
        raise InputError(key="err.no_costs_file", path=str(path))
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                data = [{"channel": k, **(v if isinstance(v, dict) else {"spend": v})} for k, v in data.items()]
            df = pd.DataFrame(data or [])
        else:
            df = pd.read_csv(path, encoding="utf-8-sig")
    except (yaml.YAMLError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(key="err.costs_unreadable", path=str(path), error=str(exc).rstrip(".")) from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    if "channel" not in df.columns or not ({"spend", "cac"} & set(df.columns)):
        raise InputError(key="err.costs_columns", name=path.name)
    for col in ("spend", "cac"):
        df[col] = pd.to_numeric(df[col], errors="coerce") if col in df.columns else float("nan")
    for col in ("start", "end"):
        df[col] = pd.to_datetime(df[col]).dt.date if col in df.columns else None
    df["channel"] = df["channel"].astype(str)
    return df[["channel", "spend", "cac", "start", "end"]]


def cac_table(orders: ibis.Table, costs: pd.DataFrame, as_of: dt.date | None = None, *, window_days: int = 365,
              profit_goal: float = 0.0, settings: MarginSettings | None = None, products: ibis.Table | None = None,
              calendar: CampaignCalendar | None = None, max_months: int = 24) -> pd.DataFrame:
    """Per acquisition channel: customers, margin LTV, CAC, 限界CPA, 目標CPA, payback months and LTV/CAC."""
    as_of = resolve_as_of(orders, as_of)
    if window_days < 1:
        raise InputError(key="err.positive_days", option="--ltv-window-days")
    o = order_table(orders, as_of=as_of, settings=settings, products=products, calendar=calendar)
    r = ranked_orders(o)
    f = first_orders(r).select("customer_key", "channel", "first_date")
    r = r.drop("channel").join(f.select("customer_key", "channel"), "customer_key")
    a = ibis.literal(as_of)
    mature = r.filter(a.delta(r.first_date, unit="day") >= window_days - 1)
    ltv = mature.group_by("channel").aggregate(
        mature_customers=mature.customer_key.nunique(),
        window_margin=mature.margin.sum(where=mature.days_since_first < window_days),
    ).to_pandas()
    f = f.mutate(obs_month=((a.delta(f.first_date, unit="day") + 1) // 30).cast("int64"))
    r = r.join(f.select("customer_key", "obs_month"), "customer_key")
    r = r.mutate(month=(r.days_since_first // 30).cast("int64"))
    r = r.filter((r.month < max_months) & (r.obs_month >= r.month + 1))
    cum = r.group_by(["channel", "month"]).aggregate(margin=r.margin.sum()).to_pandas()
    obs = f.group_by(["channel", "obs_month"]).aggregate(n=f.count()).to_pandas()
    new_all = obs.groupby("channel", dropna=False, sort=False)["n"].sum()  # new customers per channel
    known = sorted(set(new_all.index.astype(str)))
    unknown = sorted(set(costs["channel"].astype(str)) - set(known))
    if unknown:
        raise InputError(key="err.cac_unknown_channel", channels=unknown, known=known)
    rows = []
    for rec in costs.to_dict("records"):
        ch = rec["channel"]
        lt = ltv[ltv["channel"] == ch]
        n_m = int(lt["mature_customers"].iloc[0]) if len(lt) else 0
        m_ltv = float(lt["window_margin"].iloc[0] or 0) / n_m if n_m else float("nan")
        if rec["cac"] == rec["cac"] and rec["cac"] is not None:
            cac = float(rec["cac"])
            new = int(new_all.get(ch, 0))
        else:
            if _given(rec["start"]) or _given(rec["end"]):
                cond = f.channel == ch
                if _given(rec["start"]):
                    cond = cond & (f.first_date >= ibis.literal(rec["start"]))
                if _given(rec["end"]):
                    cond = cond & (f.first_date <= ibis.literal(rec["end"]))
                new = int(f.filter(cond).count().execute())
            else:
                new = int(new_all.get(ch, 0))
            cac = float(rec["spend"]) / new if new else float("nan")
        goal = profit_goal * m_ltv if 0 < profit_goal < 1 else profit_goal
        target = m_ltv - goal if profit_goal > 0 else float("nan")  # no goal, no target: never 限界CPA again
        payback = _payback(cum[cum["channel"] == ch], obs[obs["channel"] == ch], cac, max_months)
        rows.append({
            "channel": ch, "new_customers": new, "mature_customers": n_m, "cac": cac, "margin_ltv": m_ltv,
            "breakeven_cpa": m_ltv, "target_cpa": target, "payback_months": payback,
            "ltv_cac": m_ltv / cac if cac and cac == cac and cac > 0 else float("nan"),
        })
    return pd.DataFrame(rows)


def _given(value: Any) -> bool:
    return value is not None and value == value and not pd.isna(value)


def _payback(cum: pd.DataFrame, obs: pd.DataFrame, cac: float, max_months: int) -> float | None:
    """First month at which the summed monthly margin per observed customer reaches the CAC."""
    if cac != cac:
        return None
    by_month = cum.set_index("month")["margin"]
    observed = obs.set_index("obs_month")["n"]
    total = 0.0
    for m in range(max_months):
        n = int(observed[observed.index >= m + 1].sum())
        if n == 0:
            return None
        total += float(by_month.get(m, 0) or 0) / n
        if total >= cac:
            return float(m + 1)
    return None

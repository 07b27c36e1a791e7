"""The daily series seasonality is estimated from: repeat purchase days per calendar day, and the mall campaigns.

One query over the orders gives, for each day, how many customers made a *repeat* purchase that day (a day with an
order after their first purchase day) and how many bought for the first time; the customers acquired before a day
are the exposure of that day's repeat buying. The campaign covariates are the share of each day's hours inside a
campaign of a mall the shop sells on (:class:`~ltvkit.calendar.CampaignCalendar`), split into all-day rules
(5と0のつく日 and the like) and announced or estimated windows (Super SALE, お買い物マラソン ...).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from ..calendar import MALL_OF_SOURCE, CampaignCalendar

__all__ = ["calendar_covariates", "daily_repeat_series", "shop_malls"]

#: A mall's campaigns are covariates when at least this share of the shop's order lines came through it.
MIN_MALL_SHARE = 0.05


def daily_repeat_series(orders: Any, end: dt.date, rfm: Any = None) -> pd.DataFrame:
    """Per calendar day up to ``end`` (every day from the first order, days without orders included):
    ``repeat`` (customers with a repeat purchase day), ``new`` (first purchases) and ``exposure`` (customers
    whose first purchase was before that day); ``attrs["mall_share"]`` is the share of order lines through each
    mall (:data:`~ltvkit.calendar.MALL_OF_SOURCE`). ``orders`` is the workspace's valid order lines
    (Ibis).

    Two aggregations, not a window over each customer's days: the buyers per day (and per mall), and the
    customers per first day; a day's repeat buyers are its buyers less its new ones. An RFM summary in days as of
    ``end`` (``rfm``, an Ibis table with ``T``; e.g. the one prediction made already) gives the first days without
    a second pass over the orders.
    """
    valid = orders.filter(orders.order_date <= end)
    malls = sorted(set(MALL_OF_SOURCE.values()))
    # the mall shares are of order lines (a threshold needs no distinct count, which would double the query)
    per_mall = {m: valid.count(where=valid.source.isin([s for s, v in MALL_OF_SOURCE.items() if v == m]))
                for m in malls}
    per_day = valid.group_by("order_date").aggregate(n=valid.customer_key.nunique(), lines=valid.count(),
                                                     **per_mall).to_pandas()
    if rfm is not None:
        new = rfm.group_by("T").aggregate(new=rfm.count()).to_pandas()
        new["first"] = pd.Timestamp(end) - pd.to_timedelta(new["T"], unit="D")
    else:
        firsts = valid.group_by("customer_key").aggregate(first=valid.order_date.min())
        new = firsts.group_by("first").aggregate(new=firsts.count()).to_pandas()
    if per_day.empty:
        out = pd.DataFrame({"day": pd.Series(dtype="datetime64[ns]"), "repeat": [], "new": [], "exposure": []})
        out.attrs["mall_share"] = {}
        return out
    total = float(per_day["lines"].sum())
    share = {m: float(per_day[m].sum()) / total for m in malls}
    buyers = pd.Series(per_day["n"].to_numpy(float), index=pd.to_datetime(per_day["order_date"]))
    new_s = pd.Series(new["new"].to_numpy(float), index=pd.to_datetime(new["first"]))
    index = pd.date_range(buyers.index.min(), pd.Timestamp(end), freq="D")
    buyers = buyers.reindex(index, fill_value=0.0)
    new_s = new_s.reindex(index, fill_value=0.0)
    out = pd.DataFrame({"day": index, "repeat": (buyers - new_s).to_numpy(), "new": new_s.to_numpy()})
    out["exposure"] = out["new"].cumsum().shift(1, fill_value=0.0)
    out.attrs["mall_share"] = share
    return out


def shop_malls(series: pd.DataFrame) -> list[str]:
    """The malls whose campaigns concern the shop: at least :data:`MIN_MALL_SHARE` of its order lines
    (``attrs["mall_share"]`` of :func:`daily_repeat_series`)."""
    share = series.attrs.get("mall_share", {})
    return sorted(m for m, v in share.items() if v >= MIN_MALL_SHARE)


def calendar_covariates(days: pd.DatetimeIndex | pd.Series, malls: list[str],
                        calendar: CampaignCalendar | None = None) -> pd.DataFrame:
    """For each day, the share of its 24 hours inside campaigns of each mall: ``<mall>:day_rule`` (all-day rules)
    and ``<mall>:window`` (announced or estimated windows, merged where they overlap), indexed by day."""
    cal = calendar or CampaignCalendar.default()
    idx = pd.DatetimeIndex(pd.to_datetime(pd.Series(days))).normalize()
    out = pd.DataFrame(index=idx)
    if len(idx) == 0:
        return out
    start, end = idx.min().date(), idx.max().date()
    for mall in malls:
        for day_rules, col in ((True, f"{mall}:day_rule"), (False, f"{mall}:window")):
            hours = cal.hours_per_day(start, end, mall, day_rules=day_rules)
            out[col] = np.clip(hours.reindex(idx, fill_value=0.0).to_numpy() / 24.0, 0.0, 1.0)
    return out

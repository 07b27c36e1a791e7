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

#: A mall's campaigns are covariates when at least this share of the shop's buying days (customer-days per
#: source) came through it.
MIN_MALL_SHARE = 0.05


def daily_repeat_series(orders: Any, end: dt.date, rfm: Any = None) -> pd.DataFrame:
    """Per calendar day up to ``end`` (every day from the first order, days without orders included):
    ``repeat`` (customers with a repeat purchase day), ``new`` (first purchases) and ``exposure`` (customers
    whose first purchase was before that day); ``attrs["mall_share"]`` is the share of customer-days per mall
    (:data:`~ltvkit.calendar.MALL_OF_SOURCE`). ``orders`` is the workspace's valid order lines (Ibis).

    Two aggregations, not a window over each customer's days: the buyers per day and source, and the customers
    per first day; a day's repeat buyers are its buyers less its new ones. An RFM summary in days as of ``end``
    (``rfm``, an Ibis table with ``T``; e.g. the one prediction made already) gives the first days without a
    second pass over the orders.
    """
    valid = orders.filter(orders.order_date <= end)
    per_day = (valid.group_by(["order_date", "source"]).aggregate(n=valid.customer_key.nunique())
               .to_pandas())
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
    mall = per_day["source"].map(lambda s: MALL_OF_SOURCE.get(str(s)))
    total = float(per_day["n"].sum())
    out_share = {str(m): float(n) / total for m, n in per_day.groupby(mall)["n"].sum().items()}
    # a customer who bought through two sources on one day counts twice here (rare; ignored)
    buyers = per_day.groupby(pd.to_datetime(per_day["order_date"]))["n"].sum()
    new_s = pd.Series(new["new"].to_numpy(float), index=pd.to_datetime(new["first"]))
    index = pd.date_range(buyers.index.min(), pd.Timestamp(end), freq="D")
    buyers = buyers.reindex(index, fill_value=0).astype(float)
    new_s = new_s.reindex(index, fill_value=0.0)
    out = pd.DataFrame({"day": index, "repeat": (buyers - new_s).to_numpy(), "new": new_s.to_numpy()})
    out["exposure"] = out["new"].cumsum().shift(1, fill_value=0.0)
    out.attrs["mall_share"] = out_share
    return out


def shop_malls(series: pd.DataFrame) -> list[str]:
    """The malls whose campaigns concern the shop: at least :data:`MIN_MALL_SHARE` of its buying days
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
        frame = cal.to_frame(start, end, mall)
        for kind, col in ((True, f"{mall}:day_rule"), (False, f"{mall}:window")):
            part = frame[(frame["kind"] == "day_rule") == kind]
            hours = pd.Series(0.0, index=pd.date_range(start, end, freq="D"))
            # merge overlapping intervals, then spread each over the days it covers
            spans: list[list[pd.Timestamp]] = []
            for s, e in sorted(zip(pd.to_datetime(part["start_at"]), pd.to_datetime(part["end_at"]), strict=True)):
                if spans and s <= spans[-1][1]:
                    spans[-1][1] = max(spans[-1][1], e)
                else:
                    spans.append([s, e])
            for s, e in spans:
                day = s.normalize()
                while day < e:
                    nxt = day + pd.Timedelta(days=1)
                    if day in hours.index:
                        hours[day] += (min(e, nxt) - max(s, day)) / pd.Timedelta(hours=1)
                    day = nxt
            out[col] = np.clip(hours.reindex(idx, fill_value=0.0).to_numpy() / 24.0, 0.0, 1.0)
    return out

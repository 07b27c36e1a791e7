"""Per-customer frequency / recency / T / monetary summaries, computed in the engine (Ibis).

The definitions are lifetimes' ``summary_data_from_transaction_data`` and ``calibration_and_holdout_data``:

* orders on the same period (day for ``freq="D"``) collapse into one purchase, their amounts summed;
* ``frequency`` is the number of repeat purchase periods (periods with a purchase, minus the first);
* ``recency`` is the age in periods at the last purchase (first to last purchase period);
* ``T`` is the age at the end of the observation (or calibration) period;
* ``monetary_value`` is the mean amount over the repeat periods (0 when there are none).

Day differences are taken between *dates* (the order time cast to a date first), which gives the same answer
on DuckDB and Spark; week indexes are Monday-based and month indexes ``year * 12 + month``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from .._dates import parse_date
from ..exceptions import InputError, MissingDataError

__all__ = ["WORKSPACE_MONEY", "repeat_spend_groups", "rfm_groups", "rfm_summary"]

#: Money of a canonical order line in the summaries: what the buyer paid for the goods after shop and mall
#: coupons and points (``line_amount - shop_coupon - mall_coupon - points_used``); returned lines count as a
#: purchase visit with no money; cancelled lines are dropped.
WORKSPACE_MONEY = "line_amount - shop_coupon - mall_coupon - points_used"

_FREQS = ("D", "W", "M")
_EPOCH = dt.date(1970, 1, 1)


def _period_expr(day: ir.DateValue, freq: str) -> ir.IntegerValue:
    if freq == "D":
        return day.epoch_days()
    if freq == "W":
        return ((day.epoch_days() + 3) // 7).cast("int64")  # 1969-12-29 (a Monday) starts week 0
    return (day.year() * 12 + day.month()).cast("int64")


def _period_of(day: dt.date, freq: str) -> int:
    days = (day - _EPOCH).days
    if freq == "D":
        return days
    if freq == "W":
        return (days + 3) // 7
    return day.year * 12 + day.month


def _as_date(value: Any, name: str) -> dt.date | None:
    return parse_date(value, name)


def _to_table(orders: Any) -> tuple[ir.Table, str]:
    if isinstance(orders, ir.Table):
        return orders, "ibis"
    if isinstance(orders, pd.DataFrame):
        return ibis.memtable(orders), "pandas"
    if type(orders).__module__.startswith("polars"):
        return ibis.memtable(orders.to_arrow()), "polars"
    raise InputError(f"rfm_summary needs an Ibis table or a pandas/polars DataFrame of orders, not {type(orders).__name__}.")


def _column(table: ir.Table, name: str, what: str) -> ir.Column:
    if name not in table.columns:
        raise InputError(f"The orders have no {what} column {name!r}; columns are {', '.join(table.columns)} "
                         f"(pass {what}_col=...).")
    return table[name]


def rfm_summary(orders: Any, observation_end: Any = None, calibration_end: Any = None, freq: str = "D",
                customer_col: str = "customer_key", datetime_col: str | None = None,
                monetary_col: str | None = None, freq_multiplier: float = 1.0, litt: bool = False,
                split_at: Any = None, holdout_windows: tuple[int, ...] = ()) -> Any:
    """Summarise transactions into one row per customer (lifetimes' definitions), computed in the engine.

    Parameters
    ----------
    orders : ibis.Table, pandas.DataFrame or polars.DataFrame
        One row per transaction (or per order line). A workspace's ``ws.orders()`` works as is: cancelled lines
        are dropped and the money is :data:`WORKSPACE_MONEY`.
    observation_end : date-like, optional
        Last date of the observation; later orders are ignored. Default: the latest order date.
    calibration_end : date-like, optional
        When given, summaries are computed up to this date, and the holdout columns ``frequency_holdout``,
        ``monetary_value_holdout`` and ``duration_holdout`` describe ``(calibration_end, observation_end]``.
    freq : {"D", "W", "M"}, default "D"
        Period that purchases collapse into and that recency and T count (Monday-based weeks, months).
    customer_col : str, default "customer_key"
        Customer identifier column.
    datetime_col : str, optional
        Order date or time column; default ``order_date``, ``ordered_at`` or ``date``, whichever exists.
    monetary_col : str, optional
        Amount column; default :data:`WORKSPACE_MONEY` for canonical order lines, else no monetary columns.
    freq_multiplier : float, default 1.0
        Divide recency, T and duration by this (``freq="D", freq_multiplier=7`` gives fractional weeks as in
        the CDNOW papers), as lifetimes' argument of the same name.
    litt : bool, default False
        Also return ``litt``, the sum of the logs of the customer's inter-purchase times (in the same unit as
        recency) over the calibration period: the statistic the regularity models (MBG/CNBD-k,
        :class:`~ltvkit.models.RegularBetaGeoModel`) need to choose their regularity order.
    split_at : date-like, optional
        Also return, from the same pass over the orders, the calibration/holdout split at this date (before
        ``observation_end``): ``frequency_cal``, ``recency_cal`` and ``T_cal`` (what ``calibration_end=split_at``
        gives; null for customers whose first purchase is later) and ``frequency_holdout`` (purchase periods
        after it), and with ``litt`` also ``litt_cal`` (``litt`` before the split). Model choice on a holdout
        uses them without a second summary query.
    holdout_windows : tuple of int, default ()
        With ``split_at``, also ``frequency_holdout_<days>``: the purchase periods in the first ``days`` days
        after the split (seasonality is judged on them).

    Returns
    -------
    Same kind as ``orders``: an Ibis table expression (lazy, run by the engine), or a DataFrame indexed by
    customer for pandas input, or a polars DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_key": ["a", "a", "a", "b"],
    ...                    "date": ["2024-01-01", "2024-01-01", "2024-01-11", "2024-01-05"],
    ...                    "amount": [10, 5, 20, 7]})
    >>> rfm_summary(tx, observation_end="2024-01-31", monetary_col="amount").loc["a"].tolist()
    [1.0, 10.0, 30.0, 20.0]
    """
    if freq not in _FREQS:
        raise InputError(f"freq {freq!r} is not supported; use one of {', '.join(_FREQS)}.")
    if not freq_multiplier or freq_multiplier <= 0:
        raise InputError("freq_multiplier must be a positive number.")
    table, kind = _to_table(orders)
    canonical = {"status", "line_amount", "shop_coupon", "mall_coupon", "points_used"} <= set(table.columns)
    if datetime_col is None:
        datetime_col = next((c for c in ("order_date", "ordered_at", "date") if c in table.columns), "order_date")
    cust = _column(table, customer_col, "customer")
    day = _column(table, datetime_col, "datetime").cast("date")
    if canonical and monetary_col is None:
        table = table.filter(table.status != "cancelled")
        money = ibis.cases((table.status == "returned", ibis.literal(0, "int64")),
                           else_=table.line_amount - table.shop_coupon - table.mall_coupon - table.points_used)
        cust, day = table[customer_col], table[datetime_col].cast("date")
    elif monetary_col is not None:
        money = _column(table, monetary_col, "monetary")
    else:
        money = None
    base = table.select(customer=cust, day=day, amount=money.cast("float64") if money is not None else ibis.literal(0.0))

    obs = _as_date(observation_end, "observation_end")
    cal = _as_date(calibration_end, "calibration_end")
    if obs is None:
        latest = base.day.max().execute()
        if latest is None or pd.isna(latest):
            raise MissingDataError("There are no orders to summarise; import orders first.")
        obs = _as_date(latest, "observation_end")
    if cal is not None and cal >= obs:
        raise InputError(f"calibration_end {cal} must be before observation_end {obs}.")
    end = cal or obs
    mult = float(freq_multiplier)

    periods = (base.filter(base.day <= end)
               .mutate(period=_period_expr(base.day, freq))
               .group_by(["customer", "period"]).aggregate(amount=ibis._.amount.sum()))
    end_idx = _period_of(end, freq)
    extra: dict[str, Any] = {}
    if litt:
        previous = periods.period.lag().over(ibis.window(group_by=periods.customer, order_by=periods.period))
        periods = periods.mutate(log_gap=((periods.period - previous).cast("float64") / mult).ln())
        extra["litt"] = periods.log_gap.sum()
    split = _as_date(split_at, "split_at")
    if split is not None:
        if cal is not None or split >= obs:
            raise InputError(f"split_at {split} must be before observation_end {obs} (and without calibration_end).")
        split_idx = _period_of(split, freq)
        before = periods.period <= split_idx
        extra["n_cal"] = periods.period.count(where=before)
        extra["last_cal"] = periods.period.max(where=before)
        extra["n_holdout"] = periods.period.count(where=~before)
        for days in holdout_windows:  # purchase periods in the first ``days`` after the split
            extra[f"n_holdout_{days}"] = periods.period.count(
                where=~before & (periods.period <= _period_of(split + dt.timedelta(days=days), freq)))
        if litt:
            extra["litt_cal"] = periods.log_gap.sum(where=before)
    # the first period's amount by arg-min, not a window over each customer's periods: one sort fewer
    summary = periods.group_by("customer").aggregate(
        n=periods.period.count(),
        first_period=periods.period.min(),
        last_period=periods.period.max(),
        repeat_amount=periods.amount.sum() - periods.amount.argmin(periods.period),
        **extra,
    )
    summary = summary.select(
        customer=summary.customer,
        frequency=(summary.n - 1).cast("float64"),
        recency=(summary.last_period - summary.first_period).cast("float64") / mult,
        T=(ibis.literal(end_idx) - summary.first_period).cast("float64") / mult,
        monetary_value=ibis.cases((summary.n > 1, summary.repeat_amount / (summary.n - 1)), else_=0.0),
        **({"litt": summary.litt.fill_null(0.0)} if litt else {}),
        **(_split_columns(summary, split_idx, mult, litt, holdout_windows) if split is not None else {}),
    )
    if money is None:
        summary = summary.drop("monetary_value")
    if cal is not None:
        hold = (base.filter((base.day > cal) & (base.day <= obs))
                .mutate(period=_period_expr(base.day, freq))
                .group_by(["customer", "period"]).aggregate(amount=ibis._.amount.sum()))
        hold = hold.group_by("customer").aggregate(frequency_holdout=hold.period.count().cast("float64"),
                                                   monetary_value_holdout=hold.amount.mean())
        joined = summary.left_join(hold, summary.customer == hold.customer)
        cols = {c: joined[c] for c in summary.columns}
        cols["frequency_holdout"] = joined.frequency_holdout.fill_null(0.0)
        if money is not None:
            cols["monetary_value_holdout"] = joined.monetary_value_holdout.fill_null(0.0)
        cols["duration_holdout"] = ibis.literal((_period_of(obs, freq) - end_idx) / mult, "float64")
        summary = joined.select(**cols)
    summary = summary.rename({customer_col: "customer"}) if customer_col != "customer" else summary
    if kind == "ibis":
        return summary
    frame = summary.order_by(customer_col).to_pandas()
    if kind == "polars":
        import polars as pl

        return pl.from_pandas(frame)
    return frame.set_index(customer_col)


def _split_columns(summary: ir.Table, split_idx: int, mult: float, litt: bool,
                   windows: tuple[int, ...]) -> dict[str, Any]:
    """The calibration columns of a summary aggregated with ``split_at`` (null before the first purchase)."""
    known = summary.first_period <= split_idx
    extra = {"litt_cal": ibis.cases((known, summary.litt_cal.fill_null(0.0)), else_=ibis.null("float64"))} if litt else {}
    for days in windows:
        extra[f"frequency_holdout_{days}"] = ibis.cases((known, summary[f"n_holdout_{days}"].cast("float64")),
                                                        else_=ibis.null("float64"))
    return {
        "frequency_cal": ibis.cases((known, (summary.n_cal - 1).cast("float64")), else_=ibis.null("float64")),
        "recency_cal": ibis.cases((known, (summary.last_cal - summary.first_period).cast("float64") / mult),
                                  else_=ibis.null("float64")),
        "T_cal": ibis.cases((known, (ibis.literal(split_idx) - summary.first_period).cast("float64") / mult),
                            else_=ibis.null("float64")),
        "frequency_holdout": ibis.cases((known, summary.n_holdout.cast("float64")), else_=ibis.null("float64")),
        **extra,
    }


def rfm_groups(rfm: ir.Table, *, litt: bool = False) -> ir.Table:
    """The distinct ``(frequency, recency, T)`` rows of an RFM table with their count ``n`` (and mean ``litt``),
    ordered: what a transaction model is fitted on and scores, however many customers share a row."""
    extra = {"litt": rfm.litt.mean()} if litt else {}
    g = rfm.group_by(["frequency", "recency", "T"]).aggregate(n=rfm.count(), **extra)
    return g.order_by(["frequency", "recency", "T"])


def repeat_spend_groups(rfm: ir.Table) -> tuple[ir.Table, ir.Scalar]:
    """Distinct ``(frequency, monetary_value)`` rows of repeat buyers with their count ``n`` (ordered), and the
    mean repeat spend of customers with a repeat purchase: what Gamma-Gamma is fitted on."""
    rep = rfm.filter((rfm.frequency > 0) & (rfm.monetary_value > 0))
    g = rep.group_by(["frequency", "monetary_value"]).aggregate(n=rep.count())
    mean = rfm.filter(rfm.frequency > 0).monetary_value.mean()
    return g.order_by(["frequency", "monetary_value", "n"]), mean

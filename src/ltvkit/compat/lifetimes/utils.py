"""lifetimes.utils: transactions to per-customer summaries, with lifetimes' arguments and column names.

Both functions run :func:`ltvkit.features.rfm_summary` (one engine query); the definitions are lifetimes':
``frequency`` counts the periods with a purchase after the first, ``recency`` and ``T`` are measured from the
first purchase period, ``monetary_value`` is the mean of the repeat periods' totals (0 without repeats).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...exceptions import InputError
from ...features import rfm_summary

__all__ = ["calibration_and_holdout_data", "summary_data_from_transaction_data"]


def _transactions(transactions: Any, customer_id_col: str, datetime_col: str, monetary_value_col: str | None,
                  datetime_format: str | None) -> pd.DataFrame:
    if not isinstance(transactions, pd.DataFrame):
        transactions = pd.DataFrame(transactions)
    cols = [customer_id_col, datetime_col] + ([monetary_value_col] if monetary_value_col else [])
    missing = [c for c in cols if c not in transactions.columns]
    if missing:
        raise InputError(f"The transactions have no column(s) {', '.join(missing)}; columns are "
                         f"{', '.join(map(str, transactions.columns))}.")
    frame = transactions[cols].copy()
    values = frame[datetime_col]
    if datetime_format is not None and values.dtype.kind in "iuf":
        values = values.astype("int64").astype(str)  # 19970101 written as a number
    frame[datetime_col] = pd.to_datetime(values, format=datetime_format)
    return frame


def _end(value: Any, datetime_format: str | None) -> Any:
    """A period end in ``datetime_format`` (as lifetimes reads it) or, failing that, any date pandas reads."""
    if value is None:
        return None
    try:
        return pd.to_datetime(str(value), format=datetime_format).date()
    except ValueError:
        return pd.to_datetime(value).date()


def _first_transaction_only(include_first_transaction: bool) -> None:
    if include_first_transaction:
        raise InputError("include_first_transaction=True is not supported; use the repeat-purchase summary "
                         "(frequency and monetary_value without the first purchase), as the models expect.")


def summary_data_from_transaction_data(transactions: Any, customer_id_col: str, datetime_col: str,
                                       monetary_value_col: str | None = None, datetime_format: str | None = None,
                                       observation_period_end: Any = None, freq: str = "D",
                                       freq_multiplier: float = 1, include_first_transaction: bool = False
                                       ) -> pd.DataFrame:
    """One row per customer: ``frequency``, ``recency``, ``T`` (and ``monetary_value``), indexed by customer.

    Parameters
    ----------
    transactions : DataFrame
        One row per transaction.
    customer_id_col, datetime_col : str
        Column names of the customer and of the transaction time.
    monetary_value_col : str, optional
        Column of the transaction value; adds ``monetary_value``.
    datetime_format : str, optional
        Format of ``datetime_col`` when it is text (``"%Y%m%d"``).
    observation_period_end : date-like, optional
        End of the observation (default: the last transaction).
    freq : {"D", "W", "M"}
        Period purchases collapse into and in which recency and T are counted.
    freq_multiplier : float
        Divide recency and T by this (``freq="D", freq_multiplier=7``: fractional weeks).
    include_first_transaction : bool
        Only False (lifetimes' default) is supported.
    """
    _first_transaction_only(include_first_transaction)
    frame = _transactions(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format)
    out = rfm_summary(frame, observation_end=_end(observation_period_end, datetime_format), freq=freq,
                      customer_col=customer_id_col, datetime_col=datetime_col, monetary_col=monetary_value_col,
                      freq_multiplier=freq_multiplier)
    out.index.name = customer_id_col
    return out


def calibration_and_holdout_data(transactions: Any, customer_id_col: str, datetime_col: str,
                                 calibration_period_end: Any, observation_period_end: Any = None, freq: str = "D",
                                 freq_multiplier: float = 1, datetime_format: str | None = None,
                                 monetary_value_col: str | None = None, include_first_transaction: bool = False
                                 ) -> pd.DataFrame:
    """Calibration summaries and holdout counts of the customers who bought by ``calibration_period_end``.

    Columns (lifetimes' names): ``frequency_cal``, ``recency_cal``, ``T_cal`` (``monetary_value_cal``),
    ``frequency_holdout`` (``monetary_value_holdout``), ``duration_holdout``; indexed by customer.
    """
    _first_transaction_only(include_first_transaction)
    frame = _transactions(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format)
    end = _end(observation_period_end, datetime_format)
    if end is None:
        end = frame[datetime_col].max().date()
    out = rfm_summary(frame, observation_end=end, calibration_end=_end(calibration_period_end, datetime_format),
                      freq=freq, customer_col=customer_id_col, datetime_col=datetime_col,
                      monetary_col=monetary_value_col, freq_multiplier=freq_multiplier)
    out = out.rename(columns={"frequency": "frequency_cal", "recency": "recency_cal", "T": "T_cal",
                              "monetary_value": "monetary_value_cal"})
    order = ["frequency_cal", "recency_cal", "T_cal", "monetary_value_cal", "frequency_holdout",
             "monetary_value_holdout", "duration_holdout"]
    out = out[[c for c in order if c in out.columns]]
    out.index.name = customer_id_col
    return out

"""One date parser for every date a person or a caller passes in (``--as-of``, ``as_of=``, ``calibration_end=``)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from .exceptions import InputError

__all__ = ["parse_date"]

_DATE = re.compile(r"^(\d{4})\s*[-/年]\s*(\d{1,2})\s*[-/月]\s*(\d{1,2})\s*日?(?:[ T].*)?$|^(\d{4})(\d{2})(\d{2})$")


def parse_date(value: Any, option: str | None = None) -> dt.date | None:
    """``value`` as a :class:`datetime.date` (``None`` stays ``None``).

    Accepts dates, datetimes (pandas Timestamps too; their calendar day is kept), numpy ``datetime64`` and text
    written ``YYYY-MM-DD``, ``YYYY/M/D``, ``YYYYMMDD`` or ``2024年4月1日``, full-width digits included; text may go on with a
    time (``2024-04-01 10:00``). Anything else raises :class:`~ltvkit.exceptions.InputError` (``err.bad_date``)
    naming ``option``.

    Examples
    --------
    >>> parse_date("２０２４/４/１")
    datetime.date(2024, 4, 1)
    >>> parse_date("2024年4月1日")
    datetime.date(2024, 4, 1)
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):  # pandas Timestamp included
        if value != value:  # NaT
            raise _bad(value, option)
        return value.date()
    if isinstance(value, dt.date):
        return value
    if type(value).__name__ == "datetime64":
        import pandas as pd

        return parse_date(pd.Timestamp(value), option)
    if isinstance(value, str):
        found = _DATE.match(unicodedata.normalize("NFKC", value).strip())
        if found:
            try:
                return dt.date(*(int(part) for part in found.groups() if part is not None))
            except ValueError:
                pass
    raise _bad(value, option)


def _bad(value: Any, option: str | None) -> InputError:
    if option:
        return InputError(key="err.bad_date", option=option, value=str(value))
    return InputError(key="err.bad_date_value", value=str(value))

"""One catalogue of words (ja/en) and locale-aware formatting of numbers and dates.

Every text a person reads (CLI output, error messages, the report, the demo) is a key of
:data:`~ltvkit.i18n._catalog.MESSAGES` with a Japanese and an English wording; :func:`t` picks one and fills in
its ``{placeholders}``. Numbers, money, shares and dates are formatted with Babel (CLDR data) by
:func:`format_number`, :func:`format_currency`, :func:`format_percent` and :func:`format_date`; :func:`fmt` picks one
of them by the *kind* of a value (``yen``, ``pct``, ``days`` …), as the report's tables do.

This module is a leaf of the package: it imports nothing from ltvkit but :mod:`ltvkit._defaults`, so the library
layers (features, models, recommend) and the shells (cli, reports) can all use it.

Examples
--------
>>> t("report.title", "ja")
'顧客生涯価値（LTV）レポート'
>>> format_currency(12345.4, "ja"), format_currency(12345.4, "en")
('12,345円', '¥12,345')
>>> format_percent(0.3685, "en")
'36.9%'
>>> format_date(dt.date(2024, 4, 1), "ja", month=True)
'2024年4月'
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import string
from typing import Any

from babel import dates as _dates
from babel import numbers as _numbers

from .._defaults import DEFAULT_TIMEZONE
from ._catalog import MESSAGES

__all__ = [
    "DEFAULT_LANG",
    "KINDS",
    "LANGS",
    "MESSAGES",
    "fmt",
    "format_currency",
    "format_date",
    "format_number",
    "format_percent",
    "format_yen_large",
    "column_kind",
    "format_value",
    "is_lang",
    "label",
    "placeholders",
    "relabel",
    "t",
]

LANGS = ("ja", "en")
DEFAULT_LANG = "ja"
_LOCALES = {"ja": "ja_JP", "en": "en_US"}
_LIST_SEPARATORS = {"ja": "、", "en": ", "}

# Round the float's exact binary value half-even, as Python's own format() does, so a number reads the same
# whether Babel or an f-string wrote it (2.675 is 2.67499… and shows as 2.67).
_ROUNDING = decimal.ROUND_HALF_EVEN


def is_lang(lang: Any) -> bool:
    """Whether ``lang`` is a language of the catalogue (``ja`` or ``en``)."""
    return lang in LANGS


def _lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None, /, **params: Any) -> str:
    """The text ``key`` in ``lang`` with its ``{placeholders}`` filled from ``params``.

    A list or tuple parameter is written as a list of the language (``a、b`` / ``a, b``). An unknown key gives the
    key itself (so a missing entry shows up in the page, never as a crash); the tests
    keep every key of the code in the catalogue with both languages and the same placeholders.
    """
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    lang = _lang(lang)
    text = entry[lang]
    if not params:
        return text
    sep = _LIST_SEPARATORS[lang]
    return text.format(**{k: sep.join(map(str, v)) if isinstance(v, (list, tuple)) else v for k, v in params.items()})


def placeholders(text: str) -> set[str]:
    """The names of the ``{placeholders}`` of a catalogue text."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def label(name: str, lang: str | None = "en") -> str:
    """The reader-facing label of a column, segment or group name (the name itself when unknown).

    Examples
    --------
    >>> label("f2_rate", "ja")
    'F2転換率'
    >>> label("優良現役", "en")
    'prime (active)'
    """
    key = f"label.{name}"
    if key in MESSAGES:
        return t(key, lang)
    # CPM segments are written as two Japanese words (e.g. 優良現役); English readers get both translated.
    stage, state = f"cpm.{name[:-2]}", f"cpm.{name[-2:]}"
    if len(name) >= 4 and stage in MESSAGES and state in MESSAGES:
        return t("cpm.segment", lang, stage=t(stage, lang), state=t(state, lang))
    return name


def relabel(df: Any, lang: str | None = "en", *,
            values: tuple[str, ...] = ("segment", "point_segment", "group", "metric", "row"), headers: bool = True) -> Any:
    """A copy of a pandas frame with labelled headers (unless ``headers=False``) and segment values (for people,
    not for files)."""
    out = df.copy()
    for col in values:
        if col in out.columns:
            out[col] = out[col].map(lambda v: label(v, lang) if isinstance(v, str) else v)
    if headers:
        out.columns = [label(str(c), lang) for c in out.columns]
    return out


# -- numbers ------------------------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def _decimal(value: Any, digits: int) -> decimal.Decimal:
    return decimal.Decimal(float(value)).quantize(decimal.Decimal(1).scaleb(-digits), rounding=_ROUNDING)


def _pattern(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits else "")


def format_number(value: Any, lang: str | None, *, digits: int | None = 0, significant: int | None = None) -> str:
    """A number with the thousands separator of ``lang`` and ``digits`` decimals (or at most ``significant``
    significant digits).

    ``digits=None`` chooses: none from 1,000 up or for whole numbers, two below, two significant digits for
    values under 0.01.
    """
    value = float(_plain(value))
    locale = _LOCALES[_lang(lang)]
    if significant is not None:
        if not math.isfinite(value):
            return str(value)
        return _numbers.format_decimal(value, format="@" + "#" * (significant - 1), locale=locale)
    if digits is None:
        if abs(value) >= 1000:
            digits = 0
        elif value == int(value):
            digits = 0
        elif abs(value) >= 0.01:
            digits = 2
        else:
            return _numbers.format_decimal(value, format="@@", locale=locale)  # two significant digits
    return _numbers.format_decimal(_decimal(value, digits), format=_pattern(digits), locale=locale,
                                   decimal_quantization=False)


def format_currency(value: Any, lang: str | None, *, digits: int = 0) -> str:
    """An amount of yen: ``12,345円`` in Japanese, ``¥12,345`` in English."""
    value = float(_plain(value))
    amount = format_number(abs(value), lang, digits=digits)
    sign = _numbers.get_minus_sign_symbol(_LOCALES[_lang(lang)]) if value < 0 and amount.strip("0.,") else ""
    return sign + t("unit.yen", lang, amount=amount)


def format_yen_large(value: Any, lang: str | None) -> str:
    """A large amount of yen with its short form (CLDR compact numbers) from 1,000,000円 up:
    ``27,591,030円（2759万円）`` / ``¥27,591,030 (¥27.6M)``."""
    value = float(_plain(value))
    yen = format_currency(value, lang)
    if abs(value) < 1_000_000:
        return yen
    short = _numbers.format_compact_decimal(value, locale=_LOCALES[_lang(lang)], fraction_digits=1)
    return t("unit.yen_large", lang, yen=yen, short=short)


def format_percent(share: Any, lang: str | None, *, digits: int = 1) -> str:
    """A share (0..1) as a percentage: ``36.9%``."""
    value = _decimal(float(_plain(share)) * 100, digits) / 100
    return _numbers.format_percent(value, format=_pattern(digits) + "%", locale=_LOCALES[_lang(lang)],
                                   decimal_quantization=False)


# -- dates --------------------------------------------------------------------------------------------------------

def _shop_zone(tz: str | None) -> Any:
    from zoneinfo import ZoneInfo

    if tz is None:
        tz = DEFAULT_TIMEZONE
    return ZoneInfo(tz)


def format_date(value: Any, lang: str | None, *, month: bool = False, time: bool = True,
                tz: str | None = None) -> str:
    """A date as ``YYYY-MM-DD`` (with ``HH:MM`` for a time of day unless ``time=False``), or its month
    (``2024年4月`` / ``Apr 2024``).

    A datetime with a time zone is shown in the shop's time zone ``tz`` (default: Asia/Tokyo); one without is
    taken to be shop time already, as stored in the workspace. ISO text is read first; other text is returned
    as it is.
    """
    value = _plain(value)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    locale = _LOCALES[_lang(lang)]
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(_shop_zone(tz)).replace(tzinfo=None)
    if month:
        return _dates.format_skeleton("yMMM", value, locale=locale)
    if time and isinstance(value, dt.datetime) and (value.hour or value.minute or value.second):
        return _dates.format_datetime(value, "yyyy-MM-dd HH:mm", locale=locale)
    return _dates.format_date(value, "yyyy-MM-dd", locale=locale)


# -- by kind ------------------------------------------------------------------------------------------------------

_UNITS = {"days": ("unit.days", 0), "months": ("unit.months", 1), "years": ("unit.years", 2), "ratio": ("unit.ratio", 2)}


def fmt(value: Any, kind: str, lang: str | None) -> str:
    """A value as people read it, by ``kind``: ``yen`` (12,345円 / ¥12,345), ``int``, ``pct`` (a share 0..1),
    ``float``, ``days``, ``months``, ``years``, ``ratio`` (倍 / ×) or ``text``; dates as ``YYYY-MM-DD``;
    ``—`` when missing."""
    if _is_missing(value):
        return "—"
    value = _plain(value)
    if hasattr(value, "strftime") and not isinstance(value, str):
        return format_date(value, lang)
    if kind == "text" or isinstance(value, (str, bool)):
        return str(value)
    if kind == "yen":
        return format_currency(value, lang)
    if kind == "yen_large":
        return format_yen_large(value, lang)
    if kind == "int":
        return format_number(value, lang)
    if kind == "pct":
        return format_percent(value, lang)
    if kind in _UNITS:
        key, digits = _UNITS[kind]
        return t(key, lang, n=format_number(value, lang, digits=digits))
    return format_number(value, lang, digits=None)


# How the named quantities of the summaries are read: money in yen, shares as percentages.
KINDS: dict[str, str] = {
    **dict.fromkeys(("revenue", "margin", "predicted_clv_total"), "yen_large"),
    **dict.fromkeys(("aov", "margin_per_customer_year", "textbook_ltv", "retention_ltv",
                     "annual_ltv_revenue", "annual_ltv_margin", "cac", "margin_ltv",
                     "breakeven_cpa", "target_cpa"), "yen"),
    **dict.fromkeys(("retention_rate", "f2_rate_365d", "f2_rate", "discount_rate", "margin_rate", "mean_p_alive"),
                    "pct"),
    "top_share": "pct",
    "ltv_cac": "ratio",
    "payback_months": "months",
    **dict.fromkeys(("customers", "orders", "customers_last_year", "new_customers_last_year", "unique_rows",
                     "horizon_days"), "int"),
    "lifespan_years": "years",
}


def format_value(name: str, value: Any, lang: str | None) -> Any:
    """A named quantity of :data:`KINDS` as people read it (``revenue`` in yen, ``retention_rate`` as a
    percentage …); any other value is returned unchanged, for the printer's general rule."""
    kind = KINDS.get(name)
    return value if kind is None or isinstance(value, (dict, list)) else fmt(value, kind, lang)


# Parts of column names that say how a table's column is read (printed tables only; files keep the numbers).
_PCT_PARTS = ("_share", "_rate", "rate_", "p_alive", "p_purchase", "f3_given_f2", "retention", "uplift", "yoy")
_YEN_PARTS = ("revenue", "margin", "ltv", "clv", "cpa", "cac", "aov", "spend", "value_at_stake", "sales")


def column_kind(name: str) -> str | None:
    """How a column of a printed table is read, from its stable name: ``yen``, ``pct``, ``int`` … or ``None``
    (the printer's general rule). Named quantities of :data:`KINDS` first, then the parts of the name
    (``…_share``/``…_rate`` are shares, ``revenue``/``margin``/``…ltv`` are yen).

    >>> column_kind("margin_share"), column_kind("cum_margin_per_customer"), column_kind("mean_orders")
    ('pct', 'yen', None)
    """
    name = str(name)
    if name in KINDS:
        return "yen" if KINDS[name] == "yen_large" else KINDS[name]
    low = name.lower()
    if any(part in low for part in _PCT_PARTS):
        return "pct"
    if any(part in low for part in _YEN_PARTS) and not low.startswith(("n_", "mean_orders")):
        return "yen"
    return None

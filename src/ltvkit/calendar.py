"""The mall campaign calendar, as data: day-of-month rules plus announced (or estimated) windows, in JST.

The same calendar generates point-driven buying in :mod:`ltvkit.synth` and flags campaign orders in the
analytics, so what the generator puts in is what the analytics find. Shops replace or extend it with their own
YAML file (same layout as ``ltvkit/data/campaigns.yaml``) when Rakuten or Yahoo announce their dates.

Times are the shop's wall-clock time (JST), naive, like ``ordered_at`` in the order store. A window's ``end`` is
exclusive, so a window announced as "20:00 → 01:59" ends at 02:00 and one crossing midnight needs no special case.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .exceptions import InputError

__all__ = ["CampaignCalendar", "CampaignWindow", "DayRule", "MALL_OF_SOURCE", "day_pieces"]

MALL_OF_SOURCE = {"rakuten": "rakuten", "yahoo": "yahoo"}
"""Which mall's campaigns apply to orders of a source (own-site sources have none)."""


def day_pieces(starts: Any, ends: Any) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """``[start, end)`` intervals cut at midnight: ``(day, start, end)`` pieces, each within one day."""
    out = []
    for s, e in zip(starts, ends, strict=True):
        s, e = pd.Timestamp(s).to_pydatetime(), pd.Timestamp(e).to_pydatetime()
        while s < e:
            midnight = dt.datetime.combine(s.date() + dt.timedelta(days=1), dt.time())
            out.append((s.date(), s, min(e, midnight)))
            s = midnight
    return out


@dataclass(frozen=True)
class DayRule:
    """A campaign that runs all day on given days of the month or weekdays (Monday = 0)."""

    mall: str
    name: str
    days: tuple[int, ...] = ()
    weekdays: tuple[int, ...] = ()

    def applies(self, day: dt.date) -> bool:
        return day.day in self.days or day.weekday() in self.weekdays


@dataclass(frozen=True)
class CampaignWindow:
    """An announced or estimated campaign window ``[start, end)``."""

    mall: str
    name: str
    kind: str
    start: dt.datetime
    end: dt.datetime
    estimated: bool = False


@dataclass(frozen=True)
class _Typical:
    mall: str
    name: str
    kind: str
    months: tuple[int, ...]
    start_day: int
    start_time: dt.time
    end_day: int
    end_time: dt.time


def _parse_time(text: str) -> dt.time:
    return dt.time.fromisoformat(str(text))


def _parse_dt(text: Any, where: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(text).replace("/", "-"))
    except ValueError:
        raise InputError(f"Campaign calendar: {where} has a time {text!r} that is not 'YYYY-MM-DD HH:MM'.") from None


@dataclass
class CampaignCalendar:
    """Campaign rules and windows of the malls.

    Examples
    --------
    >>> cal = CampaignCalendar.default()
    >>> cal.is_campaign(dt.datetime(2025, 9, 5, 10, 0), "rakuten")
    True
    >>> cal.is_campaign(dt.datetime(2025, 9, 12, 10, 0), "rakuten")
    False
    """

    rules: list[DayRule] = field(default_factory=list)
    windows: list[CampaignWindow] = field(default_factory=list)
    typical: list[_Typical] = field(default_factory=list)

    # -- construction ---------------------------------------------------------------------------------
    @classmethod
    def default(cls) -> CampaignCalendar:
        """The calendar shipped with ltvkit (Rakuten and Yahoo rules, announced windows, typical rhythm)."""
        text = resources.files("ltvkit").joinpath("data/campaigns.yaml").read_text(encoding="utf-8")
        return cls.from_dict(yaml.safe_load(text))

    @classmethod
    def from_file(cls, path: str | Path) -> CampaignCalendar:
        """Read a calendar YAML file (the layout of ``ltvkit/data/campaigns.yaml``)."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(key="err.calendar_unreadable", path=str(path), error=str(exc).rstrip(".")) from None
        if not isinstance(data, dict):
            raise InputError(key="err.calendar_not_mapping", path=str(path))
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CampaignCalendar:
        rules = [DayRule(r["mall"], r["name"], tuple(r.get("days", ())), tuple(r.get("weekdays", ())))
                 for r in data.get("rules") or []]
        windows = []
        for i, w in enumerate(data.get("windows") or []):
            start, end = _parse_dt(w["start"], f"window {i + 1}"), _parse_dt(w["end"], f"window {i + 1}")
            if end <= start:
                raise InputError(f"Campaign calendar: window {i + 1} ({w['name']}) ends before it starts.")
            windows.append(CampaignWindow(w["mall"], w["name"], w.get("kind", "campaign"), start, end))
        typical = [
            _Typical(t["mall"], t["name"], t.get("kind", "campaign"), tuple(t["months"]), int(t["start_day"]),
                     _parse_time(t["start_time"]), int(t["end_day"]), _parse_time(t["end_time"]))
            for t in data.get("typical") or []
        ]
        return cls(rules, windows, typical)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": [{"mall": r.mall, "name": r.name, "kind": "day_rule", "days": list(r.days),
                       "weekdays": list(r.weekdays)} for r in self.rules],
            "windows": [{"mall": w.mall, "name": w.name, "kind": w.kind, "start": w.start.isoformat(sep=" "),
                         "end": w.end.isoformat(sep=" ")} for w in self.windows],
            "typical": [{"mall": t.mall, "name": t.name, "kind": t.kind, "months": list(t.months),
                         "start_day": t.start_day, "start_time": t.start_time.isoformat("minutes"),
                         "end_day": t.end_day, "end_time": t.end_time.isoformat("minutes")} for t in self.typical],
        }

    # -- windows ----------------------------------------------------------------------------------------
    def windows_between(self, start: dt.date, end: dt.date, mall: str | None = None) -> list[CampaignWindow]:
        """Announced windows plus estimated ones for months with no announced window of that kind."""
        lo = dt.datetime.combine(start, dt.time())
        hi = dt.datetime.combine(end, dt.time()) + dt.timedelta(days=1)
        announced = [w for w in self.windows if (mall is None or w.mall == mall) and w.end > lo and w.start < hi]
        covered = {(w.mall, w.kind, w.start.year, w.start.month) for w in self.windows}
        out = list(announced)
        for t in self.typical:
            if mall is not None and t.mall != mall:
                continue
            year, month = start.year, start.month
            while (year, month) <= (end.year, end.month):
                if month in t.months and (t.mall, t.kind, year, month) not in covered:
                    last = _cal.monthrange(year, month)[1]
                    s = dt.datetime.combine(dt.date(year, month, min(t.start_day, last)), t.start_time)
                    e = dt.datetime.combine(dt.date(year, month, min(t.end_day, last)), t.end_time)
                    if e > lo and s < hi:
                        out.append(CampaignWindow(t.mall, t.name, t.kind, s, e, estimated=True))
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return sorted(out, key=lambda w: (w.start, w.mall, w.name))

    def to_frame(self, start: dt.date, end: dt.date, mall: str | None = None) -> pd.DataFrame:
        """Every campaign interval between two dates, day rules expanded to whole days.

        Columns: ``mall``, ``name``, ``kind``, ``start_at``, ``end_at`` (exclusive), ``estimated``.
        """
        rows = [(w.mall, w.name, w.kind, w.start, w.end, w.estimated) for w in self.windows_between(start, end, mall)]
        day = start
        while day <= end:
            for r in self.rules:
                if (mall is None or r.mall == mall) and r.applies(day):
                    s = dt.datetime.combine(day, dt.time())
                    rows.append((r.mall, r.name, "day_rule", s, s + dt.timedelta(days=1), False))
            day += dt.timedelta(days=1)
        frame = pd.DataFrame(rows, columns=["mall", "name", "kind", "start_at", "end_at", "estimated"])
        return frame.sort_values(["start_at", "mall", "name"], ignore_index=True)

    def intervals(self, start: dt.date, end: dt.date, mall: str, day_rules: bool | None = None) -> pd.DataFrame:
        """The campaign time of ``mall`` between two dates as disjoint ``[start_at, end_at)`` intervals, sorted.

        Windows and day-rule days that overlap or touch are merged, so that a time falls in at most one row: the
        small table that order times are joined against to flag campaign orders (rather than a chain of ORs).
        ``day_rules`` keeps only the all-day rules (True) or only the windows (False).
        """
        frame = self.to_frame(start, end, mall)
        if day_rules is not None:
            frame = frame[(frame["kind"] == "day_rule") == day_rules]
        merged: list[list[dt.datetime]] = []
        for s, e in sorted(zip(frame["start_at"], frame["end_at"], strict=True)):
            s, e = pd.Timestamp(s).to_pydatetime(), pd.Timestamp(e).to_pydatetime()
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        return pd.DataFrame({"start_at": pd.Series([m[0] for m in merged], dtype="datetime64[us]"),
                             "end_at": pd.Series([m[1] for m in merged], dtype="datetime64[us]")})

    def hours_per_day(self, start: dt.date, end: dt.date, mall: str, day_rules: bool | None = None) -> pd.Series:
        """Hours of each day from ``start`` to ``end`` inside campaigns of ``mall`` (of :meth:`intervals`, so an
        hour counts once however many campaigns cover it), indexed by day."""
        hours = pd.Series(0.0, index=pd.date_range(start, end, freq="D"))
        f = self.intervals(start, end, mall, day_rules)
        for day, s, e in day_pieces(f["start_at"], f["end_at"]):
            stamp = pd.Timestamp(day)
            if stamp in hours.index:
                hours[stamp] += (e - s).total_seconds() / 3600.0
        return hours

    # -- flags ------------------------------------------------------------------------------------------
    def is_campaign(self, when: dt.datetime, mall: str) -> bool:
        """Whether one order time falls in a campaign of ``mall``."""
        if any(r.mall == mall and r.applies(when.date()) for r in self.rules):
            return True
        return any(w.start <= when < w.end for w in self.windows_between(when.date(), when.date(), mall))

    def flag_array(self, times: Any, mall: str) -> np.ndarray:
        """Vectorised :meth:`is_campaign` over an array of naive datetimes (numpy or pandas)."""
        ts = pd.to_datetime(pd.Series(np.asarray(times)))
        if ts.empty:
            return np.zeros(0, dtype=bool)
        days = ts.dt.day.to_numpy()
        weekdays = ts.dt.day_of_week.to_numpy()
        mask = np.zeros(len(ts), dtype=bool)
        for r in self.rules:
            if r.mall == mall:
                mask |= np.isin(days, r.days) | np.isin(weekdays, r.weekdays)
        values = ts.to_numpy(dtype="datetime64[us]")
        for w in self.windows_between(ts.min().date(), ts.max().date(), mall):
            mask |= (values >= np.datetime64(w.start, "us")) & (values < np.datetime64(w.end, "us"))
        return mask

    def base_rate(self, start: dt.date, end: dt.date, mall: str) -> float:
        """Share of the hours between two dates (inclusive) that lie inside a campaign of ``mall``.

        This is the share of orders a customer who ignores campaigns would place in them: the baseline that
        a customer's campaign share is compared with.
        """
        hours = pd.date_range(dt.datetime.combine(start, dt.time()), dt.datetime.combine(end, dt.time(23)), freq="h")
        return float(self.flag_array(hours.to_numpy(), mall).mean()) if len(hours) else 0.0

    def expr(self, ts: Any, mall: str, start: dt.date, end: dt.date) -> Any:
        """An Ibis boolean expression: is the timestamp column ``ts`` inside a campaign of ``mall``.

        Built from portable operations only (day of month, weekday, timestamp comparisons), so it runs
        unchanged on DuckDB and Spark. ``start`` and ``end`` bound the windows that are expanded.
        """
        import ibis

        cond = ibis.literal(False)
        days = sorted({d for r in self.rules if r.mall == mall for d in r.days})
        weekdays = sorted({d for r in self.rules if r.mall == mall for d in r.weekdays})
        if days:
            cond = cond | ts.day().isin(days)
        if weekdays:
            cond = cond | ts.day_of_week.index().isin(weekdays)
        for w in self.windows_between(start, end, mall):
            cond = cond | ((ts >= ibis.timestamp(w.start)) & (ts < ibis.timestamp(w.end)))
        return cond

"""Planning: who is due for which scenario, from the stored results of one pipeline run, into the outbox.

Vectorised over the per-customer results (Arrow/pandas), written with bulk inserts. Steps, per scenario:

1. the trigger gives candidates with their *occurrence* (the first order, the item and its last purchase, the plan
   day for segment triggers), the audience conditions filter them: these are **eligible**;
2. an occurrence already in the outbox is skipped (``already_planned``: planning twice adds nothing), and so is a
   segment scenario sent to the customer within ``once_per_days``;
3. the first channel in the scenario's order with an address, consent and reachability is chosen
   (else ``no_contact`` / ``opted_out`` / ``unreachable``);
4. the global frequency cap keeps at most N messages per customer in the window, higher priority first (rows
   already in the outbox, holdout rows included, use their slots);
5. a keyed hash of (scenario, customer) with the workspace secret holds out the scenario's share: those rows are
   written with state ``holdout`` and never sent.

The idempotency key of a row is a keyed hash of (scenario, customer, occurrence) shaped as a UUID; it is the LINE
retry key (and later the e-mail Message-ID).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from .._threads import Ahead
from ..config import Settings
from ..exceptions import MissingDataError, ScenarioError
from ..store import Run, Workspace
from ._ops import OpsStore, outbox, utcnow
from .channels import available_channels, staff_list_channels
from .contacts import consent_frame
from .dashboard import disabled_scenarios
from .scenarios import Scenario, render, sample_context

__all__ = ["PlanReport", "holdout_draw", "idempotency_key", "plan", "preview", "quiet_hours_shift"]

SKIP_REASONS = ("already_planned", "once_per_days", "one_per_plan", "no_contact", "opted_out", "unreachable",
                "frequency_cap")
NOT_COUNTED = ("failed", "expired")


@dataclass
class ScenarioCounts:
    eligible: int = 0
    planned: int = 0
    holdout: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    not_planned: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"eligible": self.eligible, "planned": self.planned, "holdout": self.holdout,
                               "skipped": {k: v for k, v in self.skipped.items() if v}}
        if self.not_planned:
            out["not_planned"] = self.not_planned
        return out


@dataclass
class PlanReport:
    """What a plan did: per scenario eligible / planned / holdout / skipped by reason, and its inputs."""

    as_of: dt.date
    results_as_of: dt.date
    run_id: int
    send_at: dt.datetime  # shop wall-clock time
    dry_run: bool
    scenarios: dict[str, ScenarioCounts]
    seconds: float = 0.0
    customers: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "results_as_of": self.results_as_of.isoformat(),
                "run_id": self.run_id, "send_at": self.send_at.isoformat(timespec="minutes"),
                "dry_run": self.dry_run, "customers": self.customers, "seconds": round(self.seconds, 3),
                "timings": {k: round(v, 3) for k, v in self.timings.items()},
                "scenarios": {k: v.to_dict() for k, v in self.scenarios.items()}}


# -- hashing ----------------------------------------------------------------------------------------------------

def idempotency_key(secret: bytes, scenario: str, customer_key: str, occurrence: str) -> str:
    """The message's idempotency key: a keyed hash of (scenario, customer, occurrence) shaped as a UUID."""
    digest = hashlib.blake2b(f"{scenario}\x1f{customer_key}\x1f{occurrence}".encode(), digest_size=16,
                             key=secret[:64], person=b"ltv-outbox-key").digest()
    return str(uuid.UUID(bytes=digest, version=4))


def _digest(copy: Callable[[], Any], data: bytes) -> bytes:
    h = copy()
    h.update(data)
    return h.digest()


def holdout_draw(secret: bytes, scenario: str, customer_keys: Iterable[str]) -> np.ndarray:
    """Uniform [0, 1) per customer from a keyed hash of (scenario, customer): stable across runs and occurrences,
    independent between scenarios. A customer is held out when the draw is below the share."""
    # one keyed hasher copied per customer: the key block is hashed once, not once per customer
    copy = hashlib.blake2b(digest_size=8, key=secret[:64], person=b"ltv-holdout").copy
    prefix = scenario.encode() + b"\x1f"
    digests = b"".join([_digest(copy, prefix + c.encode()) for c in customer_keys])
    return np.frombuffer(digests, dtype=">u8").astype(np.float64) / 2.0 ** 64


_HEX = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype="S2")
_DASHES = np.array([8, 12, 16, 20])  # where the hyphens of a UUID's text go (in its 32 hex digits)


def _keys(secret: bytes, scenario: str, customers: np.ndarray, occurrences: np.ndarray) -> np.ndarray:
    """:func:`idempotency_key` of every (customer, occurrence), the UUID text built column-wise."""
    if len(customers) == 0:
        return np.empty(0, dtype=object)
    copy = hashlib.blake2b(digest_size=16, key=secret[:64], person=b"ltv-outbox-key").copy
    prefix = scenario + "\x1f"
    digests = b"".join([_digest(copy, f"{prefix}{c}\x1f{o}".encode())
                        for c, o in zip(customers.tolist(), occurrences.tolist(), strict=True)])
    d = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 16).copy()
    d[:, 6] = (d[:, 6] & 0x0F) | 0x40  # what uuid.UUID(bytes=d, version=4) sets
    d[:, 8] = (d[:, 8] & 0x3F) | 0x80
    hexed = _HEX[d].view("S32").ravel()
    text = np.insert(hexed.view(np.uint8).reshape(-1, 32), _DASHES, ord("-"), axis=1).tobytes().decode("ascii")
    out = np.empty(len(d), dtype=object)
    out[:] = [text[i:i + 36] for i in range(0, len(text), 36)]
    return out


# -- time ---------------------------------------------------------------------------------------------------------

def _hm(text: str) -> dt.time:
    h, m = text.split(":")
    return dt.time(int(h), int(m))


def quiet_hours_shift(local: dt.datetime, quiet: str) -> dt.datetime:
    """Move a shop wall-clock time out of quiet hours (``"21:00-09:00"``) to their end.

    >>> quiet_hours_shift(dt.datetime(2026, 1, 5, 22, 30), "21:00-09:00")
    datetime.datetime(2026, 1, 6, 9, 0)
    >>> quiet_hours_shift(dt.datetime(2026, 1, 5, 7, 0), "21:00-09:00")
    datetime.datetime(2026, 1, 5, 9, 0)
    """
    start_text, end_text = quiet.split("-")
    start, end = _hm(start_text), _hm(end_text)
    t = local.time()
    if start == end:
        return local
    if start < end:
        inside = start <= t < end
        return local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0) if inside else local
    if t >= start:
        nxt = local + dt.timedelta(days=1)
        return nxt.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if t < end:
        return local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return local


# -- reading results ----------------------------------------------------------------------------------------------

def _latest_run(ws: Workspace, name: str, as_of: dt.date, run_id: int | None = None,
                all_runs: list[Run] | None = None) -> Run | None:
    result = "result_" + name
    runs = [r for r in (all_runs if all_runs is not None else ws.runs()) if r.result == result]
    if run_id is not None:
        return next((r for r in runs if r.run_id == run_id), None)
    runs = [r for r in runs if r.as_of is not None and r.as_of <= as_of]
    return max(runs, key=lambda r: (r.as_of, r.run_id)) if runs else None


def _same_day(runs_all: list[Run], name: str, day: dt.date) -> Run | None:
    runs = [r for r in runs_all if r.result == "result_" + name and r.as_of == day]
    return max(runs, key=lambda r: r.run_id) if runs else None


@dataclass
class Inputs:
    """The per-customer results of one pipeline run (the predictions run and results as of the same day)."""

    run: Run
    customers: pd.DataFrame
    golden_start: float | None
    replenishment: pd.DataFrame | None
    recommendations: bool  # the customer frame has the first three recommended items (_rec1.._rec3)
    missing: dict[str, str]
    _key_index: pd.Index | None = field(default=None, repr=False)

    def key_index(self) -> pd.Index:
        """The customer keys as an index (positions of keys in the frame), built once."""
        if self._key_index is None:
            self._key_index = pd.Index(self.customers["customer_key"].to_numpy(dtype=object))
        return self._key_index


_RFM = {"first_date": "first_order_date", "last_date": "last_order_date"}
_CPM = {"segment": "cpm_segment", "cpm_class": "cpm_class", "cpm_state": "cpm_state"}
_POINTS = ("point_dependence_score", "point_segment", "campaign_share", "points_share", "discount_depth",
           "first_in_campaign")


def _join(left: Any, right: Any) -> Any:
    """``left`` with the columns of ``right`` joined on ``customer_key`` (left join)."""
    return left.left_join(right, "customer_key").drop("customer_key_right")


def read_inputs(ws: Workspace, as_of: dt.date, *, run_id: int | None = None) -> Inputs:
    """Read what planning needs from the workspace: predictions (the run recorded on each message) and the
    segments, point dependence, golden time, replenishment and recommendations stored as of the same day."""
    all_runs = ws.runs()
    run = _latest_run(ws, "predictions", as_of, run_id, all_runs)
    if run is None:
        if run_id is not None:
            raise MissingDataError(key="err.plan_run_no_predictions", run_id=run_id)
        raise MissingDataError(key="err.plan_no_predictions", as_of=str(as_of))
    day = run.as_of
    assert day is not None
    rfm_run = _same_day(all_runs, "segments_rfm", day)
    if rfm_run is None:
        raise MissingDataError(key="err.plan_no_segments", day=str(day), run_id=run.run_id)
    # one query: the predictions (in their stored order) with the other per-customer results joined on
    frame = ws.read_result("predictions", run_id=run.run_id)
    frame = frame.mutate(_row=ibis.row_number())
    rfm = ws.read_result("segments_rfm", run_id=rfm_run.run_id).rename({v: k for k, v in _RFM.items()})
    frame = _join(frame, rfm)
    missing: dict[str, str] = {}
    cpm_run = _same_day(all_runs, "segments_cpm", day)
    if cpm_run is not None:
        cpm = ws.read_result("segments_cpm", run_id=cpm_run.run_id)
        frame = _join(frame, cpm.select("customer_key", *_CPM).rename({v: k for k, v in _CPM.items()}))
    else:
        missing.update({c: f"`ltv segments --kind cpm --as-of {day}`" for c in _CPM.values()})
    pts_run = _same_day(all_runs, "point_dependence", day)
    if pts_run is not None:
        pts = ws.read_result("point_dependence", run_id=pts_run.run_id)
        frame = _join(frame, pts.select("customer_key", *[c for c in _POINTS if c in pts.columns]))
    else:
        missing.update({c: f"`ltv points --as-of {day}`" for c in _POINTS})
    recs = False
    k_run = _same_day(all_runs, "recommendations", day)
    if k_run is not None:
        rt = ws.read_result("recommendations", run_id=k_run.run_id)
        # the first three items of each list, as columns _rec1.._rec3 (for the messages' context)
        top = rt.filter(rt["rank"] <= 3).group_by("customer_key").aggregate(
            **{f"_rec{r}": rt["sku"].cast("string").max(where=rt["rank"] == r) for r in (1, 2, 3)})
        frame = _join(frame, top)
        recs = True
    frame = frame.order_by("_row").drop("_row")
    frame = frame.to_pyarrow().to_pandas(date_as_object=False)
    golden_start = None
    g_run = _same_day(all_runs, "golden_summary", day)
    if g_run is not None:
        g = ws.read_result("golden_summary", run_id=g_run.run_id).to_pandas()
        g = g[pd.to_numeric(g["golden_start"], errors="coerce").notna()]
        if len(g):
            w = pd.to_numeric(g["repeaters"], errors="coerce").fillna(0).to_numpy(float) + 1e-9
            golden_start = float(np.round(np.average(g["golden_start"].astype(float), weights=w)))
    rep = None
    r_run = _same_day(all_runs, "replenishment", day)
    if r_run is not None:
        rep = ws.read_result("replenishment", run_id=r_run.run_id).to_pyarrow().to_pandas(date_as_object=False)
    return Inputs(run, frame, golden_start, rep, recs, missing)


# -- conditions ---------------------------------------------------------------------------------------------------

def _days(values: pd.Series) -> np.ndarray:
    """Dates as day numbers (float, NaN when missing)."""
    s = pd.to_datetime(values, errors="coerce")
    out = s.to_numpy(dtype="datetime64[D]").astype("int64").astype(float)
    out[s.isna().to_numpy()] = np.nan
    return out


def _day(d: dt.date) -> int:
    return int(np.datetime64(d, "D").astype("int64"))


def audience_mask(scenario: Scenario, frame: pd.DataFrame, missing: dict[str, str] | None = None) -> np.ndarray:
    """Rows of ``frame`` meeting every audience condition; an unknown column fails with one sentence."""
    mask = np.ones(len(frame), dtype=bool)
    for i, cond in enumerate(scenario.audience):
        where = scenario.where(f"audience[{i}]")
        if cond.column not in frame.columns or cond.column.startswith("_"):  # _rec1.. are the plan's own
            if missing and cond.column in missing:
                raise ScenarioError(key="err.audience_column_not_stored", where=where, column=repr(cond.column),
                                    command=missing[cond.column])
            known = ", ".join(sorted(c for c in frame.columns if c != "customer_key" and not c.startswith("_")))
            raise ScenarioError(key="err.audience_unknown_column", where=where, column=repr(cond.column), known=known)
        col = frame[cond.column]
        values = cond.value if isinstance(cond.value, list) else [cond.value]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        is_date = pd.api.types.is_datetime64_any_dtype(col) or (
            col.dtype == object and col.dropna().map(lambda v: isinstance(v, dt.date)).all() and col.notna().any())
        try:
            if is_date:
                if not all(isinstance(v, dt.date) for v in values):
                    raise TypeError("dates")
                left: Any = _days(col)
                right = [_day(v) for v in values]
            elif numeric:
                if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                    raise TypeError("numbers")
                left = pd.to_numeric(col, errors="coerce").to_numpy(float)
                right = [float(v) for v in values]
            elif pd.api.types.is_bool_dtype(col):
                if not all(isinstance(v, bool) for v in values):
                    raise TypeError("true/false")
                left = col.to_numpy()
                right = values
            else:
                if not all(isinstance(v, str) for v in values):
                    raise TypeError("text")
                right = list(values)
                left = col if cond.op in ("in", "not in", "==", "!=") else col.astype(object).to_numpy()
        except TypeError as exc:
            raise ScenarioError(key=f"err.audience_compare_{exc.args[0].replace('/', '_')}", where=where,
                                column=repr(cond.column), condition=repr(cond.text)) from None
        op = cond.op
        with np.errstate(invalid="ignore"):
            if isinstance(left, pd.Series):  # text, equality or membership: on the column as it is stored
                valid = left.notna().to_numpy(dtype=bool)
                hit = left.isin(right if op in ("in", "not in") else right[:1]).to_numpy(dtype=bool) & valid
                m = hit if op in ("in", "==") else ~hit & valid
            elif op in ("in", "not in"):
                hit = pd.Series(left).isin(right).to_numpy()
                m = hit if op == "in" else ~hit & pd.notna(left)
            else:
                r = right[0]
                ops = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
                       ">=": np.greater_equal}
                if isinstance(left, np.ndarray) and left.dtype == object:
                    valid = pd.notna(left)
                    m = np.zeros(len(left), dtype=bool)
                    if op in ("==", "!="):
                        m[valid] = ops[op](left[valid], r)
                    else:
                        try:
                            m[valid] = ops[op](left[valid].astype(str), r)
                        except TypeError:
                            raise ScenarioError(key="err.audience_order_text", where=where, condition=repr(cond.text)) from None
                else:
                    m = ops[op](left, r)
                    m &= ~pd.isna(left)
        mask &= np.asarray(m, dtype=bool)
    return mask


# -- triggers -----------------------------------------------------------------------------------------------------

def _candidates(scenario: Scenario, inputs: Inputs, plan_day: int,
                audience: np.ndarray | None = None) -> tuple[pd.DataFrame, str | None]:
    """Trigger candidates: ``pos`` (row of the customer frame), ``occurrence``, ``due`` (day number), ``sku``.
    ``audience`` (the rows meeting the audience conditions), when given, may leave out rows outside it."""
    frame = inputs.customers
    trig = scenario.trigger
    window = scenario.expires_after_days
    empty = pd.DataFrame({"pos": np.array([], dtype=np.int64), "occurrence": np.array([], dtype=object),
                          "due": np.array([], dtype=float), "sku": np.array([], dtype=object)})

    def fire(due: np.ndarray) -> np.ndarray:
        return (due <= plan_day) & (plan_day < due + window)

    if trig.kind == "segment":
        pos = np.arange(len(frame)) if audience is None else np.flatnonzero(audience)
        occ = np.full(len(pos), f"on:{np.datetime64(plan_day, 'D')}", dtype=object)
        return pd.DataFrame({"pos": pos, "occurrence": occ, "due": float(plan_day), "sku": None}), None
    if trig.kind in ("after_first_order", "golden_time"):
        first = _days(frame["first_order_date"])
        if trig.kind == "after_first_order":
            due = first + float(trig.days or 0)
        else:
            if inputs.golden_start is None:
                return empty, (f"the golden time is not stored as of {inputs.run.as_of}; run "
                               f"`ltv f2 --golden --as-of {inputs.run.as_of}`")
            due = first + inputs.golden_start - trig.lead_days
        ok = np.isfinite(due) & fire(np.nan_to_num(due, nan=-1e9))
        pos = np.flatnonzero(ok)
        occ = np.asarray(["first:" + str(np.datetime64(int(d), "D")) for d in first[pos]], dtype=object)
        return pd.DataFrame({"pos": pos, "occurrence": occ, "due": due[pos], "sku": None}), None
    if trig.kind == "next_purchase_due":
        nxt = _days(frame["expected_next_purchase_date"])
        last = _days(frame["last_order_date"])
        due = nxt - trig.lead_days
        ok = np.isfinite(due) & np.isfinite(last) & fire(np.nan_to_num(due, nan=-1e9))
        pos = np.flatnonzero(ok)
        occ = np.asarray(["after:" + str(np.datetime64(int(d), "D")) for d in last[pos]], dtype=object)
        return pd.DataFrame({"pos": pos, "occurrence": occ, "due": nxt[pos], "sku": None}), None
    # replenishment_due
    rep = inputs.replenishment
    if rep is None:
        return empty, (f"replenishment is not stored as of {inputs.run.as_of}; run "
                       f"`ltv recommend --due-soon --as-of {inputs.run.as_of}`")
    due_date = _days(rep["due_date"])
    due = due_date - trig.lead_days
    ok = np.isfinite(due) & fire(np.nan_to_num(due, nan=-1e9))
    rep = rep[ok]
    pos = inputs.key_index().get_indexer(pd.Index(rep["customer_key"].to_numpy(dtype=object)))
    keep = pos >= 0
    rep, pos = rep[keep], pos[keep]
    last = pd.to_datetime(rep["last_purchase"]).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    occ = rep["sku"].astype(str).to_numpy(dtype=object) + "@" + last
    order = -pd.to_numeric(rep.get("p_within", pd.Series(0.0, index=rep.index)), errors="coerce").fillna(0)
    out = pd.DataFrame({"pos": pos, "occurrence": occ, "due": due_date[ok][keep], "sku": rep["sku"].to_numpy(),
                        "_order": order.to_numpy()})
    return out.sort_values(["_order"], kind="stable").drop(columns="_order").reset_index(drop=True), None


# -- the plan -----------------------------------------------------------------------------------------------------

def _send_time(now_local: dt.datetime, quiet: str) -> dt.datetime:
    return quiet_hours_shift(now_local.replace(tzinfo=None), quiet)


def _positions(frame_keys: pd.Index, keys: Any) -> np.ndarray:
    """Positions in the customer frame of ``keys`` (-1 when absent)."""
    if len(keys) == 0:
        return np.array([], dtype=np.int64)
    return frame_keys.get_indexer(pd.Index(np.asarray(keys, dtype=object)))


def _flags(n: int, frame_keys: pd.Index, keys: Any) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    pos = _positions(frame_keys, keys)
    out[pos[pos >= 0]] = True
    return out


def _date_json(values: Any) -> pa.Array:
    """``"YYYY-MM-DD"`` per value (JSON text), ``null`` where it is missing."""
    d = pd.to_datetime(pd.Series(values), errors="coerce").to_numpy(dtype="datetime64[D]")
    text = pc.cast(pa.array(d, pa.date32(), from_pandas=True), pa.string())
    return pc.fill_null(pc.binary_join_element_wise('"', text, '"', ""), "null")


def _lookup(values: np.ndarray, table: dict[Any, str], missing: str) -> pa.Array:
    """``table[v]`` per value (``missing`` for None or a value not in it), via the distinct values."""
    codes, uniq = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    texts = np.asarray([table.get(u, missing) for u in uniq] + [missing], dtype=object)
    return pa.array(texts[codes], pa.string())  # code -1 (missing) takes the last entry


_CONTEXT_COLUMNS = ("orders", "first_order_date", "last_order_date", "segment", "expected_next_purchase_date")


def _arrow_column(col: pd.Series) -> pa.Array:
    """A column of the customer frame as one Arrow array (no copy for Arrow-backed strings, numbers and times;
    NaN is null)."""
    arr = pa.array(col, from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _date_json_arrow(arr: pa.Array) -> pa.Array:
    """:func:`_date_json` of an Arrow column of dates or times (other types go through pandas)."""
    if pa.types.is_timestamp(arr.type) and arr.type.tz is None or pa.types.is_date64(arr.type):
        arr = pc.cast(arr, pa.date32())
    if not pa.types.is_date32(arr.type):
        return _date_json(arr.to_pandas())
    return pc.fill_null(pc.binary_join_element_wise('"', pc.cast(arr, pa.string()), '"', ""), "null")


def _count_json_arrow(arr: pa.Array) -> pa.Array:
    """A count as JSON (``null`` where it is missing): integers as they are, other numbers truncated."""
    if pa.types.is_integer(arr.type):
        return pc.fill_null(pc.cast(arr, pa.string()), "null")
    values = pd.to_numeric(arr.to_pandas(), errors="coerce").to_numpy(dtype=float)
    known = np.isfinite(values)
    return pc.fill_null(pc.cast(pa.array(np.where(known, values, 0).astype(np.int64), mask=~known), pa.string()),
                        "null")


def _json_str_arrow(arr: pa.Array) -> pa.Array:
    """JSON text of each value (strings quoted and escaped, missing → null), through the distinct values."""
    uniq = pc.unique(arr.drop_null())
    texts = pa.array([json.dumps(v if isinstance(v, str) else str(v), ensure_ascii=False)
                      for v in uniq.to_pylist()], pa.string())
    return pc.fill_null(texts.take(pc.index_in(arr, value_set=uniq)), "null")


def _context_builder(inputs: Inputs, ws: Workspace, skus: np.ndarray) -> Callable[..., np.ndarray]:
    """A function ``(pos, sku, due) -> JSON context per planned row`` (``pos``: row of the customer frame; the
    trigger's ``sku`` and ``due`` day): dates, counts, the trigger's item and up to three recommended items.
    Built column-wise in Arrow (distinct values encoded once). Product names (from the order lines) of ``skus``
    and of every recommended item are read here, once: the function itself reads no table, so it may run in
    another thread while this one writes."""
    frame = inputs.customers
    cols = {c: _arrow_column(frame[c]) for c in _CONTEXT_COLUMNS if c in frame.columns}
    rec_all = [pc.cast(_arrow_column(frame[f"_rec{r}"]), pa.string()) for r in (1, 2, 3)] \
        if inputs.recommendations else []
    wanted = set(pd.unique(pd.Series(np.asarray(skus, dtype=object), dtype=object).dropna().astype(str)))
    for col in rec_all:
        wanted.update(pc.unique(col.drop_null()).to_pylist())
    names = {k: (v[0] or k) for k, v in ws.product_names(sorted(wanted)).items()} if wanted else {}
    item_json = {s: json.dumps({"sku": s, "name": names.get(s, s)}, ensure_ascii=False) for s in wanted}
    skus_known = pa.array(sorted(wanted), pa.string())
    items_known = pa.array([item_json[s] for s in skus_known.to_pylist()], pa.string())

    def item_texts(values: pa.Array, missing: str) -> pa.Array:
        return pc.fill_null(items_known.take(pc.index_in(values, value_set=skus_known)), missing)

    def build(pos: np.ndarray, sku: np.ndarray, due: np.ndarray) -> np.ndarray:
        n = len(pos)
        at = pa.array(np.asarray(pos, dtype=np.int64))

        def take(col: str) -> pa.Array:
            return cols[col].take(at) if col in cols else pa.nulls(n)

        due = np.asarray(due, dtype=float)
        due_d = np.where(np.isfinite(due), due, 0).astype("int64").astype("datetime64[D]")
        due_json = _date_json(np.where(np.isfinite(due), due_d, np.datetime64("NaT")))
        try:
            item = item_texts(pa.array(np.asarray(sku, dtype=object), pa.string(), from_pandas=True), "null")
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # SKUs that are not text: looked up one by one
            item = _lookup(np.asarray(sku, dtype=object), item_json, "null")
        if rec_all:
            r = [item_texts(c.take(at), "") for c in rec_all]
            e = [pc.not_equal(x, "") for x in r]
            sep2 = pc.if_else(pc.and_(e[0], e[1]), ",", "")
            sep3 = pc.if_else(pc.and_(pc.or_(e[0], e[1]), e[2]), ",", "")
            items = pc.binary_join_element_wise("[", r[0], sep2, r[1], sep3, r[2], "]", "")
        else:
            items = pa.array(np.full(n, "[]", dtype=object), pa.string())
        parts = ['{"first_order_date":', _date_json_arrow(take("first_order_date")),
                 ',"last_order_date":', _date_json_arrow(take("last_order_date")),
                 ',"orders":', _count_json_arrow(take("orders")), ',"segment":', _json_str_arrow(take("segment")),
                 ',"expected_next_purchase_date":', _date_json_arrow(take("expected_next_purchase_date")),
                 ',"due_date":', due_json, ',"item":', item, ',"items":', items, "}"]
        return pc.binary_join_element_wise(*parts, "").to_numpy(zero_copy_only=False)

    return build


def _context_rows(inputs: Inputs, ws: Workspace, pos: np.ndarray, sku: np.ndarray, due: np.ndarray) -> np.ndarray:
    """JSON context per planned row (see :func:`_context_builder`)."""
    return _context_builder(inputs, ws, sku)(pos, sku, due)


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Automatic garbage collection off while a plan makes its hundreds of thousands of short-lived rows: each
    collection of the oldest generation walks every object of the process (about a second of a plan of a million
    customers). Reference counting still frees the rows; the previous setting comes back afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def plan(ws: Workspace, store: OpsStore, scenarios: list[Scenario], *, as_of: dt.date | None = None,
         now: dt.datetime | None = None, run_id: int | None = None, dry_run: bool = False,
         explicit: bool = False) -> PlanReport:
    """Plan ``scenarios`` as of ``as_of`` (default: today in the shop's time zone) into the outbox.

    Parameters
    ----------
    ws
        The workspace whose stored results are read.
    store
        The ops store (outbox, contacts, consent).
    now
        The current time (aware, or naive in the shop's zone); with ``as_of`` its clock time is used on that day.
    run_id
        Plan from this predictions run instead of the latest one as of ``as_of``.
    dry_run
        Count everything, write nothing.
    explicit
        The scenarios were named by the user: a scenario whose results are missing is an error, not a note.
    """
    import time

    t0 = time.perf_counter()
    lap = [t0]
    timings: dict[str, float] = {}

    def tick(name: str) -> None:
        now_ = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now_ - lap[0]
        lap[0] = now_

    settings = ws.settings()
    zone = ZoneInfo(ws.timezone)
    if now is None:
        now_local = dt.datetime.now(zone)
    elif now.tzinfo is None:
        now_local = now.replace(tzinfo=zone)
    else:
        now_local = now.astimezone(zone)
    if as_of is not None:
        now_local = dt.datetime.combine(as_of, now_local.timetz())
    day = now_local.date()
    send_local = _send_time(now_local, settings.crm_quiet_hours)
    send_utc = send_local.replace(tzinfo=zone).astimezone(dt.timezone.utc).replace(tzinfo=None)
    planned_at = utcnow()

    # the contact and consent flags are read from the ops store while the workspace is read and the candidates
    # found (both drivers leave the interpreter while they work)
    with _collection_paused(), \
            Ahead((consent_frame(store) for _ in range(1)), depth=1, name="ltvkit-consent") as consent_ahead:
        inputs = read_inputs(ws, day, run_id=run_id)
        tick("read")
        frame = inputs.customers
        n_customers = len(frame)
        frame_keys = inputs.key_index()
        secret = ws.identity_secret()
        plan_day = _day(day)
        channels = set(available_channels())
        lists = staff_list_channels()
        report = PlanReport(day, inputs.run.as_of or day, inputs.run.run_id, send_local, dry_run, {},
                            customers=n_customers)

        # 1. candidates per scenario; every validation error surfaces here, before anything is written
        parts = []
        disabled = set() if explicit else disabled_scenarios(store)
        for s in scenarios:
            report.scenarios[s.name] = ScenarioCounts()
            if s.name in disabled:  # switched off on the dashboard: planned only when named
                report.scenarios[s.name].not_planned = "disabled"
                continue
            mask = audience_mask(s, frame, inputs.missing)
            for lang in s.template:
                render(s, lang, sample_context(s, settings.crm_shop_name))
            cand, note = _candidates(s, inputs, plan_day, mask)
            if note is not None:
                if explicit:
                    raise MissingDataError(key="err.plan_scenario_missing_data", name=s.name, note=str(note))
                report.scenarios[s.name].not_planned = note
                continue
            if len(cand):
                cand = cand[mask[cand["pos"].to_numpy()]]
            report.scenarios[s.name].eligible = len(cand)
            if len(cand):
                parts.append(cand.assign(scenario=s.name, priority=s.priority))
        tick('candidates')
        if not parts:
            report.seconds = time.perf_counter() - t0
            return report
        cand = pd.concat(parts, ignore_index=True)
        pos = cand["pos"].to_numpy()
        names = cand["scenario"].to_numpy(dtype=object)
        keys_all = frame_keys.to_numpy()
        ckeys = keys_all[pos]
        occ = cand["occurrence"].to_numpy(dtype=object)
        skip = np.full(len(cand), None, dtype=object)

        def mark(mask: np.ndarray, reason: str) -> None:
            skip[mask & (skip == None)] = reason  # noqa: E711

        by_name = {s.name: s for s in scenarios}
        groups = {name: np.flatnonzero(names == name) for name in by_name if (names == name).any()}

        # 2. already planned occurrences; once_per_days; one row per scenario and customer in a plan
        keys = np.empty(len(cand), dtype=object)
        for name, idx in groups.items():
            keys[idx] = _keys(secret, name, ckeys[idx], occ[idx])
        tick('keys')
        with store.engine.connect() as conn:
            existing = {r[0] for r in conn.execute(sa.select(outbox.c.key).where(outbox.c.scenario.in_(list(groups))))}
            recent: dict[str, np.ndarray] = {}
            for name in groups:
                s = by_name[name]
                if s.trigger.kind == "segment" and s.trigger.once_per_days:
                    lo = send_utc - dt.timedelta(days=s.trigger.once_per_days)
                    recent[name] = _flags(n_customers, frame_keys, [r[0] for r in conn.execute(
                        sa.select(outbox.c.customer_key).where(outbox.c.scenario == name, outbox.c.send_at > lo,
                                                               outbox.c.state.notin_(NOT_COUNTED)))])
            lo = send_utc - dt.timedelta(days=settings.crm_frequency_days)
            hi = send_utc + dt.timedelta(days=settings.crm_frequency_days)
            used_rows = conn.execute(
                sa.select(outbox.c.customer_key, sa.func.count()).where(
                    outbox.c.send_at > lo, outbox.c.send_at < hi, outbox.c.state.notin_(NOT_COUNTED))
                .group_by(outbox.c.customer_key)).all()
        tick('ops_reads')
        if existing:
            mark(np.fromiter((k in existing for k in keys.tolist()), dtype=bool, count=len(keys)), "already_planned")
        for name, flags in recent.items():
            mark((names == name) & flags[pos], "once_per_days")
        mark(pd.DataFrame({"s": names, "p": pos}).duplicated().to_numpy() & (skip == None), "one_per_plan")  # noqa: E711

        tick('dedupe')
        # 3. channel: the first in the scenario's order with an address, consent and reachability
        c, o, u = next(consent_ahead)
        has = {"line": _flags(n_customers, frame_keys, c.loc[c["has_line"].astype(bool), "customer_key"]),
               "email": _flags(n_customers, frame_keys, c.loc[c["has_email"].astype(bool), "customer_key"])}
        out_all = _flags(n_customers, frame_keys, o.loc[o["channel"] == "all", "customer_key"])
        chosen = np.full(len(cand), None, dtype=object)
        reason = np.full(len(cand), "no_contact", dtype=object)
        reason[out_all[pos]] = "opted_out"
        for name, idx in groups.items():
            p = pos[idx]
            ch_sub = chosen[idx]
            why = reason[idx]
            for ch in by_name[name].channels:
                if ch not in channels or (ch not in has and ch not in lists):
                    continue
                # a list for the shop's staff (mall messages) needs no address
                addr = np.ones(len(p), dtype=bool) if ch in lists else has[ch][p]
                opted = _flags(n_customers, frame_keys, o.loc[o["channel"] == ch, "customer_key"])[p] | out_all[p]
                unr = _flags(n_customers, frame_keys, u.loc[u["channel"] == ch, "customer_key"])[p]
                ok = addr & ~opted & ~unr & (ch_sub == None)  # noqa: E711
                ch_sub[ok] = ch
                why[addr & opted & (why == "no_contact")] = "opted_out"
                why[addr & ~opted & unr & (why == "no_contact")] = "unreachable"
            chosen[idx] = ch_sub
            reason[idx] = why
        none = (chosen == None) & (skip == None)  # noqa: E711
        skip[none] = reason[none]

        tick('channels')
        # 4. frequency cap: higher priority first; rows already in the outbox use their slots
        used = np.zeros(n_customers, dtype=np.int64)
        if used_rows:
            up = _positions(frame_keys, [r[0] for r in used_rows])
            cnt = np.asarray([int(r[1]) for r in used_rows])
            used[up[up >= 0]] = cnt[up >= 0]
        live = np.flatnonzero(skip == None)  # noqa: E711
        prio = cand["priority"].to_numpy()
        order = live[np.lexsort((names[live].astype(str), -prio[live], pos[live]))]
        sp = pos[order]
        start = np.r_[True, sp[1:] != sp[:-1]] if len(sp) else np.array([], dtype=bool)
        grp = np.cumsum(start) - 1
        first_idx = np.flatnonzero(start)
        rank = np.arange(len(sp)) - first_idx[grp] if len(sp) else np.array([], dtype=np.int64)
        capped = order[rank + used[sp] >= settings.crm_frequency_cap]
        skip[capped] = "frequency_cap"

        tick('cap')
        # 5. holdout by keyed hash
        final = np.flatnonzero(skip == None)  # noqa: E711
        holdout = np.zeros(len(cand), dtype=bool)
        for name, idx in groups.items():
            s = by_name[name]
            share = s.holdout if s.holdout is not None else settings.crm_holdout_share
            sel = idx[skip[idx] == None]  # noqa: E711
            if len(sel):
                holdout[sel] = holdout_draw(secret, name, ckeys[sel].tolist()) < share
        for name, counts in report.scenarios.items():
            idx = groups.get(name, np.array([], dtype=np.int64))
            sel = idx[skip[idx] == None]  # noqa: E711
            counts.holdout = int(holdout[sel].sum())
            counts.planned = len(sel) - counts.holdout
            vals, cnts = np.unique(skip[idx][skip[idx] != None].astype(str), return_counts=True)  # noqa: E711
            counts.skipped = {str(v): int(k) for v, k in zip(vals, cnts, strict=False)}

        tick('holdout')
        if not dry_run and len(final):
            order = final[np.argsort(keys[final].astype(str))]  # key order: B-tree friendly bulk insert
            sku_o, due_o, pos_o = cand["sku"].to_numpy(dtype=object)[order], cand["due"].to_numpy(dtype=float)[order], \
                pos[order]
            context_of = _context_builder(inputs, ws, sku_o)
            tick('context')
            columns = ("key", "scenario", "customer_key", "occurrence", "channel", "state", "holdout", "priority",
                       "context", "expires_at")
            val = store.sql_value
            expires = {s.name: val(outbox, "expires_at", send_utc + dt.timedelta(days=s.expires_after_days))
                       for s in scenarios}
            h = holdout[order]
            cols = [keys[order], names[order], ckeys[order], occ[order], chosen[order], np.where(h, "holdout", "planned"),
                    np.where(h, val(outbox, "holdout", True), val(outbox, "holdout", False)),
                    cand["priority"].to_numpy()[order]]
            # the same in every row: given once (literals of the statement on SQLite)
            constants = {"lang": settings.crm_lang, "run_id": inputs.run.run_id, "as_of": val(outbox, "as_of", day),
                         "planned_at": val(outbox, "planned_at", planned_at), "send_at": val(outbox, "send_at", send_utc),
                         "next_attempt_at": val(outbox, "next_attempt_at", send_utc), "attempts": 0}

            def batches(size: int = 20_000) -> Iterator[list[tuple[Any, ...]]]:
                # made, contexts included, while the previous batch is written (bulk_insert_ignore runs this in a
                # thread; the database releases the interpreter while it works)
                for i in range(0, len(order), size):
                    k, sc, ck, oc, ch, st, ho, pr = (c[i:i + size].tolist() for c in cols)
                    cx = context_of(pos_o[i:i + size], sku_o[i:i + size], due_o[i:i + size]).tolist()
                    yield list(zip(k, sc, ck, oc, ch, st, ho, pr, cx, [expires[x] for x in sc], strict=True))
            tick('rows')
            store.bulk_insert_ignore(outbox, columns, batches(), conflict="key", converted=True, constants=constants)
        tick('insert')
        report.seconds = time.perf_counter() - t0
        report.timings = timings
        return report


def preview(ws: Workspace, store: OpsStore, scenario: Scenario, *, as_of: dt.date | None = None,
            samples: int = 3, lang: str | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """What planning ``scenario`` now would do, writing nothing: the counts of a dry run (eligible, planned,
    holdout, skipped) and ``samples`` messages rendered for the first eligible customers, as the sender would
    (with the shop name and message language of ``settings``, default: the workspace's)."""
    report = plan(ws, store, [scenario], as_of=as_of, dry_run=True, explicit=True)
    counts = report.scenarios[scenario.name].to_dict()
    settings = settings or ws.settings()
    lang = lang or settings.crm_lang
    inputs = read_inputs(ws, report.as_of, run_id=report.run_id)
    frame_keys = pd.Index(inputs.customers["customer_key"].to_numpy(dtype=object))
    cand, _ = _candidates(scenario, inputs, _day(report.as_of))
    if len(cand):
        cand = cand[audience_mask(scenario, inputs.customers, inputs.missing)[cand["pos"].to_numpy()]]
    rows = cand.head(samples).reset_index(drop=True)
    out = []
    if len(rows):
        rows = rows.assign(customer_key=frame_keys.to_numpy()[rows["pos"].to_numpy()])
        contexts = _context_rows(inputs, ws, rows["pos"].to_numpy(), rows["sku"].to_numpy(dtype=object),
                                 rows["due"].to_numpy(dtype=float))
        for key, ctx in zip(rows["customer_key"], contexts, strict=True):
            context = {**json.loads(ctx), "shop": settings.crm_shop_name, "scenario": scenario.name}
            out.append({"customer_key": key, "lang": lang, "text": render(scenario, lang, context)})
    return {"scenario": scenario.name, "as_of": report.as_of.isoformat(), "run_id": report.run_id,
            "counts": counts, "samples": out}

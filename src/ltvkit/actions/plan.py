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
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..exceptions import MissingDataError, ScenarioError
from ..store import Run, Workspace
from ._ops import OpsStore, outbox, utcnow
from .channels import available_channels, staff_list_channels
from .contacts import consent_frame
from .scenarios import Scenario, render, sample_context

__all__ = ["PlanReport", "holdout_draw", "idempotency_key", "plan", "quiet_hours_shift"]

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

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "results_as_of": self.results_as_of.isoformat(),
                "run_id": self.run_id, "send_at": self.send_at.isoformat(timespec="minutes"),
                "dry_run": self.dry_run, "customers": self.customers, "seconds": round(self.seconds, 3),
                "scenarios": {k: v.to_dict() for k, v in self.scenarios.items()}}


# -- hashing ----------------------------------------------------------------------------------------------------

def idempotency_key(secret: bytes, scenario: str, customer_key: str, occurrence: str) -> str:
    """The message's idempotency key: a keyed hash of (scenario, customer, occurrence) shaped as a UUID."""
    digest = hashlib.blake2b(f"{scenario}\x1f{customer_key}\x1f{occurrence}".encode(), digest_size=16,
                             key=secret[:64], person=b"ltv-outbox-key").digest()
    return str(uuid.UUID(bytes=digest, version=4))


def holdout_draw(secret: bytes, scenario: str, customer_keys: Iterable[str]) -> np.ndarray:
    """Uniform [0, 1) per customer from a keyed hash of (scenario, customer): stable across runs and occurrences,
    independent between scenarios. A customer is held out when the draw is below the share."""
    key = secret[:64]
    prefix = scenario.encode() + b"\x1f"
    values = [int.from_bytes(hashlib.blake2b(prefix + c.encode(), digest_size=8, key=key,
                                             person=b"ltv-holdout").digest(), "big")
              for c in customer_keys]
    return np.asarray(values, dtype=np.float64) / 2.0 ** 64


def _keys(secret: bytes, scenario: str, customers: np.ndarray, occurrences: np.ndarray) -> np.ndarray:
    key = secret[:64]
    prefix = scenario + "\x1f"
    out = []
    for c, o in zip(customers.tolist(), occurrences.tolist()):
        d = hashlib.blake2b(f"{prefix}{c}\x1f{o}".encode(), digest_size=16, key=key,
                            person=b"ltv-outbox-key").digest()
        out.append(str(uuid.UUID(bytes=d, version=4)))
    return np.asarray(out, dtype=object)


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

def _latest_run(ws: Workspace, name: str, as_of: dt.date, run_id: int | None = None) -> Run | None:
    result = "result_" + name
    runs = [r for r in ws.runs() if r.result == result]
    if run_id is not None:
        return next((r for r in runs if r.run_id == run_id), None)
    runs = [r for r in runs if r.as_of is not None and r.as_of <= as_of]
    return max(runs, key=lambda r: (r.as_of, r.run_id)) if runs else None


def _same_day(ws: Workspace, name: str, day: dt.date) -> Run | None:
    runs = [r for r in ws.runs() if r.result == "result_" + name and r.as_of == day]
    return max(runs, key=lambda r: r.run_id) if runs else None


@dataclass
class Inputs:
    """The per-customer results of one pipeline run (the predictions run and results as of the same day)."""

    run: Run
    customers: pd.DataFrame
    golden_start: float | None
    replenishment: pd.DataFrame | None
    recommendations: pd.DataFrame | None
    missing: dict[str, str]


_RFM = {"first_date": "first_order_date", "last_date": "last_order_date"}
_CPM = {"segment": "cpm_segment", "cpm_class": "cpm_class", "cpm_state": "cpm_state"}
_POINTS = ("point_dependence_score", "point_segment", "campaign_share", "points_share", "discount_depth",
           "first_in_campaign")


def read_inputs(ws: Workspace, as_of: dt.date, *, run_id: int | None = None) -> Inputs:
    """Read what planning needs from the workspace: predictions (the run recorded on each message) and the
    segments, point dependence, golden time, replenishment and recommendations stored as of the same day."""
    run = _latest_run(ws, "predictions", as_of, run_id)
    if run is None:
        if run_id is not None:
            raise MissingDataError(f"Run {run_id} stored no predictions; see `ltv runs list --kind predictions`.")
        raise MissingDataError(f"No predictions are stored as of {as_of} or earlier; run `ltv predict` (and "
                               "`ltv segments`) first.")
    day = run.as_of
    assert day is not None
    rfm_run = _same_day(ws, "segments_rfm", day)
    if rfm_run is None:
        raise MissingDataError(f"Planning reads RFM segments as of {day} (the day of predictions run "
                               f"{run.run_id}); run `ltv segments --as-of {day}` first.")
    t = ws.read_result("predictions", run_id=run.run_id)
    frame = t.to_pyarrow().to_pandas()
    rfm = ws.read_result("segments_rfm", run_id=rfm_run.run_id).to_pyarrow().to_pandas()
    rfm = rfm.rename(columns=_RFM)
    frame = frame.merge(rfm, on="customer_key", how="left")
    missing: dict[str, str] = {}
    cpm_run = _same_day(ws, "segments_cpm", day)
    if cpm_run is not None:
        cpm = ws.read_result("segments_cpm", run_id=cpm_run.run_id).to_pyarrow().to_pandas()
        frame = frame.merge(cpm[["customer_key", *_CPM]].rename(columns=_CPM), on="customer_key", how="left")
    else:
        missing.update({c: f"`ltv segments --kind cpm --as-of {day}`" for c in _CPM.values()})
    pts_run = _same_day(ws, "point_dependence", day)
    if pts_run is not None:
        pts = ws.read_result("point_dependence", run_id=pts_run.run_id).to_pyarrow().to_pandas()
        frame = frame.merge(pts[["customer_key", *[c for c in _POINTS if c in pts.columns]]], on="customer_key",
                            how="left")
    else:
        missing.update({c: f"`ltv points --as-of {day}`" for c in _POINTS})
    golden_start = None
    g_run = _same_day(ws, "golden_summary", day)
    if g_run is not None:
        g = ws.read_result("golden_summary", run_id=g_run.run_id).to_pandas()
        g = g[pd.to_numeric(g["golden_start"], errors="coerce").notna()]
        if len(g):
            w = pd.to_numeric(g["repeaters"], errors="coerce").fillna(0).to_numpy(float) + 1e-9
            golden_start = float(np.round(np.average(g["golden_start"].astype(float), weights=w)))
    rep = None
    r_run = _same_day(ws, "replenishment", day)
    if r_run is not None:
        rep = ws.read_result("replenishment", run_id=r_run.run_id).to_pyarrow().to_pandas()
    recs = None
    k_run = _same_day(ws, "recommendations", day)
    if k_run is not None:
        rt = ws.read_result("recommendations", run_id=k_run.run_id)
        recs = rt.filter(rt["rank"] <= 3).select("customer_key", "rank", "sku").to_pyarrow().to_pandas()
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
        if cond.column not in frame.columns:
            if missing and cond.column in missing:
                raise ScenarioError(f"Scenario file {where}: column {cond.column!r} is not stored for this run; "
                                    f"run {missing[cond.column]} first.")
            known = ", ".join(sorted(c for c in frame.columns if c != "customer_key"))
            raise ScenarioError(f"Scenario file {where}: unknown column {cond.column!r}; audience columns are "
                                f"{known}.")
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
                left = col.astype(object).to_numpy()
                right = [str(v) if not isinstance(v, str) else v for v in values]
        except TypeError as exc:
            raise ScenarioError(f"Scenario file {where}: column {cond.column!r} holds {exc.args[0]}, so "
                                f"{cond.text!r} cannot compare it.") from None
        op = cond.op
        with np.errstate(invalid="ignore"):
            if op in ("in", "not in"):
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
                            raise ScenarioError(f"Scenario file {where}: {cond.text!r} cannot order text.") from None
                else:
                    m = ops[op](left, r)
                    m &= ~pd.isna(left)
        mask &= np.asarray(m, dtype=bool)
    return mask


# -- triggers -----------------------------------------------------------------------------------------------------

def _candidates(scenario: Scenario, inputs: Inputs, plan_day: int) -> tuple[pd.DataFrame, str | None]:
    """Trigger candidates: ``pos`` (row of the customer frame), ``occurrence``, ``due`` (day number), ``sku``."""
    frame = inputs.customers
    trig = scenario.trigger
    window = scenario.expires_after_days
    empty = pd.DataFrame({"pos": np.array([], dtype=np.int64), "occurrence": np.array([], dtype=object),
                          "due": np.array([], dtype=float), "sku": np.array([], dtype=object)})

    def fire(due: np.ndarray) -> np.ndarray:
        return (due <= plan_day) & (plan_day < due + window)

    if trig.kind == "segment":
        pos = np.arange(len(frame))
        occ = np.full(len(frame), f"on:{np.datetime64(plan_day, 'D')}", dtype=object)
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
    index = pd.Index(frame["customer_key"])
    pos = index.get_indexer(rep["customer_key"])
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


def _context_rows(inputs: Inputs, ws: Workspace, rows: pd.DataFrame) -> list[str]:
    """JSON context per planned row: dates, counts, the trigger's item and up to three recommended items.
    Product names come from the order lines, never contact data."""
    frame = inputs.customers
    pos = rows["pos"].to_numpy()
    keys = frame["customer_key"].to_numpy(dtype=object)[pos]
    items: dict[str, list[str]] = {}
    if inputs.recommendations is not None and len(rows):
        recs = inputs.recommendations
        recs = recs[recs["customer_key"].isin(set(keys.tolist()))].sort_values(["customer_key", "rank"])
        items = recs.groupby("customer_key", sort=False)["sku"].agg(list).to_dict()
    skus = set(rows["sku"].dropna().astype(str).tolist())
    for v in items.values():
        skus.update(v)
    names = {k: (v[0] or k) for k, v in ws.product_names(sorted(skus)).items()} if skus else {}

    def fmt(col: str) -> list[Any]:
        if col not in frame.columns:
            return [None] * len(pos)
        s = pd.to_datetime(frame[col].iloc[pos], errors="coerce")
        return [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in s]

    first, last, nxt = fmt("first_order_date"), fmt("last_order_date"), fmt("expected_next_purchase_date")
    orders = frame["orders"].iloc[pos].tolist() if "orders" in frame.columns else [None] * len(pos)
    segment = frame["segment"].iloc[pos].tolist() if "segment" in frame.columns else [None] * len(pos)
    due = rows["due"].to_numpy()
    sku = rows["sku"].tolist()
    out = []
    for i, key in enumerate(keys.tolist()):
        d = due[i]
        rec = items.get(key, [])
        o = orders[i]
        out.append(json.dumps({
            "first_order_date": first[i], "last_order_date": last[i],
            "orders": None if o is None or o != o else int(o),
            "segment": segment[i] if isinstance(segment[i], str) else None,
            "expected_next_purchase_date": nxt[i],
            "due_date": None if d != d else str(np.datetime64(int(d), "D")),
            "item": {"sku": sku[i], "name": names.get(sku[i], sku[i])} if sku[i] else None,
            "items": [{"sku": s, "name": names.get(s, s)} for s in rec[:3]],
        }, ensure_ascii=False))
    return out


def plan(ws: Workspace, store: OpsStore, scenarios: list[Scenario], *, as_of: dt.date | None = None,
         now: dt.datetime | None = None, run_id: int | None = None, dry_run: bool = False,
         explicit: bool = False) -> PlanReport:
    """Plan ``scenarios`` as of ``as_of`` (default: today in the shop's time zone) into the outbox.

    Parameters
    ----------
    ws
        The workspace whose stored results are read (read-only is fine).
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

    inputs = read_inputs(ws, day, run_id=run_id)
    frame = inputs.customers
    secret = ws.identity_secret()
    plan_day = _day(day)
    channels = set(available_channels())
    lists = staff_list_channels()
    report = PlanReport(day, inputs.run.as_of or day, inputs.run.run_id, send_local, dry_run, {},
                        customers=len(frame))

    # 1. candidates per scenario; validation errors surface here, before anything is written
    parts = []
    for s in scenarios:
        counts = ScenarioCounts()
        report.scenarios[s.name] = counts
        mask = audience_mask(s, frame, inputs.missing)
        for lang in s.template:
            render(s, lang, sample_context(s, settings.crm_shop_name))
        cand, note = _candidates(s, inputs, plan_day)
        if note is not None:
            if explicit:
                raise MissingDataError(f"Scenario {s.name} needs data that is missing: {note}.")
            counts.not_planned = note
            continue
        cand = cand[mask[cand["pos"].to_numpy()]] if len(cand) else cand
        counts.eligible = len(cand)
        if not len(cand):
            continue
        cand = cand.assign(scenario=s.name, priority=s.priority)
        parts.append(cand)
    if not parts:
        report.seconds = time.perf_counter() - t0
        return report
    cand = pd.concat(parts, ignore_index=True)
    keys_all = frame["customer_key"].to_numpy(dtype=object)
    cand["customer_key"] = keys_all[cand["pos"].to_numpy()]
    cand["skip"] = None

    def skip(mask: np.ndarray, reason: str) -> None:
        free = cand["skip"].isna().to_numpy()
        cand.loc[mask & free, "skip"] = reason

    # 2. already planned occurrences; once_per_days; one row per scenario and customer in a plan
    by_name = {s.name: s for s in scenarios}
    cand["key"] = None
    for name, idx in cand.groupby("scenario", sort=False).groups.items():
        sub = cand.loc[idx]
        cand.loc[idx, "key"] = _keys(secret, name, sub["customer_key"].to_numpy(),
                                     sub["occurrence"].to_numpy())
    with store.engine.connect() as conn:
        existing = {r[0] for r in conn.execute(sa.select(outbox.c.key).where(outbox.c.scenario.in_(list(by_name))))}
        recent: dict[str, set[str]] = {}
        for s in scenarios:
            if s.trigger.kind == "segment" and s.trigger.once_per_days:
                lo = send_utc - dt.timedelta(days=s.trigger.once_per_days)
                recent[s.name] = {r[0] for r in conn.execute(
                    sa.select(outbox.c.customer_key).where(outbox.c.scenario == s.name, outbox.c.send_at > lo,
                                                           outbox.c.state.notin_(NOT_COUNTED)))}
        lo, hi = send_utc - dt.timedelta(days=settings.crm_frequency_days), send_utc + dt.timedelta(
            days=settings.crm_frequency_days)
        used = dict(conn.execute(
            sa.select(outbox.c.customer_key, sa.func.count()).where(
                outbox.c.send_at > lo, outbox.c.send_at < hi, outbox.c.state.notin_(NOT_COUNTED))
            .group_by(outbox.c.customer_key)).all())
    skip(cand["key"].isin(existing).to_numpy(), "already_planned")
    for name, keys in recent.items():
        if keys:
            skip(((cand["scenario"] == name) & cand["customer_key"].isin(keys)).to_numpy(), "once_per_days")
    dup = cand["skip"].isna() & cand.duplicated(["scenario", "customer_key"])
    skip(dup.to_numpy(), "one_per_plan")

    # 3. channel, consent, reachability
    c, o, u = consent_frame(store)
    ck = cand["customer_key"]
    cand["channel"] = None
    reason = np.full(len(cand), "no_contact", dtype=object)
    out_all = ck.isin(set(o.loc[o["channel"] == "all", "customer_key"])).to_numpy()
    for name, idx in cand.groupby("scenario", sort=False).groups.items():
        s = by_name[name]
        sub = ck.loc[idx]
        chosen = np.full(len(sub), None, dtype=object)
        sub_reason = np.full(len(sub), "no_contact", dtype=object)
        for ch in s.channels:
            if ch not in channels:
                continue
            col = {"line": "has_line", "email": "has_email"}.get(ch)
            if ch in lists:  # a list for the shop's staff (mall messages): no address needed
                addr = np.ones(len(sub), dtype=bool)
            elif col is None:
                continue
            else:
                addr = sub.isin(set(c.loc[c[col].astype(bool), "customer_key"])).to_numpy()
            opted = sub.isin(set(o.loc[o["channel"] == ch, "customer_key"])).to_numpy() | out_all[
                cand.index.get_indexer(idx)]
            unr = sub.isin(set(u.loc[u["channel"] == ch, "customer_key"])).to_numpy()
            ok = addr & ~opted & ~unr & (chosen == None)  # noqa: E711
            chosen[ok] = ch
            sub_reason[addr & opted & (sub_reason == "no_contact")] = "opted_out"
            sub_reason[addr & ~opted & unr & (sub_reason == "no_contact")] = "unreachable"
        sub_reason[out_all[cand.index.get_indexer(idx)] & (sub_reason == "no_contact")] = "opted_out"
        cand.loc[idx, "channel"] = chosen
        reason[cand.index.get_indexer(idx)] = sub_reason
    skip((cand["channel"].isna() & cand["skip"].isna()).to_numpy(), "")
    blank = (cand["skip"] == "").to_numpy()
    cand.loc[blank, "skip"] = reason[blank]

    # 4. frequency cap: higher priority first; rows already in the outbox use their slots
    live = cand["skip"].isna()
    ranked = cand[live].sort_values(["customer_key", "priority", "scenario"], ascending=[True, False, True],
                                    kind="stable")
    rank = ranked.groupby("customer_key", sort=False).cumcount().to_numpy()
    have = ranked["customer_key"].map(used).fillna(0).to_numpy()
    capped = ranked.index[rank + have >= settings.crm_frequency_cap]
    cand.loc[capped, "skip"] = "frequency_cap"

    # 5. holdout by keyed hash, then write
    final = cand[cand["skip"].isna()].copy()
    final["holdout"] = False
    for name, idx in final.groupby("scenario", sort=False).groups.items():
        s = by_name[name]
        share = s.holdout if s.holdout is not None else settings.crm_holdout_share
        draw = holdout_draw(secret, name, final.loc[idx, "customer_key"].tolist())
        final.loc[idx, "holdout"] = draw < share
    for name, counts in report.scenarios.items():
        sub = cand[cand["scenario"] == name]
        fsub = final[final["scenario"] == name]
        counts.holdout = int(fsub["holdout"].sum())
        counts.planned = len(fsub) - counts.holdout
        counts.skipped = {r: int(n) for r, n in sub["skip"].value_counts().items()}

    if not dry_run and len(final):
        contexts = _context_rows(inputs, ws, final)
        lang = settings.crm_lang
        expires = {s.name: send_utc + dt.timedelta(days=s.expires_after_days) for s in scenarios}
        rows = [
            {"key": k, "scenario": sc, "customer_key": ck_, "occurrence": occ, "channel": ch,
             "state": "holdout" if h else "planned", "holdout": bool(h), "priority": int(p), "lang": lang,
             "context": ctx, "run_id": inputs.run.run_id, "as_of": day, "planned_at": planned_at,
             "send_at": send_utc, "expires_at": expires[sc], "next_attempt_at": send_utc, "attempts": 0}
            for k, sc, ck_, occ, ch, h, p, ctx in zip(
                final["key"].tolist(), final["scenario"].tolist(), final["customer_key"].tolist(),
                final["occurrence"].tolist(), final["channel"].tolist(), final["holdout"].tolist(),
                final["priority"].tolist(), contexts)
        ]
        with store.begin() as conn:
            store.insert_ignore(conn, outbox, rows, ["key"])
    report.seconds = time.perf_counter() - t0
    return report

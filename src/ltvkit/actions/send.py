"""Sending: claim due outbox rows with a lease, re-check consent, render, send, record the answer.

A claim is one statement: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`` on PostgreSQL,
the same conditional ``UPDATE … RETURNING`` inside ``BEGIN IMMEDIATE`` on SQLite, so two senders never hold one
row. A row is due when it is ``planned`` or ``retry`` and its next attempt time has come, or ``sending`` with an
expired lease (its sender crashed). Every attempt is recorded (``outbox_attempts``) and the row is updated only
while the sender still holds it. The idempotency key goes to the provider with every attempt, so a message whose
answer was lost is recognised as a repeat (LINE answers 409) and never delivered twice.

Personal data (addresses, rendered texts) is never logged: log lines carry counts and states.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..config import Settings
from ..exceptions import ScenarioError
from ._ops import OpsStore, attempts, channel_status, consent, contacts, outbox, reachability, utcnow
from .channels import BaseChannel, Delivery, Message, channel_factory, staff_list_channels
from .scenarios import HTML_CHANNELS, Scenario, render

__all__ = ["SendReport", "backoff_seconds", "send"]

log = logging.getLogger("ltvkit.crm")
ADDRESS = {"line": "line_user_id", "email": "email"}
_RETURN = (outbox.c.id, outbox.c.key, outbox.c.scenario, outbox.c.customer_key, outbox.c.channel, outbox.c.lang,
           outbox.c.context, outbox.c.attempts, outbox.c.expires_at)


@dataclass
class SendReport:
    """Counts of what a send did, and the channels it found or left paused (with the reason)."""

    sent: int = 0
    retry: int = 0
    failed: int = 0
    expired: int = 0
    claimed: int = 0
    paused: dict[str, str] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, what: str, reason: str | None = None) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)
            if reason:
                self.failures[reason] = self.failures.get(reason, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {"claimed": self.claimed, "sent": self.sent, "retry": self.retry, "failed": self.failed,
                "expired": self.expired, "failures": dict(sorted(self.failures.items())),
                "paused": self.paused, "seconds": round(self.seconds, 3),
                "per_second": round(self.sent / self.seconds, 1) if self.seconds > 0 else None}


def backoff_seconds(attempt: int, base: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: ``base × 2^(attempt-1)``, capped at an hour, times a random 0.5–1."""
    delay = min(base * 2.0 ** max(attempt - 1, 0), 3600.0)
    return delay * (0.5 + 0.5 * (rng or random).random())


def _claim(store: OpsStore, worker: str, n: int, channels: list[str], lease: float) -> list[Any]:
    """Lease up to ``n`` due rows to ``worker``, returned in claim order: highest priority, oldest due time, id.

    Each state is asked on its own (``ix_outbox_claim`` serves its order, so a claim reads about ``n`` index
    entries however long the outbox is); the best ``n`` of the three answers are updated in the same transaction
    (SQLite: under ``BEGIN IMMEDIATE``; PostgreSQL: the candidates are locked with ``SKIP LOCKED``)."""
    now = utcnow()
    due = (sa.and_(outbox.c.state == "planned", outbox.c.next_attempt_at <= now),
           sa.and_(outbox.c.state == "retry", outbox.c.next_attempt_at <= now),
           sa.and_(outbox.c.state == "sending", outbox.c.lease_until < now))
    with store.begin() as conn:
        found: list[Any] = []
        for cond in due:
            q = (sa.select(outbox.c.id, outbox.c.priority, outbox.c.next_attempt_at)
                 .where(cond, outbox.c.channel.in_(channels))
                 .order_by(outbox.c.priority.desc(), outbox.c.next_attempt_at, outbox.c.id).limit(n))
            if store.dialect == "postgresql":
                q = q.with_for_update(skip_locked=True)
            found.extend(conn.execute(q).all())
        found.sort(key=lambda r: (-r.priority, r.next_attempt_at, r.id))
        ids = [r.id for r in found[:n]]
        if not ids:
            return []
        stmt = (sa.update(outbox).where(outbox.c.id.in_(ids))
                .values(state="sending", claimed_by=worker, lease_until=now + dt.timedelta(seconds=lease),
                        attempts=outbox.c.attempts + 1)
                .returning(*_RETURN))
        rank = {i: k for k, i in enumerate(ids)}
        return sorted(conn.execute(stmt).all(), key=lambda r: rank[r.id])  # RETURNING keeps no order


def _renew(store: OpsStore, worker: str, ids: list[int], lease: float) -> set[int]:
    """Extend this sender's lease on ``ids``; the ids it still held (a lapsed lease may belong to another now)."""
    if not ids:
        return set()
    stmt = (sa.update(outbox)
            .where(outbox.c.id.in_(ids), outbox.c.claimed_by == worker, outbox.c.state == "sending",
                   outbox.c.lease_until > utcnow())
            .values(lease_until=utcnow() + dt.timedelta(seconds=lease))
            .returning(outbox.c.id))
    with store.begin() as conn:
        return {r[0] for r in conn.execute(stmt).all()}


def _paused(store: OpsStore) -> dict[str, tuple[dt.datetime, str]]:
    now = utcnow()
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(channel_status.c.channel, channel_status.c.paused_until,
                                      channel_status.c.reason).where(channel_status.c.paused_until > now)).all()
    return {r[0]: (r[1], r[2] or "") for r in rows}


def _lookups(store: OpsStore, rows: list[Any]) -> tuple[dict[str, Any], set[tuple[str, str]], set[tuple[str, str]]]:
    keys = list({r.customer_key for r in rows})
    with store.engine.connect() as conn:
        addr = {r[0]: r for r in conn.execute(
            sa.select(contacts.c.customer_key, contacts.c.line_user_id, contacts.c.email)
            .where(contacts.c.customer_key.in_(keys))).all()}
        out = {(r[0], r[1]) for r in conn.execute(
            sa.select(consent.c.customer_key, consent.c.channel)
            .where(consent.c.customer_key.in_(keys), consent.c.opted_out.is_(True))).all()}
        unr = {(r[0], r[1]) for r in conn.execute(
            sa.select(reachability.c.customer_key, reachability.c.channel)
            .where(reachability.c.customer_key.in_(keys), reachability.c.reachable.is_(False))).all()}
    return addr, out, unr


class _Sender:
    def __init__(self, store: OpsStore, settings: Settings, scenarios: dict[str, Scenario],
                 make_channel: Callable[[str], BaseChannel], report: SendReport, *, limit: int | None,
                 batch: int, rng: random.Random) -> None:
        self.store = store
        self.settings = settings
        self.scenarios = scenarios
        self.make_channel = make_channel
        self.report = report
        self.limit = limit
        self.batch = batch
        self.rng = rng
        self._lock = threading.Lock()
        self._taken = 0
        self.stopped: set[str] = set()

    def _take(self, want: int) -> int:
        with self._lock:
            if self.limit is None:
                return want
            n = max(0, min(want, self.limit - self._taken))
            self._taken += n
            return n

    def run_worker(self, channels: list[str], wait: bool) -> None:
        worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        open_channels: dict[str, BaseChannel] = {}
        try:
            while True:
                active = [c for c in channels if c not in self.stopped]
                n = self._take(self.batch)
                if not active or n == 0:
                    return
                claimed_at = time.monotonic()
                rows = _claim(self.store, worker, n, active, self.settings.crm_lease_seconds)
                if not rows:
                    if self.limit is not None:
                        with self._lock:
                            self._taken -= n
                    if wait and self._pending_soon(active):
                        time.sleep(0.05)
                        continue
                    return
                with self.report._lock:
                    self.report.claimed += len(rows)
                if self.limit is not None and len(rows) < n:
                    with self._lock:
                        self._taken -= n - len(rows)
                self._process(worker, rows, open_channels, claimed_at)
        finally:
            for ch in open_channels.values():
                ch.close()

    def _pending_soon(self, channels: list[str]) -> bool:
        """Rows in retry (or held by another sender) that come due within a minute."""
        soon = utcnow() + dt.timedelta(seconds=60)
        with self.store.engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(outbox).where(
                outbox.c.channel.in_(channels),
                sa.or_(sa.and_(outbox.c.state.in_(("planned", "retry")), outbox.c.next_attempt_at <= soon),
                       sa.and_(outbox.c.state == "sending", outbox.c.lease_until <= soon)))).scalar_one()
        return n > 0

    def _process(self, worker: str, rows: list[Any], open_channels: dict[str, BaseChannel],
                 claimed_at: float) -> None:
        lease = self.settings.crm_lease_seconds
        renewed = claimed_at
        held = {row.id for row in rows}
        addr, out, unr = _lookups(self.store, rows)
        results: list[tuple[Any, dt.datetime, str, Delivery | None, str]] = []
        for row in rows:
            if time.monotonic() - renewed > lease / 3:  # a slow batch: renew before the lease can lapse
                # every row of the batch: those already sent are recorded only at its end
                held = _renew(self.store, worker, [r.id for r in rows], lease)
                renewed = time.monotonic()
            if row.id not in held:  # the lease lapsed and another sender may hold the row: leave it alone
                continue
            started = utcnow()
            ch = row.channel
            if row.expires_at is not None and started > row.expires_at:
                results.append((row, started, "expired", None, "expired before it could be sent"))
                continue
            if (row.customer_key, ch) in out or (row.customer_key, "all") in out:
                results.append((row, started, "failed", None, "opted_out"))
                continue
            if (row.customer_key, ch) in unr:
                results.append((row, started, "failed", None, "unreachable"))
                continue
            contact = addr.get(row.customer_key)
            to = getattr(contact, ADDRESS.get(ch, ""), None) if contact is not None else None
            if not to:
                results.append((row, started, "failed", None, "no_contact"))
                continue
            scenario = self.scenarios.get(row.scenario)
            if scenario is None:
                results.append((row, started, "failed", None, "scenario_missing"))
                continue
            try:
                context = {**json.loads(row.context), "shop": self.settings.crm_shop_name,
                           "scenario": row.scenario}
                text = render(scenario, row.lang, context, html=False)
                html = render(scenario, row.lang, context, html=True) if ch in HTML_CHANNELS else None
            except (ScenarioError, ValueError):
                results.append((row, started, "failed", None, "template"))
                continue
            if ch in self.stopped:
                results.append((row, started, "paused", None, "paused"))
                continue
            channel = open_channels.get(ch)
            if channel is None:
                channel = open_channels[ch] = self.make_channel(ch)
            delivery = channel.send(Message(row.key, to, text, row.scenario, row.customer_key, lang=row.lang,
                                            context=context, html=html))
            results.append((row, started, "sent" if delivery.ok else "answer", delivery, ""))
            if delivery.pause:
                self._pause(ch, delivery.answer)
        self._record(worker, results)

    def _pause(self, channel: str, answer: str) -> None:
        self.stopped.add(channel)
        until = utcnow() + dt.timedelta(hours=1)
        reason = f"paused by the provider's answer: {answer}"[:300]
        with self.store.begin() as conn:
            self.store.upsert(conn, channel_status, [{"channel": channel, "paused_until": until, "reason": reason,
                                                      "updated_at": utcnow()}],
                              ["channel"], ["paused_until", "reason", "updated_at"])
        with self.report._lock:
            self.report.paused[channel] = reason
        log.warning("channel %s paused until %s: %s", channel, until.isoformat(timespec="seconds"), answer)

    def _record_sent(self, conn: Any, worker: str, now: dt.datetime,
                     results: list[tuple[Any, dt.datetime, str, Delivery | None, str]],
                     attempt_rows: list[dict[str, Any]]) -> list[tuple[Any, dt.datetime, str, Delivery | None, str]]:
        """Record the batch's successes that this sender still holds in one statement; return the other results.

        The rows are locked first (``FOR UPDATE`` on PostgreSQL; SQLite's transaction already holds the write
        lock), so the rows found held are still held when they are updated.
        """
        sent = [r for r in results if r[2] == "sent"]
        if len(sent) < 2:
            return results
        query = sa.select(outbox.c.id).where(outbox.c.id.in_([r[0].id for r in sent]), outbox.c.claimed_by == worker,
                                             outbox.c.state == "sending")
        if self.store.dialect == "postgresql":
            query = query.with_for_update()
        held = {r[0] for r in conn.execute(query).all()}
        mine = [r for r in sent if r[0].id in held]
        if mine:
            conn.execute(sa.update(outbox).where(outbox.c.id == sa.bindparam("row_id"))
                         .values(state="sent", sent_at=now, provider_id=sa.bindparam("pid"), last_error=None,
                                 lease_until=None),
                         [{"row_id": r[0].id, "pid": r[3].provider_id if r[3] else None} for r in mine])
        for row, started, _, delivery, _ in mine:
            attempt_rows.append({"outbox_id": row.id, "attempt": row.attempts, "claimed_by": worker,
                                 "started_at": started, "finished_at": now, "outcome": "sent",
                                 "status_code": delivery.status_code if delivery else None,
                                 "answer": ((delivery.answer if delivery else "") or "")[:500]})
            self.report.add("sent")
        return [r for r in results if r[0].id not in held]  # lost rows go on and are recorded as lost_lease

    def _record(self, worker: str, results: list[tuple[Any, dt.datetime, str, Delivery | None, str]]) -> None:
        now = utcnow()
        max_attempts = self.settings.crm_max_attempts
        base = self.settings.crm_retry_base_seconds
        attempt_rows = []
        with self.store.begin() as conn:
            results = self._record_sent(conn, worker, now, results, attempt_rows)
            for row, started, kind, delivery, reason in results:
                held = sa.and_(outbox.c.id == row.id, outbox.c.claimed_by == worker, outbox.c.state == "sending")
                values: dict[str, Any] = {"lease_until": None}
                outcome = kind
                code = delivery.status_code if delivery else None
                answer = delivery.answer if delivery else reason
                if kind == "sent":
                    values.update(state="sent", sent_at=now, provider_id=delivery.provider_id if delivery else None,
                                  last_error=None)
                elif kind == "expired":
                    values.update(state="expired", last_error=reason)
                elif kind == "failed":
                    values.update(state="failed", last_error=reason)
                elif kind == "paused" or (delivery is not None and delivery.pause):
                    outcome = "paused"
                    paused_until = now + dt.timedelta(hours=1)
                    values.update(state="retry", next_attempt_at=paused_until, attempts=outbox.c.attempts - 1,
                                  last_error=answer or "paused")
                elif delivery is not None and delivery.retryable and row.attempts < max_attempts:
                    outcome = "retry"
                    values.update(state="retry", last_error=answer,
                                  next_attempt_at=now + dt.timedelta(
                                      seconds=backoff_seconds(row.attempts, base, self.rng)))
                else:
                    outcome = "failed"
                    values.update(state="failed", last_error=answer)
                    if delivery is not None and delivery.unreachable:
                        self.store.upsert(conn, reachability, [{
                            "customer_key": row.customer_key, "channel": row.channel, "reachable": False,
                            "reason": answer[:200], "updated_at": now}], ["customer_key", "channel"],
                            ["reachable", "reason", "updated_at"])
                res = conn.execute(sa.update(outbox).where(held).values(**values))
                if res.rowcount != 1:  # the lease ran out and another sender holds the row now
                    outcome = "lost_lease"
                attempt_rows.append({"outbox_id": row.id, "attempt": row.attempts, "claimed_by": worker,
                                     "started_at": started, "finished_at": now, "outcome": outcome,
                                     "status_code": code, "answer": (answer or "")[:500]})
                what = {"sent": "sent", "expired": "expired", "retry": "retry"}.get(outcome, "failed")
                if outcome in ("paused", "lost_lease"):
                    continue
                self.report.add(what, None if what in ("sent", "retry") else
                                (reason or (f"http_{code}" if code else "error")))
            conn.execute(attempts.insert(), attempt_rows)


def send(store: OpsStore, settings: Settings, scenarios: dict[str, Scenario], *, channel: str | None = None,
         limit: int | None = None, workers: int = 1, wait: bool = False, batch: int = 100,
         channels: dict[str, Callable[[], BaseChannel]] | None = None, seed: int | None = None) -> SendReport:
    """Send due outbox rows until none is due (or ``limit`` rows were claimed).

    Parameters
    ----------
    store, settings, scenarios
        The ops store, the settings (channel credentials, lease, retries, shop name) and the scenarios by name
        (templates are rendered now, at send time).
    channel
        Only this channel (default: every registered channel with due rows).
    workers
        Threads, each claiming ``batch`` rows at a time. A batch that takes longer than a third of the lease
        renews the lease on its remaining rows before going on, so a slow provider never lets a row be claimed
        twice; a row whose lease lapsed anyway is left to whoever holds it now.
    wait
        Keep going while retries or other senders' leases come due within a minute (tests, a final drain);
        cron runs return as soon as nothing is due.
    channels
        Channel factories by name instead of the registry (each worker calls one to get its own channel).
    """
    t0 = time.perf_counter()
    report = SendReport()
    paused = _paused(store)
    for name, (until, reason) in paused.items():
        report.paused[name] = f"{reason} (until {until.isoformat(timespec='seconds')} UTC)"
    with store.engine.connect() as conn:
        have = [r[0] for r in conn.execute(sa.select(outbox.c.channel).distinct()).all()]
    wanted = [channel] if channel else [c for c in have if c not in staff_list_channels()]
    active = [c for c in wanted if c not in paused]
    if channels is None:
        def make(name: str) -> BaseChannel:
            return channel_factory(name)(settings)
    else:
        def make(name: str) -> BaseChannel:
            return channels[name]()
    if channel is not None:
        make(channel).close()  # fail early on a channel that is unknown or lacks credentials
    sender = _Sender(store, settings, scenarios, make, report, limit=limit, batch=batch,
                     rng=random.Random(seed))
    if active:
        errors: list[BaseException] = []

        def work() -> None:
            try:
                sender.run_worker(active, wait)
            except BaseException as exc:  # re-raised in the calling thread
                sender.stopped.update(active)
                errors.append(exc)

        threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, workers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
    report.seconds = time.perf_counter() - t0
    log.info("crm send: %s", {k: v for k, v in report.to_dict().items() if k != "paused"})
    return report

"""Channel ``export``: mall message lists (R-Messe on Rakuten, the Yahoo! store's buyer messages) for staff.

Malls let a shop message a buyer only inside the mall, about an order, by hand. Messages planned on ``export``
are not sent by ``ltv crm send``: :func:`export_mall_messages` claims the due rows, renders them, finds each
customer's latest order on a mall (the order number staff open the message from) and writes one CSV per mall;
the rows become ``sent`` once the file is in place. A row's file name is recorded *before* the file is written
(atomically: temporary file, then rename), so an export interrupted in between is finished by the next one
(file there: sent; file missing: planned again), never listed twice. Customers with no mall order fail
(``no_mall_order``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ...exceptions import InputError
from .._ops import OpsStore, consent, outbox, utcnow
from ._base import BaseChannel, register_channel

if TYPE_CHECKING:
    from ...config import Settings
    from ...store import Workspace
    from ..scenarios import Scenario

__all__ = ["MALLS", "ExportReport", "export_mall_messages"]

MALLS = {"rakuten": "R-Messe", "yahoo": "Yahoo"}
COLUMNS = ("order_id", "order_date", "customer_key", "scenario", "text", "key", "send_at")


@dataclass
class ExportReport:
    files: dict[str, str] = field(default_factory=dict)  # mall -> file
    exported: dict[str, int] = field(default_factory=dict)  # mall -> rows
    failed: dict[str, int] = field(default_factory=dict)  # reason -> rows
    recovered: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "exported": self.exported, "failed": self.failed, "recovered": self.recovered}


def _refuse(_: Settings) -> BaseChannel:
    raise InputError(key="err.export_channel_is_list")


register_channel("export", _refuse, staff_list=True)


def _recover(store: OpsStore) -> int:
    """Finish exports that stopped between recording a file name and marking the rows sent."""
    now = utcnow()
    stale = sa.and_(outbox.c.channel == "export", outbox.c.state == "sending", outbox.c.lease_until < now)
    with store.begin() as conn:
        rows = conn.execute(sa.select(outbox.c.id, outbox.c.provider_id).where(stale)).all()
        done = [r.id for r in rows if r.provider_id and Path(r.provider_id).is_file()]
        again = [r.id for r in rows if r.id not in set(done)]
        if done:
            conn.execute(sa.update(outbox).where(outbox.c.id.in_(done), stale)
                         .values(state="sent", sent_at=now, lease_until=None))
        if again:
            conn.execute(sa.update(outbox).where(outbox.c.id.in_(again), stale)
                         .values(state="planned", provider_id=None, lease_until=None, next_attempt_at=now))
    return len(done)


def _latest_mall_orders(ws: Workspace, keys: list[str]) -> dict[str, tuple[str, str, dt.date]]:
    t = ws.orders()
    t = t.filter(t.source.isin(list(MALLS)), t.status == "ordered", t.customer_key.isin(keys))
    agg = t.group_by("customer_key").aggregate(source=t.source.argmax(t.ordered_at),
                                               order_id=t.order_id.argmax(t.ordered_at),
                                               order_date=t.order_date.max()).to_pandas()
    return {r.customer_key: (r.source, r.order_id, r.order_date) for r in agg.itertuples()}


def export_mall_messages(store: OpsStore, ws: Workspace, settings: Settings, scenarios: dict[str, Scenario],
                         out_dir: str | os.PathLike[str], *, now: dt.datetime | None = None) -> ExportReport:
    """Write the due ``export`` messages into ``out_dir`` as one CSV per mall and mark them sent."""
    from ..scenarios import render

    report = ExportReport(recovered=_recover(store))
    now = now or utcnow()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    batch = uuid.uuid4().hex[:8]
    stamp = now.strftime("%Y%m%d-%H%M%S")
    files = {m: out / f"{m}-messages-{stamp}-{batch}.csv" for m in MALLS}
    due = sa.and_(outbox.c.channel == "export", outbox.c.state.in_(("planned", "retry")),
                  outbox.c.next_attempt_at <= now)
    with store.begin() as conn:
        rows = conn.execute(sa.update(outbox).where(due).values(
            state="sending", claimed_by=f"export:{batch}", lease_until=now + dt.timedelta(hours=1),
            attempts=outbox.c.attempts + 1).returning(
            outbox.c.id, outbox.c.key, outbox.c.scenario, outbox.c.customer_key, outbox.c.lang, outbox.c.context,
            outbox.c.send_at, outbox.c.expires_at)).all()
    if not rows:
        return report
    keys = sorted({r.customer_key for r in rows})
    with store.engine.connect() as conn:
        opted = {(r[0], r[1]) for r in conn.execute(sa.select(consent.c.customer_key, consent.c.channel).where(
            consent.c.customer_key.in_(keys), consent.c.opted_out.is_(True)))}
    orders = _latest_mall_orders(ws, keys)
    lines: dict[str, list[dict[str, Any]]] = {m: [] for m in MALLS}
    outcome: dict[int, tuple[str, str | None]] = {}
    for r in rows:
        if r.expires_at is not None and now > r.expires_at:
            outcome[r.id] = ("expired", "expired before it could be sent")
            continue
        if (r.customer_key, "export") in opted or (r.customer_key, "all") in opted:
            outcome[r.id] = ("failed", "opted_out")
            continue
        order = orders.get(r.customer_key)
        scenario = scenarios.get(r.scenario)
        if order is None or scenario is None:
            outcome[r.id] = ("failed", "no_mall_order" if order is None else "scenario_missing")
            continue
        context = {**json.loads(r.context), "shop": settings.crm_shop_name, "scenario": r.scenario}
        text = render(scenario, r.lang, context)
        mall, order_id, order_date = order
        lines[mall].append({"order_id": order_id, "order_date": str(order_date), "customer_key": r.customer_key,
                            "scenario": r.scenario, "text": text, "key": r.key,
                            "send_at": r.send_at.isoformat(timespec="minutes")})
        outcome[r.id] = ("list", str(files[mall]))
    key_to_id = {r.key: r.id for r in rows}
    with store.begin() as conn:  # record each row's file before writing it (see the module docstring)
        for mall, entries in lines.items():
            ids = [key_to_id[e["key"]] for e in entries]
            if ids:
                conn.execute(sa.update(outbox).where(outbox.c.id.in_(ids)).values(provider_id=str(files[mall])))
    for mall, entries in lines.items():
        if not entries:
            continue
        tmp = files[mall].with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(entries)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, files[mall])
        report.files[mall] = str(files[mall])
        report.exported[mall] = len(entries)
    done = utcnow()
    with store.begin() as conn:
        for r in rows:
            state, why = outcome[r.id]
            held = sa.and_(outbox.c.id == r.id, outbox.c.state == "sending", outbox.c.claimed_by == f"export:{batch}")
            if state == "list":
                conn.execute(sa.update(outbox).where(held).values(state="sent", sent_at=done, lease_until=None,
                                                                  last_error=None))
            else:
                conn.execute(sa.update(outbox).where(held).values(state=state, last_error=why, lease_until=None))
                report.failed[why or state] = report.failed.get(why or state, 0) + 1
    return report

"""What the dashboard of ``ltv serve`` reads from and changes in the ops store, beyond the CLI's commands.

* a scenario can be switched off (``ltv crm plan`` without ``--scenario`` then leaves it out) and on again;
* a dead message (``failed`` or ``expired``) can be sent again: it goes back to ``retry``, due now;
* one customer's messages, LINE replies, addresses and consent, for the customer page.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from ..exceptions import InputError
from ._ops import (
    OpsStore,
    channel_status,
    consent,
    consent_ledger,
    contacts,
    inbound,
    line_users,
    ops_meta,
    outbox,
    utcnow,
)

__all__ = ["DEAD_STATES", "customer_ops", "disabled_scenarios", "outbox_page", "paused_channels", "retry_message",
           "set_scenario_enabled"]

DEAD_STATES = ("failed", "expired")
_DISABLED = "scenarios_disabled"


def disabled_scenarios(store: OpsStore) -> set[str]:
    """Names of the scenarios switched off (from the dashboard)."""
    with store.engine.connect() as conn:
        value = conn.execute(sa.select(ops_meta.c.value).where(ops_meta.c.name == _DISABLED)).scalar()
    return set(json.loads(value)) if value else set()


def set_scenario_enabled(store: OpsStore, name: str, enabled: bool) -> set[str]:
    """Switch a scenario on or off; return the names switched off afterwards."""
    with store.begin() as conn:
        value = conn.execute(sa.select(ops_meta.c.value).where(ops_meta.c.name == _DISABLED)).scalar()
        names = set(json.loads(value)) if value else set()
        if enabled:
            names.discard(name)
        else:
            names.add(name)
        text = json.dumps(sorted(names), ensure_ascii=False)
        if value is None:
            conn.execute(sa.insert(ops_meta).values(name=_DISABLED, value=text))
        else:
            conn.execute(sa.update(ops_meta).where(ops_meta.c.name == _DISABLED).values(value=text))
    return names


def retry_message(store: OpsStore, key: str, *, now: dt.datetime | None = None, days: int = 1) -> dict[str, Any]:
    """Send a dead message again: a ``failed`` or ``expired`` row goes back to ``retry``, due now, and expires no
    sooner than ``days`` from now. Its idempotency key stays, so a provider that got it once sees the same message.
    Other states are refused (holdout rows never leave ``holdout``)."""
    now = now or utcnow()
    with store.begin() as conn:
        row = conn.execute(sa.select(outbox.c.id, outbox.c.state, outbox.c.expires_at)
                           .where(outbox.c.key == key)).first()
        if row is None:
            raise InputError(key="err.web_no_message", key_=key)
        if row.state not in DEAD_STATES:
            raise InputError(key="err.web_retry_state", key_=key, state=row.state)
        expires = max(row.expires_at or now, now + dt.timedelta(days=days))
        conn.execute(sa.update(outbox).where(outbox.c.id == row.id, outbox.c.state.in_(DEAD_STATES))
                     .values(state="retry", next_attempt_at=now, expires_at=expires, lease_until=None,
                             claimed_by=None))
    return {"key": key, "state": "retry", "was": row.state}


def customer_ops(store: OpsStore, customer_key: str, *, limit: int = 200) -> dict[str, Any]:
    """Everything the ops store holds about one customer: addresses, consent (now and its history), LINE users,
    messages (planned, sent, held out, …) and inbound LINE messages with the replies."""
    with store.engine.connect() as conn:
        contact = conn.execute(sa.select(contacts.c.line_user_id, contacts.c.email, contacts.c.source,
                                         contacts.c.updated_at).where(contacts.c.customer_key == customer_key)).first()
        now = [dict(r._mapping) for r in conn.execute(
            sa.select(consent.c.channel, consent.c.opted_out, consent.c.source, consent.c.updated_at)
            .where(consent.c.customer_key == customer_key).order_by(consent.c.channel))]
        ledger = [dict(r._mapping) for r in conn.execute(
            sa.select(consent_ledger.c.channel, consent_ledger.c.action, consent_ledger.c.source, consent_ledger.c.at)
            .where(consent_ledger.c.customer_key == customer_key).order_by(consent_ledger.c.id.desc()).limit(limit))]
        users = [dict(r._mapping) for r in conn.execute(
            sa.select(line_users.c.line_user_id, line_users.c.following, line_users.c.linked_at)
            .where(line_users.c.customer_key == customer_key))]
        messages = [dict(r._mapping) for r in conn.execute(
            sa.select(outbox.c.key, outbox.c.scenario, outbox.c.channel, outbox.c.state, outbox.c.holdout,
                      outbox.c.send_at, outbox.c.sent_at, outbox.c.attempts, outbox.c.run_id, outbox.c.last_error)
            .where(outbox.c.customer_key == customer_key).order_by(outbox.c.send_at.desc()).limit(limit))]
        replies = [dict(r._mapping) for r in conn.execute(
            sa.select(inbound.c.key, inbound.c.kind, inbound.c.channel, inbound.c.text, inbound.c.sku,
                      inbound.c.received_at, inbound.c.replied_at, inbound.c.reply_text)
            .where(inbound.c.customer_key == customer_key).order_by(inbound.c.id.desc()).limit(limit))]
    return {"contact": dict(contact._mapping) if contact is not None else None, "consent": now,
            "consent_history": ledger, "line_users": users, "messages": messages, "inbound": replies}


def outbox_page(store: OpsStore, *, state: str | None = None, scenario: str | None = None, limit: int = 100,
                offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """One page of outbox rows (newest planned first; no contact data) and how many rows match in all."""
    cond = []
    if state:
        cond.append(outbox.c.state == state)
    if scenario:
        cond.append(outbox.c.scenario == scenario)
    cols = (outbox.c.key, outbox.c.customer_key, outbox.c.scenario, outbox.c.channel, outbox.c.state,
            outbox.c.holdout, outbox.c.send_at, outbox.c.sent_at, outbox.c.attempts, outbox.c.run_id,
            outbox.c.last_error)
    with store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(outbox).where(*cond)).scalar() or 0
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(*cols).where(*cond).order_by(outbox.c.id.desc()).limit(limit).offset(offset))]
    return rows, int(total)


def paused_channels(store: OpsStore) -> dict[str, dict[str, str]]:
    """Channels paused now (a quota reached, credentials refused): until when (UTC) and why."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(channel_status.c.channel, channel_status.c.paused_until, channel_status.c.reason)
                            .where(channel_status.c.paused_until > utcnow())).all()
    return {c: {"until": u.isoformat(timespec="seconds") + "Z", "reason": r or ""} for c, u, r in rows}

"""The LINE webhook: verify, store, answer fast; then process each event once.

:func:`accept_line_webhook` runs in the request: it checks ``x-line-signature`` (Base64 HMAC-SHA256 of the raw
body with the channel secret, compared in constant time) *before* parsing anything, checks the ``destination``
when ``LTV_LINE_BOT_USER_ID`` is set, and stores each event under its ``webhookEventId`` (a redelivered event is
ignored). A request that fails any check changes nothing. :func:`process_line_events` runs after the answer (or
later, for events left over by a crash): it claims each stored event once and acts on it —

- ``follow`` / ``unfollow``: the LINE user's state and the linked customer's reachability on LINE;
- a text that is a valid linking code: links the LINE user to the customer, answered through the reply API;
- 「配信停止」 / "stop": an opt-out from LINE in the consent ledger, confirmed;
- a postback ``reorder:<sku>`` (the quick reply 「もう一度注文する」): a reorder intent, answered with the item URL;
- any other message: stored as inbound for the shop team (``ltv line inbox`` / ``ltv line reply``).

Only the ops store is touched, so this works while an import holds the DuckDB workspace. Nothing is logged but
counts and event types.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ._ops import OpsStore, contacts, inbound, line_users, reachability, utcnow, webhook_events
from .channels.line_messages import STOP_WORDS, TEXTS, item_url
from .contacts import opt_out
from .linking import normalize_code, redeem_code

if TYPE_CHECKING:
    from ..config import Settings
    from .channels import Delivery, LineChannel

__all__ = ["WebhookRejected", "accept_line_webhook", "inbox", "line_signature", "process_line_events",
           "reply_inbound", "verify_line_signature"]

log = logging.getLogger("ltvkit.webhook")


class WebhookRejected(Exception):
    """A webhook request that is refused (``status`` 400/401/403); nothing was stored."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def line_signature(secret: str, body: bytes) -> str:
    """Base64(HMAC-SHA256(channel secret, raw body)): what LINE sends as ``x-line-signature``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_line_signature(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of ``x-line-signature`` over the raw body."""
    if not signature or not secret:
        return False
    return hmac.compare_digest(line_signature(secret, body).encode(), signature.strip().encode())


def accept_line_webhook(store: OpsStore, settings: Settings, body: bytes, signature: str | None) -> list[str]:
    """Verify and store a webhook call; return the IDs of the events that are new (to process)."""
    secret = settings.secret("line_channel_secret")
    if not secret:
        raise WebhookRejected(503, "The LINE webhook needs LTV_LINE_CHANNEL_SECRET; set it and restart.")
    if not verify_line_signature(secret, body, signature):
        raise WebhookRejected(401, "Invalid x-line-signature.")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected(400, "The body is not JSON.") from None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise WebhookRejected(400, "The body has no events list.")
    if settings.line_bot_user_id and payload.get("destination") != settings.line_bot_user_id:
        raise WebhookRejected(403, "The webhook is for another LINE channel (destination).")
    rows = []
    for ev in events:
        if not isinstance(ev, dict) or not isinstance(ev.get("webhookEventId"), str) or not ev["webhookEventId"] \
                or not isinstance(ev.get("type"), str):
            raise WebhookRejected(400, "An event has no webhookEventId or type.")
        rows.append({"event_id": ev["webhookEventId"][:64], "type": ev["type"][:32],
                     "body": json.dumps(ev, ensure_ascii=False), "state": "received", "received_at": utcnow()})
    if not rows:
        return []  # LINE's "verify" call from the console sends no events
    ids = [r["event_id"] for r in rows]
    with store.begin() as conn:
        seen = {r[0] for r in conn.execute(sa.select(webhook_events.c.event_id)
                                           .where(webhook_events.c.event_id.in_(ids)))}
        store.insert_ignore(conn, webhook_events, [r for r in rows if r["event_id"] not in seen], ["event_id"])
    new = [i for i in dict.fromkeys(ids) if i not in seen]
    log.info("line webhook: %d events, %d new", len(rows), len(new))
    return new


# -- processing ---------------------------------------------------------------------------------------------

@dataclass
class _Ctx:
    store: OpsStore
    settings: Settings
    line: LineChannel | None


def _customer_of(conn: sa.Connection, user: str) -> str | None:
    row = conn.execute(sa.select(line_users.c.customer_key).where(line_users.c.line_user_id == user)).first()
    if row is not None and row[0]:
        return str(row[0])
    row = conn.execute(sa.select(contacts.c.customer_key).where(contacts.c.line_user_id == user)).first()
    return str(row[0]) if row is not None else None


def _reply(ctx: _Ctx, ev: dict[str, Any], texts: list[str]) -> str:
    token = ev.get("replyToken")
    if not token or ctx.line is None:
        return "no reply (no reply token or no access token)"
    d: Delivery = ctx.line.reply(token, [{"type": "text", "text": t[:5000]} for t in texts])
    return "replied" if d.ok else f"reply failed: {d.answer}"


def _follow(ctx: _Ctx, ev: dict[str, Any], user: str, following: bool) -> str:
    now = utcnow()
    store = ctx.store
    with store.begin() as conn:
        customer = _customer_of(conn, user)
        store.upsert(conn, line_users, [{"line_user_id": user, "customer_key": customer, "following": following,
                                         "linked_at": None, "updated_at": now}],
                     ["line_user_id"], ["following", "updated_at"])
        if customer:
            store.upsert(conn, reachability, [{"customer_key": customer, "channel": "line", "reachable": following,
                                               "reason": "follow" if following else "unfollowed (blocked)",
                                               "updated_at": now}],
                         ["customer_key", "channel"], ["reachable", "reason", "updated_at"])
    if following:
        return "follow; " + _reply(ctx, ev, [TEXTS[ctx.settings.crm_lang]["welcome"]])
    return "unfollow"


def _store_inbound(ctx: _Ctx, ev: dict[str, Any], user: str | None, kind: str, text: str,
                   sku: str | None = None) -> None:
    with ctx.store.begin() as conn:
        customer = _customer_of(conn, user) if user else None
        ctx.store.insert_ignore(conn, inbound, [{
            "key": secrets.token_hex(4), "event_id": ev["webhookEventId"][:64], "kind": kind, "channel": "line",
            "line_user_id": user, "customer_key": customer, "text": text, "sku": sku, "received_at": utcnow()}],
            ["event_id"])


BAD_CODES_PER_DAY = 10  # guesses a LINE user may make in a day (8 characters of 25: no guessing in practice)


def _too_many_bad_codes(store: OpsStore, user: str) -> bool:
    since = utcnow() - dt.timedelta(days=1)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(line_users.c.bad_codes, line_users.c.bad_codes_since)
                           .where(line_users.c.line_user_id == user)).first()
    return row is not None and row.bad_codes >= BAD_CODES_PER_DAY and row.bad_codes_since is not None \
        and row.bad_codes_since > since


def _count_bad_code(store: OpsStore, user: str) -> None:
    now = utcnow()
    since = now - dt.timedelta(days=1)
    with store.begin() as conn:
        row = conn.execute(sa.select(line_users.c.bad_codes, line_users.c.bad_codes_since)
                           .where(line_users.c.line_user_id == user)).first()
        fresh = row is None or row.bad_codes_since is None or row.bad_codes_since <= since
        n = 1 if fresh else row.bad_codes + 1
        store.upsert(conn, line_users, [{"line_user_id": user, "customer_key": None, "following": True,
                                         "linked_at": None, "updated_at": now, "bad_codes": n,
                                         "bad_codes_since": now if fresh else row.bad_codes_since}],
                     ["line_user_id"], ["bad_codes", "bad_codes_since"])


def _message(ctx: _Ctx, ev: dict[str, Any], user: str | None) -> str:
    msg = ev.get("message") or {}
    t = TEXTS[ctx.settings.crm_lang]
    if msg.get("type") != "text":
        _store_inbound(ctx, ev, user, "message", f"[{msg.get('type', '?')}]")
        return "inbound (non-text)"
    text = str(msg.get("text") or "")
    word = unicodedata.normalize("NFKC", text).strip().upper()
    if user and word in STOP_WORDS:
        with ctx.store.engine.connect() as conn:
            customer = _customer_of(conn, user)
        if customer:
            opt_out(ctx.store, customer, channel="line", source="line-webhook")
        return "opt-out; " + _reply(ctx, ev, [t["stopped"]])
    code = normalize_code(text)
    if user and code:
        if _too_many_bad_codes(ctx.store, user):
            return "bad code (limited); " + _reply(ctx, ev, [t["bad_code"]])
        customer = redeem_code(ctx.store, code, user)
        if customer:
            return "linked; " + _reply(ctx, ev, [t["linked"]])
        _count_bad_code(ctx.store, user)
        return "bad code; " + _reply(ctx, ev, [t["bad_code"]])
    _store_inbound(ctx, ev, user, "message", text)
    return "inbound"


def _postback(ctx: _Ctx, ev: dict[str, Any], user: str | None) -> str:
    data = str((ev.get("postback") or {}).get("data") or "")
    if not data.startswith("reorder:"):
        return "postback ignored"
    sku = data.split(":", 1)[1][:200]
    _store_inbound(ctx, ev, user, "reorder", data, sku)
    t = TEXTS[ctx.settings.crm_lang]
    url = item_url(ctx.settings.item_url_template, sku)
    return "reorder; " + _reply(ctx, ev, [t["reorder_answer"].format(url=url) if url else t["reorder_no_url"]])


def _handle(ctx: _Ctx, ev: dict[str, Any]) -> str:
    src = ev.get("source") or {}
    user = src.get("userId") if isinstance(src, dict) else None
    kind = ev.get("type")
    if kind in ("follow", "unfollow") and user:
        return _follow(ctx, ev, user, kind == "follow")
    if kind == "message":
        return _message(ctx, ev, user)
    if kind == "postback":
        return _postback(ctx, ev, user)
    return "ignored"


def process_line_events(store: OpsStore, settings: Settings, line: LineChannel | None = None,
                        event_ids: list[str] | None = None) -> dict[str, int]:
    """Process stored events that are not processed yet (``event_ids`` only, when given), each exactly once.

    ``line`` answers through the reply API (none: no replies). Returns counts by outcome kind.
    """
    with store.engine.connect() as conn:
        stmt = sa.select(webhook_events.c.event_id).where(webhook_events.c.state == "received")
        if event_ids is not None:
            stmt = stmt.where(webhook_events.c.event_id.in_(event_ids))
        todo = [r[0] for r in conn.execute(stmt.order_by(webhook_events.c.received_at))]
    ctx = _Ctx(store, settings, line)
    counts: dict[str, int] = {}
    for event_id in todo:
        with store.begin() as conn:  # claim: only one processor acts on an event
            claimed = conn.execute(sa.update(webhook_events).where(
                webhook_events.c.event_id == event_id, webhook_events.c.state == "received")
                .values(state="processing")).rowcount
            body = conn.execute(sa.select(webhook_events.c.body)
                                .where(webhook_events.c.event_id == event_id)).scalar_one()
        if claimed != 1:
            continue
        try:
            outcome = _handle(ctx, json.loads(body))
            state = "done"
        except Exception as exc:  # noqa: BLE001 - recorded; the event stays for a look, never half-retried
            outcome, state = f"error: {type(exc).__name__}", "failed"
        with store.begin() as conn:
            conn.execute(sa.update(webhook_events).where(webhook_events.c.event_id == event_id)
                         .values(state=state, processed_at=utcnow(), outcome=outcome[:200]))
        head = outcome.split(";")[0]
        counts[head] = counts.get(head, 0) + 1
    if counts:
        log.info("line events processed: %s", counts)
    return counts


# -- the shop team's inbox ---------------------------------------------------------------------------------------

def inbox(store: OpsStore, *, all_: bool = False) -> list[dict[str, Any]]:
    """Inbound messages (and reorder intents), newest first; unanswered only unless ``all_``."""
    stmt = sa.select(inbound.c.key, inbound.c.kind, inbound.c.channel, inbound.c.customer_key, inbound.c.text,
                     inbound.c.sku, inbound.c.received_at, inbound.c.replied_at).order_by(inbound.c.id.desc())
    if not all_:
        stmt = stmt.where(inbound.c.replied_at.is_(None))
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def reply_inbound(store: OpsStore, line: LineChannel, key: str, text: str) -> Delivery:
    """Answer an inbound message by push, with a retry key derived from the message and the text, so running the
    same reply twice sends it once."""
    from ..exceptions import InputError

    if not text.strip():
        raise InputError(key="err.line_reply_empty")
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(inbound.c.id, inbound.c.line_user_id).where(inbound.c.key == key)).first()
    if row is None:
        raise InputError(key="err.line_no_inbound", key_=repr(key))
    if not row.line_user_id:
        raise InputError(key="err.line_inbound_no_user", key_=str(key))
    retry_key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ltv-reply:{key}:{text}"))
    from .channels import Message

    d = line.send(Message(retry_key, row.line_user_id, text, "reply", "", lang="ja"))
    if d.ok:
        with store.begin() as conn:
            conn.execute(sa.update(inbound).where(inbound.c.id == row.id)
                         .values(replied_at=utcnow(), reply_text=text))
    return d

"""Signed unsubscribe tokens: one per (customer, channel), verified by ``ltv serve``'s unsubscribe endpoint.

A token is ``base64url(customer_key \\x1f channel) . base64url(HMAC-SHA256(ops-store secret, same))``: nothing to
store, nothing guessable, and a changed character fails the constant-time check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

from ._ops import OpsStore

__all__ = ["make_unsubscribe_url", "unsubscribe_token", "unsubscribe_url", "verify_unsubscribe_token"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _token(secret: bytes, customer_key: str, channel: str) -> str:
    payload = f"{customer_key}\x1f{channel}".encode()
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def unsubscribe_token(store: OpsStore, customer_key: str, channel: str) -> str:
    return _token(store.secret("unsubscribe"), customer_key, channel)


def make_unsubscribe_url(secret: bytes, base_url: str, customer_key: str, channel: str) -> str:
    """The unsubscribe URL for a customer and channel, signed with ``secret`` (the ops store's)."""
    return f"{base_url.rstrip('/')}/unsubscribe/{quote(_token(secret, customer_key, channel), safe='')}"


def verify_unsubscribe_token(store: OpsStore, token: str) -> tuple[str, str] | None:
    """``(customer_key, channel)`` of a valid token, else ``None``."""
    try:
        head, sig = token.split(".", 1)
        payload = _unb64(head)
        mac = _unb64(sig)
    except (ValueError, TypeError):
        return None
    good = hmac.new(store.secret("unsubscribe"), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(good, mac):
        return None
    try:
        customer, channel = payload.decode().split("\x1f", 1)
    except (UnicodeDecodeError, ValueError):
        return None
    return customer, channel


def unsubscribe_url(store: OpsStore, base_url: str, customer_key: str, channel: str) -> str:
    return make_unsubscribe_url(store.secret("unsubscribe"), base_url, customer_key, channel)

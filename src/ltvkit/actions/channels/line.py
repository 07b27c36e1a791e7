"""LINE Messaging API push, over httpx.

``POST {LTV_LINE_API_BASE}/v2/bot/message/push`` with ``X-Line-Retry-Key`` = the message's idempotency key
(a UUID), so that a retry after a timeout or a crash is recognised by LINE: a 409 for a retried key means the
first request was accepted, which is a success. 5xx, timeouts and rate limits (429) are transient; a 429 saying
"You have reached your monthly limit." pauses the channel; 401/403 (token refused) pause it too; another 4xx is
permanent for that message (a bad user ID marks the customer unreachable on LINE).

The official SDK (line-bot-sdk v3) wraps the same endpoint, but raises on a 409 and hides the headers behind
``*_with_http_info``; plain httpx keeps the retry-key contract visible in a few lines.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import httpx

from ._base import BaseChannel, Delivery, Message, register_channel
from .line_messages import flex_items, text_message

if TYPE_CHECKING:
    from ...config import Settings

__all__ = ["LineChannel"]

PUSH_PATH = "/v2/bot/message/push"
MULTICAST_PATH = "/v2/bot/message/multicast"
REPLY_PATH = "/v2/bot/message/reply"
MULTICAST_MAX = 500


def _answer(response: httpx.Response) -> str:
    try:
        body = response.json()
        text = str(body.get("message", "")) if isinstance(body, dict) else ""
    except ValueError:
        text = ""
    return f"{response.status_code} {text}".strip()[:300]


class LineChannel(BaseChannel):
    """Send text messages through LINE's push API.

    Parameters
    ----------
    access_token
        The channel access token (``LTV_LINE_CHANNEL_ACCESS_TOKEN``).
    base_url
        ``https://api.line.me`` (``LTV_LINE_API_BASE``; a fake server in tests).
    timeout
        Seconds before a request counts as timed out (and is retried with the same key).
    """

    name = "line"

    def __init__(self, access_token: str, base_url: str = "https://api.line.me", timeout: float = 10.0, *,
                 item_url_template: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.item_url_template = item_url_template
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout,
                                    headers={"Authorization": f"Bearer {access_token}"})

    @classmethod
    def from_settings(cls, settings: Settings) -> LineChannel:
        from ...exceptions import SettingsError

        token = settings.secret("line_channel_access_token")
        if not token:
            raise SettingsError(key="err.line_no_token")
        return cls(token, settings.line_api_base, item_url_template=settings.item_url_template)

    def messages(self, message: Message) -> list[dict[str, Any]]:
        """The LINE message objects of an outbox message: its text with quick replies (reorder when it is about
        an item, stop), then a Flex carousel of the recommended items when the shop has item URLs."""
        ctx = message.context or {}
        item = ctx.get("item") or {}
        out = [text_message(message.text, message.lang, sku=item.get("sku") if isinstance(item, dict) else None)]
        items = ctx.get("items") or []
        flex = flex_items(items, message.lang, self.item_url_template) if items else None
        if flex is not None:
            out.append(flex)
        return out

    def send(self, message: Message) -> Delivery:
        body = {"to": message.to, "messages": self.messages(message)}
        return self._post(PUSH_PATH, body, message.key)

    def multicast(self, to: list[str], messages: list[dict[str, Any]], retry_key: str) -> Delivery:
        """Send identical ``messages`` to up to 500 users in one request, with ``X-Line-Retry-Key``."""
        if not 1 <= len(to) <= MULTICAST_MAX:
            raise ValueError(f"multicast takes 1 to {MULTICAST_MAX} user IDs, not {len(to)}")
        return self._post(MULTICAST_PATH, {"to": list(to), "messages": messages[:5]}, retry_key)

    def send_many(self, messages: list[Message]) -> list[Delivery]:
        """Deliver several messages: those with identical content go out together by multicast (≤ 500 IDs a
        request), with a retry key derived from their idempotency keys, so a retry of the same group is
        recognised. Returns one :class:`Delivery` per message, in order."""
        groups: dict[str, list[int]] = {}
        bodies = [self.messages(m) for m in messages]
        for i, body in enumerate(bodies):
            groups.setdefault(json.dumps(body, sort_keys=True, ensure_ascii=False), []).append(i)
        out: list[Delivery | None] = [None] * len(messages)
        for idx in groups.values():
            for start in range(0, len(idx), MULTICAST_MAX):
                part = idx[start:start + MULTICAST_MAX]
                if len(part) == 1:
                    out[part[0]] = self.send(messages[part[0]])
                    continue
                key = str(uuid.uuid5(uuid.NAMESPACE_URL, "ltv-multicast:" + ",".join(
                    sorted(messages[i].key for i in part))))
                d = self.multicast([messages[i].to for i in part], bodies[part[0]], key)
                for i in part:
                    out[i] = d
        return [d for d in out if d is not None]

    def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> Delivery:
        """Answer a webhook event through the reply API (free of quota; no retry key: a reply token is single-use)."""
        try:
            r = self._client.post(REPLY_PATH, json={"replyToken": reply_token, "messages": messages[:5]})
        except httpx.TransportError as exc:
            return Delivery(False, retryable=False, answer=f"transport error: {type(exc).__name__}")
        if r.status_code == 200:
            return Delivery.accepted(200, r.headers.get("x-line-request-id"), "200")
        return Delivery(False, status_code=r.status_code, answer=_answer(r))

    def _post(self, path: str, body: dict[str, Any], key: str) -> Delivery:
        try:
            r = self._client.post(path, json=body, headers={"X-Line-Retry-Key": key})
        except httpx.TimeoutException:
            return Delivery(False, retryable=True, answer="timeout")
        except httpx.TransportError as exc:
            return Delivery(False, retryable=True, answer=f"transport error: {type(exc).__name__}")
        code = r.status_code
        if code == 200:
            return Delivery.accepted(code, r.headers.get("x-line-request-id"), "200")
        if code == 409:  # the retry key was accepted before: the message went out
            return Delivery.accepted(code, r.headers.get("x-line-accepted-request-id"), _answer(r))
        if code == 429:
            answer = _answer(r)
            return Delivery(False, retryable=True, status_code=code, answer=answer,
                            pause="monthly limit" in answer.lower())
        if code >= 500:
            return Delivery(False, retryable=True, status_code=code, answer=_answer(r))
        if code in (401, 403):
            return Delivery(False, retryable=True, status_code=code, answer=_answer(r), pause=True)
        return Delivery(False, retryable=False, status_code=code, answer=_answer(r), unreachable=code in (400, 404))

    def close(self) -> None:
        self._client.close()


register_channel("line", LineChannel.from_settings)

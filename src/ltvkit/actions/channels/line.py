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

from typing import TYPE_CHECKING

import httpx

from ._base import BaseChannel, Delivery, Message, register_channel

if TYPE_CHECKING:
    from ...config import Settings

__all__ = ["LineChannel"]

PUSH_PATH = "/v2/bot/message/push"


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

    def __init__(self, access_token: str, base_url: str = "https://api.line.me", timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout,
                                    headers={"Authorization": f"Bearer {access_token}"})

    @classmethod
    def from_settings(cls, settings: Settings) -> LineChannel:
        from ...exceptions import SettingsError

        token = settings.secret("line_channel_access_token")
        if not token:
            raise SettingsError("Sending on LINE needs LTV_LINE_CHANNEL_ACCESS_TOKEN (or its _FILE); set it and "
                                "run again.")
        return cls(token, settings.line_api_base)

    def send(self, message: Message) -> Delivery:
        body = {"to": message.to, "messages": [{"type": "text", "text": message.text[:5000]}]}
        try:
            r = self._client.post(PUSH_PATH, json=body, headers={"X-Line-Retry-Key": message.key})
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

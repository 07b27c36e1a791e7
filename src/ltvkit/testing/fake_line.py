"""A fake LINE Messaging API on loopback: real HTTP, LINE's retry-key contract, injectable faults.

It serves ``POST /v2/bot/message/push``, ``/multicast`` and ``/reply`` like LINE does for what a sender relies
on: a bearer token is required; with ``X-Line-Retry-Key`` (a UUID) the first accepted request is delivered and
any later request with the same key gets 409 ``The retry key is already accepted`` (with
``x-line-accepted-request-id``), so a key is delivered at most once; reply takes no retry key (400). Faults are
injected per request: HTTP 500 before or *after* accepting (a lost answer), 429 rate limits, a monthly quota
(429 ``You have reached your monthly limit.``) and latency.

Deliveries are counted per retry key at the server — what the tests check, not the sender's own tables.
``GET /_fake/stats`` returns the counts as JSON for a server run in another process
(``python -m ltvkit.testing.fake_line --port 0`` prints its URL).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeLineServer"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


@dataclass
class _State:
    token: str | None
    accepted: dict[str, str] = field(default_factory=dict)  # retry key -> request id
    deliveries: Counter[str] = field(default_factory=Counter)  # retry key -> messages delivered (1 at most)
    requests: Counter[str] = field(default_factory=Counter)  # retry key -> requests seen
    delivered: list[dict[str, Any]] = field(default_factory=list)
    no_key: int = 0
    total_requests: int = 0
    status_counts: Counter[int] = field(default_factory=Counter)
    fail_before: int = 0
    fail_after: int = 0
    rate_limit: int = 0
    error_rate: float = 0.0
    error_after_rate: float = 0.0
    quota: int | None = None
    latency: float = 0.0
    keep_texts: bool = True
    unknown_users: set[str] = field(default_factory=set)  # answered 400 (not a user of this channel)
    blocked_users: set[str] = field(default_factory=set)  # accepted (200) but not delivered, as LINE does
    blocked: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small answers on kept-alive connections must not wait for delayed ACKs

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        headers = {"x-line-request-id": uuid.uuid4().hex, **(headers or {})}
        for k, v in headers.items():
            self.send_header(k, v)
        self._headers_buffer.append(b"\r\n" + data)  # headers and body in one write
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []
        with self.server.state.lock:
            self.server.state.status_counts[code] += 1

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/_fake/stats":
            self._send(200, self.server.fake.stats())
        elif self.path == "/v2/bot/message/quota":
            st = self.server.state
            self._send(200, {"type": "limited" if st.quota is not None else "none", "value": st.quota or 0})
        else:
            self._send(404, {"message": "Not found"})

    def do_POST(self) -> None:  # noqa: N802
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if st.latency:
            time.sleep(st.latency)
        if st.token is not None and self.headers.get("Authorization") != f"Bearer {st.token}":
            self._send(401, {"message": "Authentication failed. Confirm that the access token in the "
                                        "authorization header is valid."})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, {"message": "The request body has 1 error(s)"})
            return
        key = self.headers.get("X-Line-Retry-Key")
        path = self.path.split("?")[0]
        if path == "/v2/bot/message/reply":
            if key:
                self._send(400, {"message": "The retry key is not supported for this endpoint"})
                return
            if not body.get("replyToken"):
                self._send(400, {"message": "Invalid reply token"})
                return
            self._accept(None, ["reply"], body)
            return
        if path == "/v2/bot/message/push":
            to = body.get("to")
            recipients = [to] if isinstance(to, str) and to else []
        elif path == "/v2/bot/message/multicast":
            to = body.get("to")
            recipients = to if isinstance(to, list) and 0 < len(to) <= 500 else []
        else:
            self._send(404, {"message": "Not found"})
            return
        messages = body.get("messages")
        if not recipients or not isinstance(messages, list) or not 1 <= len(messages) <= 5:
            self._send(400, {"message": "The request body has 1 error(s)",
                             "details": [{"message": "invalid", "property": "to" if not recipients else "messages"}]})
            return
        if any(r in st.unknown_users for r in recipients):
            self._send(400, {"message": "Failed to send messages"})
            return
        if key is not None and not _UUID.match(key):
            self._send(400, {"message": "The retry key must be a UUID"})
            return
        with st.lock:
            st.total_requests += 1
            if key is not None:
                st.requests[key] += 1
            fault = None
            if key is not None and key in st.accepted:
                fault = "duplicate"
            elif st.fail_before > 0:
                st.fail_before -= 1
                fault = "before"
            elif st.rate_limit > 0:
                st.rate_limit -= 1
                fault = "rate"
            elif st.quota is not None and sum(st.deliveries.values()) + st.no_key + len(recipients) > st.quota:
                fault = "quota"
            elif st.error_rate and st.rng.random() < st.error_rate:
                fault = "before"
            if fault is None:
                request_id = self._record(key, recipients, messages)
                if st.fail_after > 0:
                    st.fail_after -= 1
                    fault = "after"
                elif st.error_after_rate and st.rng.random() < st.error_after_rate:
                    fault = "after"
            accepted_id = st.accepted.get(key) if key is not None else None
        if fault == "duplicate":
            self._send(409, {"message": "The retry key is already accepted", "sentMessages": []},
                       {"x-line-accepted-request-id": accepted_id or ""})
        elif fault in ("before", "after"):
            self._send(500, {"message": "An error occurred in the server"})
        elif fault == "rate":
            self._send(429, {"message": "The API rate limit has been exceeded. Try again later."})
        elif fault == "quota":
            self._send(429, {"message": "You have reached your monthly limit."})
        else:
            self._send(200, {"sentMessages": [{"id": uuid.uuid4().hex[:18]} for _ in messages]},
                       {"x-line-request-id": request_id})

    def _record(self, key: str | None, recipients: list[str], messages: list[Any]) -> str:
        st = self.server.state
        request_id = uuid.uuid4().hex
        blocked = [r for r in recipients if r in st.blocked_users]
        if blocked:
            st.blocked += len(blocked)
            recipients = [r for r in recipients if r not in st.blocked_users]
        if key is None:
            st.no_key += len(recipients)
        else:
            st.accepted[key] = request_id
            st.deliveries[key] += len(recipients)
        if st.keep_texts:
            for r in recipients:
                st.delivered.append({"key": key, "to": r, "text": (messages[0] or {}).get("text"),
                                     "messages": messages})
        return request_id

    def _accept(self, key: str | None, recipients: list[str], body: dict[str, Any]) -> None:
        with self.server.state.lock:
            self._record(key, recipients, body.get("messages") or [])
        self._send(200, {"sentMessages": []})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    state: _State
    fake: FakeLineServer


class FakeLineServer:
    """A LINE Messaging API double on ``127.0.0.1`` (a free port unless given).

    Examples
    --------
    >>> with FakeLineServer(token="t") as line:
    ...     line.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, *, token: str | None = "test-token", port: int = 0, keep_texts: bool = True,
                 seed: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.state = _State(token=token, keep_texts=keep_texts, rng=random.Random(seed))
        self._server.fake = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def state(self) -> _State:
        return self._server.state

    def start(self) -> FakeLineServer:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeLineServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults -------------------------------------------------------------------------------------------------
    def configure(self, *, fail_before: int | None = None, fail_after: int | None = None,
                  rate_limit: int | None = None, error_rate: float | None = None,
                  error_after_rate: float | None = None, quota: int | None | bool = False,
                  latency: float | None = None, unknown_users: set[str] | None = None,
                  blocked_users: set[str] | None = None) -> None:
        """Inject faults: the next ``fail_before`` requests get 500 without delivering, the next ``fail_after``
        are delivered but answered 500 (a lost answer), ``rate_limit`` get 429, each request fails with
        probability ``error_rate`` (before) / ``error_after_rate`` (after delivering); ``quota`` recipients a
        month (``None`` = unlimited); ``latency`` seconds per request; ``unknown_users`` are answered 400
        ("Failed to send messages"); ``blocked_users`` are accepted but not delivered (counted as ``blocked``)."""
        st = self.state
        with st.lock:
            if fail_before is not None:
                st.fail_before = fail_before
            if fail_after is not None:
                st.fail_after = fail_after
            if rate_limit is not None:
                st.rate_limit = rate_limit
            if error_rate is not None:
                st.error_rate = error_rate
            if error_after_rate is not None:
                st.error_after_rate = error_after_rate
            if quota is not False:
                st.quota = quota  # type: ignore[assignment]
            if latency is not None:
                st.latency = latency
            if unknown_users is not None:
                st.unknown_users = set(unknown_users)
            if blocked_users is not None:
                st.blocked_users = set(blocked_users)

    # -- what happened --------------------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Deliveries per retry key, requests per key, keyless deliveries and answers by status code."""
        st = self.state
        with st.lock:
            return {"deliveries": dict(st.deliveries), "requests": dict(st.requests), "no_key": st.no_key,
                    "total_requests": st.total_requests, "blocked": st.blocked,
                    "status_counts": {str(k): v for k, v in st.status_counts.items()}}

    @property
    def delivered(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.delivered)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - used by benchmarks
    parser = argparse.ArgumentParser(description="Run a fake LINE Messaging API on loopback.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--no-texts", action="store_true", help="Do not keep delivered texts (long runs).")
    parser.add_argument("--latency", type=float, default=0.0, help="Seconds to wait before answering a request.")
    args = parser.parse_args(argv)
    server = FakeLineServer(token=args.token, port=args.port, keep_texts=not args.no_texts)
    if args.latency:
        server.configure(latency=args.latency)
    print(server.url, flush=True)
    try:
        server._server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

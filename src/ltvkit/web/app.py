"""The application factory of ``ltv serve``."""

from __future__ import annotations

import hmac
import ipaddress
import threading
from contextlib import asynccontextmanager
from html import escape
from pathlib import Path
from typing import Any

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..actions import open_ops_store
from ..actions._ops import OpsStore
from ..actions.contacts import opt_out
from ..actions.unsubscribe import verify_unsubscribe_token
from ..actions.webhook import WebhookRejected, accept_line_webhook, inbox, process_line_events
from ..config import Settings, load_settings
from .errors import error_response, install_error_handlers

__all__ = ["create_app", "is_loopback"]

# Paths that carry their own proof (LINE's signature, a signed unsubscribe token) and need no serve token.
OPEN_PATHS = ("/webhooks/line", "/unsubscribe/", "/healthz")
MAX_WEBHOOK_BYTES = 1_000_000  # LINE's webhook bodies are a few kB


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost``: the only hosts ``ltv serve`` binds without ``LTV_SERVE_TOKEN``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(workspace: str | Path | None = None, *, settings: Settings | None = None,
               store: OpsStore | None = None, require_token: bool = False) -> FastAPI:
    """The FastAPI app: ``POST /webhooks/line``, ``GET|POST /unsubscribe/{token}``, ``GET /line/inbox.json``
    (token-protected when a serve token is set or required), ``GET /healthz``."""
    settings = settings or load_settings(workspace)
    own_store = store is None
    store = store or open_ops_store(workspace, settings)
    token = settings.secret("serve_token")
    if require_token and not token:
        from ..exceptions import SettingsError

        raise SettingsError(key="err.serve_needs_token")
    line = None
    if settings.secret("line_channel_access_token"):
        from ..actions.channels import LineChannel

        line = LineChannel.from_settings(settings)
    lock = threading.Lock()

    def process(ids: list[str] | None) -> None:
        with lock:  # one processor per server; the claim in the store guards against other servers
            process_line_events(store, settings, line, ids)

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # noqa: ANN202
        threading.Thread(target=process, args=(None,), daemon=True).start()  # events left by a crash
        yield
        if line is not None:
            line.close()
        if own_store:
            store.close()

    app = FastAPI(title="ltvkit", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.settings = settings
    install_error_handlers(app)

    @app.middleware("http")
    async def _token(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if token and not path.startswith(OPEN_PATHS):
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return error_response(401, "This page needs the serve token (Authorization: Bearer …).")
        return await call_next(request)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True}

    @app.post("/webhooks/line")
    async def line_webhook(request: Request, background: BackgroundTasks) -> Response:
        if int(request.headers.get("content-length") or 0) > MAX_WEBHOOK_BYTES:
            return error_response(413, "The webhook body is too large.")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_WEBHOOK_BYTES:
                return error_response(413, "The webhook body is too large.")
        try:
            new = accept_line_webhook(store, settings, body, request.headers.get("x-line-signature"))
        except WebhookRejected as exc:
            return error_response(exc.status, str(exc))
        if new:
            background.add_task(process, new)
        return JSONResponse({"ok": True, "events": len(new)})

    def _unsubscribe(token_: str, confirm: bool) -> Response:
        found = verify_unsubscribe_token(store, token_)
        if found is None:
            return error_response(400, "This unsubscribe link is not valid.")
        customer, channel = found
        if confirm:
            opt_out(store, customer, channel=channel, source="unsubscribe-link")
            return HTMLResponse("<!doctype html><meta charset=utf-8><title>配信停止</title>"
                                "<p>配信を停止しました。 You are unsubscribed.</p>")
        return HTMLResponse("<!doctype html><meta charset=utf-8><title>配信停止</title>"
                            f"<form method=post action='/unsubscribe/{escape(token_, quote=True)}'>"
                            "<p>メールの配信を停止しますか? Unsubscribe from these e-mails?</p>"
                            "<button type=submit>配信停止 / Unsubscribe</button></form>")

    @app.get("/unsubscribe/{token_}")
    def unsubscribe_page(token_: str) -> Response:
        return _unsubscribe(token_, confirm=False)  # a GET never changes state (mail scanners follow links)

    @app.post("/unsubscribe/{token_}")
    def unsubscribe(token_: str) -> Response:  # RFC 8058 one-click: POST List-Unsubscribe=One-Click
        return _unsubscribe(token_, confirm=True)

    @app.get("/line/inbox.json")
    def inbox_json() -> dict[str, Any]:
        rows = inbox(store)
        return {"ok": True, "rows": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
                                     for r in rows]}

    return app

"""The application factory of ``ltv serve``."""

from __future__ import annotations

import hmac
import ipaddress
import threading
from contextlib import asynccontextmanager
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..actions import open_ops_store
from ..actions._ops import OpsStore
from ..actions.contacts import opt_out
from ..actions.unsubscribe import verify_unsubscribe_token
from ..actions.webhook import WebhookRejected, accept_line_webhook, inbox, process_line_events
from ..config import Settings, load_settings
from ..store import WorkspaceSnapshot
from .dashboard import CSRF_COOKIE, SESSION_COOKIE, install_dashboard, new_csrf_seed, session_value
from .errors import error_response, install_error_handlers

__all__ = ["create_app", "is_loopback"]

# Paths that carry their own proof (LINE's signature, a signed unsubscribe token) and need no serve token; the
# login form and the static files (CSS, plotly.js) hold nothing of the shop.
OPEN_PATHS = ("/webhooks/line", "/unsubscribe/", "/healthz", "/login", "/static/")
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
               store: OpsStore | None = None, require_token: bool = False, dashboard: bool = True) -> FastAPI:
    """The FastAPI app: ``POST /webhooks/line``, ``GET|POST /unsubscribe/{token}``, ``GET /healthz`` and the
    dashboard (every page ``/x`` with its twin ``/x.json``, docs/web.md), token-protected when a serve token is set
    or required. The dashboard reads the workspace through a private copy (:class:`ltvkit.store.WorkspaceSnapshot`),
    so pages stay up while an import or a pipeline run holds the file."""
    settings = settings or load_settings(workspace)
    ws_path = Path(workspace) if workspace is not None else Path(settings.workspace)
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
    snapshot = WorkspaceSnapshot(ws_path) if dashboard else None  # read on the first page (the file may come later)

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
        if snapshot is not None:
            snapshot.close()

    app = FastAPI(title="ltvkit", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.settings = settings
    app.state.snapshot = snapshot
    install_error_handlers(app)
    session = session_value(token) if token else ""

    @app.middleware("http")
    async def _token(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if token and not path.startswith(OPEN_PATHS):
            given = request.headers.get("authorization", "")
            cookie = request.cookies.get(SESSION_COOKIE, "")
            if not (hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
                    or hmac.compare_digest(cookie.encode(), session.encode())):
                if request.method == "GET" and not path.endswith((".json", ".csv")) and not given:
                    return RedirectResponse("/login?" + urlencode({"next": str(request.url.path)}), status_code=303)
                return error_response(401, "This page needs the serve token (log in at /login, or send "
                                           "Authorization: Bearer …).")
        request.state.new_csrf = new_csrf_seed()
        response = await call_next(request)
        if CSRF_COOKIE not in request.cookies and response.headers.get("content-type", "").startswith("text/html"):
            response.set_cookie(CSRF_COOKIE, request.state.new_csrf, httponly=True, samesite="strict", path="/",
                                secure=require_token)
        response.headers.setdefault("x-content-type-options", "nosniff")
        response.headers.setdefault("x-frame-options", "DENY")
        response.headers.setdefault("referrer-policy", "same-origin")
        return response

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

    if dashboard:
        install_dashboard(app, snapshot=snapshot, store=store, settings=settings, line=line, token=token)

    @app.get("/line/inbox.json")
    def inbox_json() -> dict[str, Any]:
        rows = inbox(store)
        return {"ok": True, "rows": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
                                     for r in rows]}

    return app

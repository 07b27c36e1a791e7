"""Helpers of the dashboard tests: a uvicorn server in a thread, signed LINE posts, hostile names, CSRF forms."""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from ltvkit.actions.webhook import line_signature
from ltvkit.config import SETTINGS

SECRET = "channel-secret-for-web-tests"
TOKEN = "line-token-for-web-tests"
XSS_PRODUCT = "<script>alert(1)</script>"
XSS_CATEGORY = "<img src=x onerror=alert(2)>"
XSS_CUSTOMER = '"><img src=x onerror=alert(5)>'
XSS_SCENARIO = "<svg onload=alert(3)>"
FORMULA_CUSTOMER = "=SUM(1+1)"
XSS_DESCRIPTION = "<b onmouseover=alert(6)>bold</b>"
CONTACT = {"name": "山田太郎", "email": "taro.yamada@example.com", "phone": "090-1234-5678"}
OPS_EMAIL = "ops-only@example.com"
LINE_USER = "Uweb0000000000000000000000000001"
PAGES = ("overview", "cohorts", "segments", "points", "predictions", "recommendations", "scenarios", "outbox",
         "inbox", "results")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float = 15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


class AppServer:
    """A FastAPI app served by uvicorn in a thread on a free loopback port (real HTTP)."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> AppServer:
        self.thread.start()
        wait_until(lambda: self.server.started, timeout=30)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def line_text(text: str, user: str = LINE_USER) -> dict:
    return {"destination": "Ubot", "events": [{
        "type": "message", "mode": "active", "timestamp": 1, "webhookEventId": uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False}, "source": {"type": "user", "userId": user},
        "replyToken": uuid.uuid4().hex, "message": {"type": "text", "id": "1", "text": text}}]}


def signed_post(client: httpx.Client, url: str, payload: dict) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return client.post(url + "/webhooks/line", content=body,
                       headers={"x-line-signature": line_signature(SECRET, body), "content-type": "application/json"})


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def assert_error_shape(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body == {"ok": False, "error": body["error"], "status": status}
    assert isinstance(body["error"], str) and body["error"]


MEASURED = {"scenario": "winback", "treated": 80, "holdout": 40}  # the campaign conftest measures


def make_app(folder: Path, fake_line, *, token: str | None = None, require_token: bool = False, **env: str):
    """`ltv serve`'s app over ``folder`` (settings from a clean environment), and its ops store."""
    from ltvkit.actions import OpsStore
    from ltvkit.config import load_settings
    from ltvkit.web import create_app

    mp = pytest.MonkeyPatch()
    try:
        for s in SETTINGS:
            mp.delenv(s.env_var, raising=False)
            if s.secret:
                mp.delenv(s.file_var, raising=False)
        values = {"LTV_LINE_CHANNEL_SECRET": SECRET, "LTV_LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                  "LTV_LINE_API_BASE": fake_line.url, "LTV_LINE_BOT_USER_ID": "Ubot", "LTV_LANG": "ja",
                  "LTV_CRM_SCENARIOS": str(folder / "scenarios"), "LTV_CRM_SHOP_NAME": "テスト店", **env}
        if token:
            values["LTV_SERVE_TOKEN"] = token
        for k, v in values.items():
            mp.setenv(k, v)
        settings = load_settings(folder / "ltv.duckdb")
        store = OpsStore("sqlite:///" + str(folder / "ltv.ops.sqlite"))
        app = create_app(folder / "ltv.duckdb", settings=settings, store=store, require_token=require_token)
    finally:
        mp.undo()
    return app, store


def copy_shop(shop, dest: Path) -> Path:
    shutil.copytree(shop["dir"], dest)
    return dest

"""Safety of `ltv serve`: loopback by default; elsewhere only with LTV_SERVE_TOKEN, as a header or the cookie of a
token login (HttpOnly, Secure, SameSite); the login form itself carries a CSRF token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from webhelp import PAGES, AppServer, assert_error_shape, copy_shop, csrf_of, free_port, make_app, wait_until

from ltvkit.exceptions import SettingsError

SERVE_TOKEN = "s3rve-token-for-tests"
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def guarded(shop, fake_line, tmp_path_factory):
    folder = copy_shop(shop, tmp_path_factory.mktemp("guarded") / "shop")
    app, store = make_app(folder, fake_line, token=SERVE_TOKEN, require_token=True)
    with AppServer(app) as server:
        yield server.url
    store.close()


def test_a_non_loopback_bind_needs_a_token(shop, fake_line, tmp_path):
    folder = copy_shop(shop, tmp_path / "shop")
    with pytest.raises(SettingsError, match="LTV_SERVE_TOKEN"):
        make_app(folder, fake_line, require_token=True)


def test_requests_without_the_token_are_refused(guarded):
    with httpx.Client(base_url=guarded, timeout=30) as c:
        for name in PAGES:
            assert_error_shape(c.get(f"/{name}.json"), 401)
            page = c.get(f"/{name}")
            assert page.status_code == 303 and page.headers["location"] == f"/login?next=%2F{name}"
        assert_error_shape(c.get("/segments.csv", params={"segment": "Loyal"}), 401)
        assert_error_shape(c.get("/overview.json", headers={"authorization": "Bearer wrong"}), 401)
        assert_error_shape(c.post("/outbox/x/retry", data={"csrf": "x"}), 401)
    with httpx.Client(base_url=guarded, timeout=30, cookies={"ltv_session": SERVE_TOKEN}) as c:
        assert_error_shape(c.get("/overview.json"), 401)  # the cookie holds a keyed hash, not the token
        assert c.get("/overview.json", headers={"authorization": f"Bearer {SERVE_TOKEN}"}).status_code == 200
        assert c.get("/healthz").status_code == 200


def _cookie(response: httpx.Response, name: str) -> tuple[str, str]:
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(name + "="))
    return header.split(";")[0].split("=", 1)[1], header


def test_token_login_sets_a_safe_cookie(guarded):
    with httpx.Client(base_url=guarded, timeout=30) as c:
        form = c.get("/login", params={"next": "/segments"})
        assert form.status_code == 200
        token = csrf_of(form.text)
        seed, header = _cookie(form, "ltv_csrf")  # Secure off loopback: sent back over HTTPS only, so by hand here
        assert "httponly" in header.lower() and "secure" in header.lower()
    with httpx.Client(base_url=guarded, timeout=30, cookies={"ltv_csrf": seed}) as c:
        assert_error_shape(c.post("/login", data={"token": SERVE_TOKEN, "next": "/segments"}), 403)  # no CSRF
        wrong = c.post("/login", data={"csrf": token, "token": "nope", "next": "/segments"})
        assert wrong.status_code == 401 and "ltv_session" not in wrong.headers.get("set-cookie", "")
        ok = c.post("/login", data={"csrf": token, "token": SERVE_TOKEN, "next": "//evil.example/x"})
        assert ok.status_code == 303 and ok.headers["location"] == "/overview"  # never off this server
        value, cookie = _cookie(ok, "ltv_session")
        parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
        assert {"httponly", "secure", "samesite"} <= parts and "samesite=strict" in cookie.lower()
        assert SERVE_TOKEN not in cookie
    with httpx.Client(base_url=guarded, timeout=30, cookies={"ltv_session": value}) as c:
        assert c.get("/overview.json").json()["ok"] is True
        assert c.get("/overview").status_code == 200


def test_ltv_serve_on_every_address_refuses_requests_without_the_token(shop, tmp_path):
    folder = copy_shop(shop, tmp_path / "shop")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTV_")}
    env.update({"PYTHONPATH": str(SRC), "LTV_WORKSPACE": str(folder / "ltv.duckdb")})
    # (without the token it refuses to start: tests/channels/test_webhook.py)
    proc = subprocess.Popen([sys.executable, "-m", "ltvkit", "serve", "--host", "0.0.0.0", "--port", str(port)],
                            env={**env, "LTV_SERVE_TOKEN": SERVE_TOKEN}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=folder)
    try:
        url = f"http://127.0.0.1:{port}"

        def up():
            try:
                return httpx.get(url + "/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return proc.poll() is not None
        wait_until(up, timeout=60)
        assert proc.poll() is None
        assert_error_shape(httpx.get(url + "/predictions.json", timeout=30), 401)
        assert httpx.get(url + "/predictions.json", timeout=30,
                         headers={"authorization": f"Bearer {SERVE_TOKEN}"}).json()["ok"] is True
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

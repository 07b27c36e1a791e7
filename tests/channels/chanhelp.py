"""Helpers of the channel tests: signed webhook posts, ops-store snapshots, an `ltv serve` process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from ltvkit.actions import OpsStore
from ltvkit.actions._ops import metadata
from ltvkit.actions.webhook import line_signature

SRC = Path(__file__).resolve().parents[2] / "src"
SECRET = "channel-secret-for-tests"
TOKEN = "test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def snapshot(store: OpsStore) -> dict[str, list]:
    """Every row of every ops-store table, to show that a request changed nothing."""
    with store.engine.connect() as conn:
        return {t.name: sorted(map(repr, conn.execute(sa.select(t)).all())) for t in metadata.sorted_tables}


def signed_post(url: str, payload: dict | bytes, secret: str = SECRET, **kw) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    headers = {"x-line-signature": line_signature(secret, body), "content-type": "application/json"}
    return httpx.post(url + "/webhooks/line", content=body, headers=headers, timeout=10, **kw)


def wait_until(check, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def start_serve(tmp: Path, env_extra: dict[str, str], host: str = "127.0.0.1") -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTV_")}
    env.update({"PYTHONPATH": str(SRC), "LTV_WORKSPACE": str(tmp / "ltv.duckdb"), **env_extra})
    proc = subprocess.Popen([sys.executable, "-m", "ltvkit", "serve", "--host", host, "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp)
    url = f"http://{host}:{port}"
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    out = proc.stdout.read().decode() if proc.stdout else ""
    raise AssertionError(f"ltv serve did not start: {out}")


class AppServer:
    """A FastAPI app served by uvicorn in a thread on a free loopback port (real HTTP, in this process)."""

    def __init__(self, app) -> None:
        import threading

        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> AppServer:
        self.thread.start()
        wait_until(lambda: self.server.started, timeout=20)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)

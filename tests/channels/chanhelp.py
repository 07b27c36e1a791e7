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


def add_outbox(store, rows: list[dict]) -> list[str]:
    """Write planned outbox rows (as the planner does) and return their keys."""
    import datetime as dt
    import json as _json
    import uuid as _uuid

    from ltvkit.actions._ops import outbox, utcnow
    from ltvkit.actions.scenarios import CONTEXT_VARIABLES

    blank = {k: None for k in CONTEXT_VARIABLES if k not in ("shop", "scenario")} | {"items": []}
    now = utcnow() - dt.timedelta(seconds=1)
    out = []
    for r in rows:
        key = r.get("key") or str(_uuid.uuid4())
        out.append({"key": key, "scenario": r.get("scenario", "thanks-first-order"),
                    "customer_key": r["customer_key"], "occurrence": r.get("occurrence", key),
                    "channel": r.get("channel", "line"), "state": "planned", "holdout": False, "priority": 50,
                    "lang": r.get("lang", "ja"), "context": _json.dumps(blank | r.get("context", {}), ensure_ascii=False),
                    "run_id": 1, "as_of": now.date(), "planned_at": now, "send_at": now,
                    "expires_at": now + dt.timedelta(days=7), "next_attempt_at": now, "attempts": 0})
    with store.begin() as conn:
        store.insert_ignore(conn, outbox, out, ["key"])
    return [r["key"] for r in out]


def outbox_states(store) -> dict[str, str]:
    import sqlalchemy as _sa

    from ltvkit.actions._ops import outbox

    with store.engine.connect() as conn:
        return dict(conn.execute(_sa.select(outbox.c.key, outbox.c.state)).all())

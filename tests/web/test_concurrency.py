"""Pages and the webhook while `ltv import` writes 200,000 lines into the workspace and then a pipeline run
stores new KPIs: no 5xx, no lost event, and the pages show the new data once each is done."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from webhelp import AppServer, copy_shop, line_text, make_app, signed_post, wait_until

from ltvkit.actions._ops import inbound, webhook_events

SRC = Path(__file__).resolve().parents[2] / "src"
LINES = 200_000


@pytest.fixture(scope="module")
def big_export(tmp_path_factory) -> Path:
    from ltvkit.synth import generate_shop
    from ltvkit.synth.writers import write_generic_parquet

    shop = generate_shop(customers=72_000, seed=11)
    assert len(shop.order_lines) >= LINES
    return write_generic_parquet(shop, tmp_path_factory.mktemp("big") / "orders.parquet")


@pytest.mark.slow
def test_pages_and_webhook_stay_up_during_an_import(shop, fake_line, big_export, tmp_path):
    folder = copy_shop(shop, tmp_path / "shop")
    app, store = make_app(folder, fake_line)
    statuses: list[tuple[str, int]] = []
    posted: list[str] = []
    stop = threading.Event()
    paths = ["/overview.json", "/segments", "/predictions.json", "/cohorts", "/outbox.json", "/inbox",
             f"/customers/{shop['contact_key']}.json", "/scenarios", "/points.json", "/recommendations"]

    def pages(url: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            i = 0
            while not stop.is_set():
                path = paths[i % len(paths)]
                statuses.append((path, c.get(path).status_code))
                i += 1

    def events(url: str) -> None:
        with httpx.Client(timeout=60) as c:
            n = 0
            while not stop.is_set():
                payload = line_text(f"import-time message {n}")
                r = signed_post(c, url, payload)
                statuses.append(("/webhooks/line", r.status_code))
                if r.status_code == 200 and r.json()["events"] == 1:
                    posted.append(payload["events"][0]["webhookEventId"])
                n += 1
                time.sleep(0.02)

    with AppServer(app) as server:
        snapshot = app.state.snapshot
        with httpx.Client(base_url=server.url, timeout=60) as c:
            first = c.get("/overview.json")
            assert first.status_code == 200
        copies = snapshot.copies
        env = {k: v for k, v in os.environ.items() if not k.startswith("LTV_")}
        env["PYTHONPATH"] = str(SRC)
        workers = [threading.Thread(target=pages, args=(server.url,)) for _ in range(2)]
        workers.append(threading.Thread(target=events, args=(server.url,)))
        for w in workers:
            w.start()
        t0 = time.monotonic()
        imp = subprocess.run([sys.executable, "-m", "ltvkit", "import", str(big_export), "--workspace",
                              str(folder / "ltv.duckdb")], env=env, capture_output=True, text=True, timeout=600)
        during = len(statuses)
        import_s = time.monotonic() - t0
        busy_after_import = snapshot.busy
        # then a pipeline run holds the file: the KPIs as of the new last order date
        run = subprocess.run([sys.executable, "-m", "ltvkit", "summary", "--workspace", str(folder / "ltv.duckdb")],
                             env=env, capture_output=True, text=True, timeout=600)
        time.sleep(1.0)
        stop.set()
        for w in workers:
            w.join(60)
        assert imp.returncode == 0, imp.stdout + imp.stderr
        assert run.returncode == 0, run.stdout + run.stderr
        # pages were asked for while the import held the file, and answered from the copy
        assert busy_after_import > 0
        # the pages saw the new orders once the import let go of the file
        with httpx.Client(base_url=server.url, timeout=60) as c:
            wait_until(lambda: c.get("/overview.json").status_code == 200 and snapshot.copies > copies, timeout=30)
        with snapshot.read() as ws:
            assert ws.info()["order_lines"] >= LINES
            last = ws.last_order_date()
        assert last.isoformat() != first.json()["as_of"]  # the import brought later orders
        with httpx.Client(base_url=server.url, timeout=60) as c:
            assert wait_until(lambda: c.get("/overview.json").json()["as_of"] == last.isoformat(), timeout=30)
        server_errors = [(p, s) for p, s in statuses if s >= 500]
        assert server_errors == []
        assert {s for _, s in statuses} == {200}
        assert during > 20, f"only {during} requests in {import_s:.1f}s of import"
        assert len(posted) > 5
        # no lost event: every accepted event is stored, processed, and its message is in the inbox
        with store.engine.connect() as conn:
            wait_until(lambda: conn.execute(sa.select(sa.func.count()).select_from(webhook_events).where(
                webhook_events.c.event_id.in_(posted), webhook_events.c.state == "done")).scalar() == len(posted),
                timeout=60)
            stored = {r[0] for r in conn.execute(sa.select(inbound.c.event_id).where(inbound.c.event_id.in_(posted)))}
        assert stored == set(posted)
    store.close()

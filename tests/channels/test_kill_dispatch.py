"""`kill -9` a sender at 100 random points of dispatch, then one clean run: every message delivered exactly once.

Senders are forked from this process (fast: nothing is imported again) and killed with SIGKILL after a random
delay, mid-claim, mid-request or mid-record; the fake LINE server runs in its own process and counts deliveries per
retry key. A key delivered twice is a duplicate; a key never delivered is lost.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import httpx
import pandas as pd
import pytest
from chanhelp import SRC, TOKEN, add_outbox, outbox_states

from ltvkit.actions import LineChannel, OpsStore, import_contacts, load_scenarios, send
from ltvkit.config import load_settings

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


@pytest.fixture
def fake_line_process():
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-m", "ltvkit.testing.fake_line", "--port", "0", "--no-texts",
                             "--latency", "0.004", "--token", TOKEN], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    url = proc.stdout.readline().strip()
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_kill_9_at_100_points_then_a_clean_run(tmp_path, monkeypatch, fake_line_process):
    url = fake_line_process
    for k, v in {"LTV_LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LTV_LINE_API_BASE": url,
                 "LTV_CRM_RETRY_BASE_SECONDS": "0.01", "LTV_CRM_LEASE_SECONDS": "0.3",
                 "LTV_CRM_MAX_ATTEMPTS": "1000"}.items():
        monkeypatch.setenv(k, v)
    settings = load_settings(tmp_path / "ltv.duckdb")
    scenarios = load_scenarios()
    db = "sqlite:///" + str(tmp_path / "ops.sqlite")
    store = OpsStore(db)
    customers = [f"c{i}" for i in range(200)]
    import_contacts(store, pd.DataFrame({"customer_key": customers, "line_user_id": [f"U{c}" for c in customers]}))
    keys = add_outbox(store, [{"customer_key": c} for c in customers])
    store.close()
    # built before forking, with no connection open yet: a child starts dispatching at once (its own sockets)
    kid_store = OpsStore(db)
    kid_store.engine.dispose()
    kid_line = LineChannel(TOKEN, url)
    rng = random.Random(0)
    window = 0.08  # kill within this many seconds of the fork; adapted to the machine's speed below
    for i in range(100):
        pid = os.fork()
        if pid == 0:  # the child: a sender that will be killed somewhere
            try:
                send(kid_store, settings, scenarios, channels={"line": lambda: kid_line}, batch=4)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, window))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if i % 10 == 9:  # a loaded machine starts senders slowly, a fast one sends much: keep kills mid-dispatch
            delivered = len(httpx.get(url + "/_fake/stats").json()["deliveries"])
            if delivered == 0:
                window *= 1.6
            elif delivered > len(keys) * (i + 1) / 160:
                window *= 0.7
    store = OpsStore(db)
    try:
        partial = httpx.get(url + "/_fake/stats").json()["deliveries"]
        assert 0 < len(partial) < len(keys), len(partial)  # the kills did land mid-dispatch
        # the clean run: a lease longer than a batch takes (the killed senders' 0.3 s leases have run out)
        monkeypatch.setenv("LTV_CRM_LEASE_SECONDS", "60")
        report = send(store, load_settings(tmp_path / "ltv.duckdb"), scenarios, channel="line", wait=True,
                      workers=4)
        stats = httpx.get(url + "/_fake/stats").json()
        assert set(outbox_states(store).values()) == {"sent"}, report.to_dict()
        assert stats["deliveries"] == {k: 1 for k in keys}  # 0 duplicates, 0 lost
    finally:
        store.close()
        kid_store.close()
        kid_line.close()

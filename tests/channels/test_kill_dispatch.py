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

from ltvkit.actions import OpsStore, import_contacts, load_scenarios, send
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
    customers = [f"c{i}" for i in range(150)]
    import_contacts(store, pd.DataFrame({"customer_key": customers, "line_user_id": [f"U{c}" for c in customers]}))
    keys = add_outbox(store, [{"customer_key": c} for c in customers])
    store.close()
    rng = random.Random(0)
    for _ in range(100):
        pid = os.fork()
        if pid == 0:  # the child: a sender that will be killed somewhere
            try:
                child = OpsStore(db)
                send(child, settings, scenarios, channel="line", batch=4)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 0.2))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    store = OpsStore(db)
    try:
        partial = httpx.get(url + "/_fake/stats").json()["deliveries"]
        assert 0 < len(partial) < len(keys)  # the kills did land mid-dispatch
        report = send(store, settings, scenarios, channel="line", wait=True)
        stats = httpx.get(url + "/_fake/stats").json()
        assert set(outbox_states(store).values()) == {"sent"}, report.to_dict()
        assert stats["deliveries"] == {k: 1 for k in keys}  # 0 duplicates, 0 lost
    finally:
        store.close()

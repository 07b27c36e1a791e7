"""Several senders at once never send a row twice (SQLite and PostgreSQL), and a sender killed with SIGKILL at
random points loses nothing and doubles nothing: counted at the fake LINE server, not in our tables.

``CRM_KILL_POINTS`` sets how many kills the kill test makes (default 10; the issue's full run is 50).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from crmhelp import AS_OF, N_CUSTOMERS, NOON, wait_for

from ltvkit.actions import OpsStore, import_contacts, load_scenarios, outbox_frame, plan, send
from ltvkit.config import load_settings
from ltvkit.testing import synthetic_contacts

KILL_POINTS = int(os.environ.get("CRM_KILL_POINTS", "10"))


def _plan(shop, url):
    with OpsStore(url) as store:
        if store.dialect != "sqlite":
            import_contacts(store, synthetic_contacts(N_CUSTOMERS))
    found = load_scenarios(shop.scenarios_dir)
    with shop.workspace() as ws, OpsStore(url) as store:
        plan(ws, store, [found["everyone"]], as_of=AS_OF, now=NOON)
        return outbox_frame(store)


def test_two_send_processes_never_send_a_row_twice(shop, ops_url, fake_line):
    planned = _plan(shop, ops_url)
    treated = set(planned.loc[~planned["holdout"], "key"])
    fake_line.configure(latency=0.004)
    env = shop.env(LTV_OPS_DB=ops_url, LTV_LINE_API_BASE=fake_line.url)
    cmd = [sys.executable, "-m", "ltvkit", "crm", "send", "--workers", "2", "--json", "--scenarios",
           str(shop.scenarios_dir), "--workspace", str(shop.ws_path)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    reports = [json.loads(out) for out, _ in outs]
    stats = fake_line.stats()
    assert set(stats["requests"]) == treated
    assert set(stats["requests"].values()) == {1}, "a row was sent by both processes"
    assert set(stats["deliveries"].values()) == {1}
    assert sum(r["sent"] for r in reports) == len(treated)
    assert all(r["sent"] > 0 for r in reports), reports  # they did run at the same time
    with OpsStore(ops_url) as store:
        assert set(outbox_frame(store).query("not holdout")["state"]) == {"sent"}


# A process without threads that forks a sender on each "go" line and prints the sender's pid: forking this
# process (not pytest, which runs the fake server's threads) is safe, and no sender pays the import time.
ZYGOTE = r"""
import os, sys
from ltvkit.actions import OpsStore, load_scenarios, send
from ltvkit.config import load_settings
url, ws, scenarios = sys.argv[1:4]
for line in sys.stdin:
    if line.strip() != "go":
        break
    pid = os.fork()
    if pid == 0:
        try:
            with OpsStore(url) as store:
                send(store, load_settings(ws), load_scenarios(scenarios), workers=2)
        finally:
            os._exit(0)
    print(pid, flush=True)
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sender_killed_at_random_points_then_a_clean_run_delivers_everything_once(shop, fake_line, backend,
                                                                                  monkeypatch, request):
    url = shop.ops_url if backend == "sqlite" else request.getfixturevalue("pg_url")
    planned = _plan(shop, url)
    treated = set(planned.loc[~planned["holdout"], "key"])
    fake_line.configure(latency=0.002, error_after_rate=0.03, error_rate=0.02)  # lost answers and 500s too
    rng = random.Random(13)
    points = KILL_POINTS if backend == "sqlite" else max(2, KILL_POINTS // 3)
    per_kill = max(5, len(treated) // (points + 2))
    kills = 0
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE, url, str(shop.ws_path), str(shop.scenarios_dir)],
                              env=shop.env(LTV_OPS_DB=url, LTV_LINE_API_BASE=fake_line.url,
                                           LTV_CRM_LEASE_SECONDS="1"),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(points):
            seen = fake_line.stats()["total_requests"]
            if len(fake_line.stats()["deliveries"]) >= len(treated):
                break
            target = seen + rng.randint(1, per_kill)
            zygote.stdin.write("go\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            assert wait_for(lambda t=target: fake_line.stats()["total_requests"] >= t, timeout=60, interval=0.001)
            os.kill(pid, signal.SIGKILL)
            kills += 1
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=60)
    assert kills >= min(points, 2)
    before = len(fake_line.stats()["deliveries"])
    assert before < len(treated)  # the kills interrupted the work
    time.sleep(1.1)  # the killed senders' leases run out
    with OpsStore(url) as store:  # the clean run: picks up expired leases and retries
        send(store, load_settings(shop.ws_path), load_scenarios(shop.scenarios_dir), workers=2, wait=True)
        final = outbox_frame(store)
    stats = fake_line.stats()
    assert set(stats["deliveries"]) == treated, "a planned message was lost or a stray one delivered"
    assert set(stats["deliveries"].values()) == {1}, "a message was delivered twice"
    assert stats["no_key"] == 0
    assert set(final.loc[~final["holdout"], "state"]) == {"sent"}
    assert set(final.loc[final["holdout"], "state"]) == {"holdout"}

"""Plan every shipped CRM scenario for N customers, then send to a fake LINE server with 2 workers.

Usage::

    .venv/bin/python bench/crm_plan.py [--customers 1000000] [--send 100000] [--ops-db URL] [--no-speed-goals]

A synthetic workspace of results (predictions, segments, golden time, replenishment, recommendations) and a LINE ID
for every customer are written first (not timed). The fake LINE server runs in its own process; its ceiling is
measured in the same run by two threads posting pushes as fast as they can. Prints customers/s of planning, messages/s
of sending and the ceiling.

Goals (exit status 1 when one is missed): plan >= 50,000 customers/s; send >= 50% of the fake server's ceiling;
every message the sender counts as sent was delivered once at the server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import faulthandler
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from _goals import Goals, add_goal_arguments

GOAL_PLAN_CUSTOMERS_PER_S = 50_000
GOAL_SEND_SHARE_OF_CEILING = 0.5


def ceiling(url: str, n: int, threads: int = 2) -> float:
    """Pushes per second the fake server answers to ``threads`` clients doing nothing else."""
    per = n // threads

    def run() -> None:
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer test-token"}) as c:
            for i in range(per):
                c.post("/v2/bot/message/push", json={"to": f"Uceiling{i}", "messages": [{"type": "text", "text": "x"}]},
                       headers={"X-Line-Retry-Key": str(uuid.uuid4())})

    ts = [threading.Thread(target=run) for _ in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return per * threads / (time.perf_counter() - t0)


def main() -> None:
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints where a slow run is
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--send", type=int, default=100_000, help="messages to send (at most what was planned)")
    ap.add_argument("--ops-db", default=None, help="ops store URL (default: SQLite in a temporary directory)")
    ap.add_argument("--seed", type=int, default=0)
    add_goal_arguments(ap)
    args = ap.parse_args()
    goals = Goals(args)

    from ltvkit import Workspace
    from ltvkit.actions import OpsStore, import_contacts, load_library, plan, send
    from ltvkit.config import load_settings
    from ltvkit.testing import synthetic_contacts, write_synthetic_results

    tmp = Path(tempfile.mkdtemp(prefix="ltv-crm-bench-"))
    as_of = dt.date.today() - dt.timedelta(days=1)
    ws_path = tmp / "ltv.duckdb"
    t0 = time.perf_counter()
    with Workspace(ws_path) as ws:
        write_synthetic_results(ws, args.customers, as_of, seed=args.seed)
        ws.identity_secret()
    store = OpsStore(args.ops_db or f"sqlite:///{tmp / 'ltv.ops.sqlite'}")
    import_contacts(store, synthetic_contacts(args.customers))
    print(f"setup: {args.customers:,} customers of synthetic results and contacts in {time.perf_counter() - t0:.1f} s")

    server = subprocess.Popen([sys.executable, "-m", "ltvkit.testing.fake_line", "--port", "0", "--no-texts"],
                              stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        url = server.stdout.readline().strip()
        scenarios = load_library()
        with Workspace(ws_path) as ws:
            report = plan(ws, store, scenarios, as_of=as_of, now=dt.datetime.combine(as_of, dt.time(12, 0)))
        planned = sum(c.planned for c in report.scenarios.values())
        held = sum(c.holdout for c in report.scenarios.values())
        rate = args.customers / report.seconds
        print(f"plan: {args.customers:,} customers, {len(scenarios)} scenarios -> {planned:,} messages + {held:,} "
              f"holdout rows in {report.seconds:.2f} s = {rate:,.0f} customers/s, "
              f"{(planned + held) / report.seconds:,.0f} rows/s")
        print("  steps: " + ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items()))

        n_ceiling = max(2000, min(args.send, 20_000))
        top = ceiling(url, n_ceiling)
        from pydantic import SecretStr

        settings = load_settings(ws_path).model_copy(update={
            "line_api_base": url, "line_channel_access_token": SecretStr("test-token")})
        sent = send(store, settings, {s.name: s for s in scenarios}, workers=2, limit=min(args.send, planned))
        send_rate = sent.sent / sent.seconds if sent.seconds else 0.0
        print(f"fake LINE server ceiling (2 client threads, {n_ceiling:,} pushes): {top:,.0f} pushes/s")
        print(f"send: {sent.sent:,} messages in {sent.seconds:.2f} s with 2 workers = {send_rate:,.0f} messages/s "
              f"({send_rate / top:.0%} of the ceiling)")
        stats = httpx.get(url + "/_fake/stats").json()
        ours = {k for k, v in stats["deliveries"].items()}
        with store.engine.connect() as conn:
            import sqlalchemy as sa

            from ltvkit.actions._ops import outbox

            sent_keys = {r[0] for r in conn.execute(sa.select(outbox.c.key).where(outbox.c.state == "sent"))}
        goals.equal("every message counted as sent was delivered at the server", sent_keys <= ours, True)
        goals.check("no key delivered twice", set(stats["deliveries"].values()) <= {1}, "deliveries per key")
        goals.at_least("plan customers/s", rate, GOAL_PLAN_CUSTOMERS_PER_S, unit="/s")
        goals.at_least("send share of the fake server's ceiling", send_rate / top, GOAL_SEND_SHARE_OF_CEILING)
    finally:
        server.terminate()
        server.wait(timeout=30)
        store.close()
    raise SystemExit(goals.finish())


if __name__ == "__main__":
    main()

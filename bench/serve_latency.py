"""Latency of the dashboard of `ltv serve` per page, next to the same data fetched straight from DuckDB.

Usage::

    .venv/bin/python bench/serve_latency.py [--customers 1000000] [--requests 30] [--workspace PATH]

Builds (or reuses, with ``--workspace``) a synthetic shop with every analysis stored, as ``ltv demo`` and the
report do, and an outbox planned from it; serves it with uvicorn on loopback, warms every page, then times
``--requests`` sequential requests of each page's JSON twin with httpx (the HTML page too, with ``--html``); the
first request of each page (cold: computed from the workspace, before the server keeps it until the file
changes) is shown apart and has no goal. The
peer is the same data read straight from the same workspace file with hand-written DuckDB SQL (and the ops store
with sqlite3), in the same run, plus the time of an empty HTTP round trip to the same server (``/healthz``), so
that the ratio measures what the page adds to fetching its data, not the cost of HTTP itself.

Goals (exit status 1 when one is missed): for every page, p95 ≤ 300 ms and p95 ≤ 2× the direct query's p95.
Checks: every request answers 200, and the page's counts equal the direct query's (segment sizes, the drill-down
total, the outbox counts, the customer's orders).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import threading
import time
from pathlib import Path

from _goals import Goals, add_goal_arguments

GOAL_P95_MS = 300.0
GOAL_RATIO = 2.0


def build(path: Path, customers: int, seed: int) -> None:
    """A synthetic shop with every analysis stored and an outbox planned from it."""
    import numpy as np
    import pandas as pd

    from ltvkit import Workspace, pipeline
    from ltvkit.actions import import_contacts, load_library, open_ops_store, plan
    from ltvkit.reports.data import ReportSettings, build_report_data
    from ltvkit.synth import generate_shop

    t = time.perf_counter()
    shop = generate_shop(customers=customers, seed=seed)
    with Workspace(path) as ws:
        ws.append_order_lines(shop.order_lines)
        print(f"generated and loaded {len(shop.order_lines):,} lines in {time.perf_counter() - t:.1f} s", flush=True)
        data = build_report_data(ws, ReportSettings(lang="ja", costs=shop.acquisition_costs))
        pipeline.replenishment(ws)
        print(f"stored every analysis in {time.perf_counter() - t:.1f} s "
              f"(not available: {[u.key for u in data.unavailable]})", flush=True)
        keys = ws.read_result("predictions").select("customer_key").to_pandas()["customer_key"]
        rng = np.random.default_rng(seed)
        chosen = keys[rng.random(len(keys)) < 0.3].to_numpy()
        with open_ops_store(path) as store:
            import_contacts(store, pd.DataFrame({"customer_key": chosen,
                                                 "line_user_id": [f"U{i:032x}" for i in range(len(chosen))]}))
            report = plan(ws, store, load_library(), as_of=ws.result_run("predictions").as_of)
    print(f"planned {sum(c.planned + c.holdout for c in report.scenarios.values()):,} messages; built in "
          f"{time.perf_counter() - t:.1f} s", flush=True)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--requests", type=int, default=30, help="timed requests per page (after two warm-up ones)")
    ap.add_argument("--workspace", type=Path, default=None,
                    help="reuse this workspace (built there when missing; default bench/out/serve-<customers>.duckdb)")
    ap.add_argument("--html", action="store_true", help="time the HTML pages too")
    add_goal_arguments(ap)
    args = ap.parse_args()
    goals = Goals(args)

    import duckdb
    import httpx
    import uvicorn

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from ltvkit.actions import OpsStore
    from ltvkit.actions._ops import default_ops_url
    from ltvkit.web import create_app

    path = args.workspace or Path("bench/out") / f"serve-{args.customers}.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        build(path, args.customers, args.seed)
    ops_url = default_ops_url(path)
    ops_file = ops_url.removeprefix("sqlite:///")

    con = duckdb.connect(str(path), read_only=True)
    ops = sqlite3.connect(f"file:{ops_file}?mode=ro", uri=True, check_same_thread=False)
    n_customers = con.execute("SELECT count(*) FROM result_segments_rfm").fetchall()[0][0]
    big_segment = con.execute("SELECT segment FROM result_segments_rfm GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                              ).fetchall()[0][0]
    customer = con.execute("SELECT customer_key FROM result_segments_rfm ORDER BY orders DESC, customer_key LIMIT 1"
                           ).fetchall()[0][0]
    as_of = con.execute("SELECT max(as_of) FROM runs").fetchall()[0][0]

    def q(sql: str, *params: object) -> list[tuple]:
        return con.execute(sql, list(params)).fetchall()

    def qo(sql: str, *params: object) -> list[tuple]:
        return ops.execute(sql, params).fetchall()

    # the peer: what each page shows, read with hand-written SQL
    direct = {
        "overview": lambda: (q("SELECT * FROM result_summary"), q("SELECT * FROM result_cohort_summary"),
                             qo("SELECT state, count(*) FROM outbox GROUP BY 1"),
                             qo("SELECT count(*) FROM inbound_messages WHERE replied_at IS NULL")),
        "cohorts": lambda: (q("SELECT * FROM result_cohorts"), q("SELECT * FROM result_cohort_summary"),
                            q("SELECT * FROM result_f2"), q("SELECT * FROM result_golden_time"),
                            q("SELECT * FROM result_golden_summary")),
        "segments": lambda: (q("SELECT segment, count(*), sum(revenue), sum(margin), avg(orders) "
                               "FROM result_segments_rfm GROUP BY 1 ORDER BY 2 DESC"),
                             q("SELECT segment, count(*), sum(revenue), sum(margin) FROM result_segments_cpm GROUP BY 1")),
        "segments-drill": lambda: (q("SELECT count(*) FROM result_segments_rfm WHERE segment = ?", big_segment),
                                   q("SELECT customer_key, segment, orders, revenue, margin, recency_days, first_date, "
                                     "last_date FROM result_segments_rfm WHERE segment = ? ORDER BY margin DESC "
                                     "NULLS LAST, customer_key LIMIT 100", big_segment),
                                   q("SELECT segment, count(*) FROM result_segments_rfm GROUP BY 1")),
        "points": lambda: (q("SELECT point_segment, count(*), histogram(round(point_dependence_score, 1)) "
                             "FROM result_point_dependence GROUP BY 1"),
                           q("SELECT * FROM result_point_ltv_curves"), q("SELECT * FROM result_campaign_share")),
        "predictions": lambda: (q("SELECT histogram(floor(p_alive * 20)) FROM result_predictions"),
                                q("SELECT * FROM result_predictions ORDER BY predicted_clv * churn_risk DESC LIMIT 20"),
                                q("SELECT date_trunc('week', expected_next_purchase_date) w, count(*) "
                                  "FROM result_predictions GROUP BY 1"),
                                q("SELECT * FROM result_tracking"), q("SELECT * FROM result_model_comparison"),
                                q("SELECT customer_key, expected_next_purchase_date FROM result_predictions WHERE "
                                  "expected_next_purchase_date BETWEEN ? AND ? + 14 ORDER BY 2 LIMIT 1000",
                                  as_of, as_of),
                                q("SELECT customer_key, due_date, sku FROM result_replenishment WHERE due_date "
                                  "BETWEEN ? AND ? + 14 ORDER BY 2 LIMIT 1000", as_of, as_of)),
        "recommendations": lambda: (q("SELECT sku, count(DISTINCT customer_key) FROM result_recommendations "
                                      "WHERE rank <= 3 GROUP BY 1 ORDER BY 2 DESC LIMIT 30"),
                                    q("SELECT * FROM result_recommendations WHERE customer_key IN (SELECT DISTINCT "
                                      "customer_key FROM result_recommendations ORDER BY 1 LIMIT 15)")),
        "customer": lambda: (q("SELECT * FROM order_lines WHERE customer_key = ? ORDER BY ordered_at DESC LIMIT 200",
                               customer),
                             q("SELECT * FROM result_predictions WHERE customer_key = ?", customer),
                             q("SELECT * FROM result_segments_rfm WHERE customer_key = ?", customer),
                             q("SELECT * FROM result_recommendations WHERE customer_key = ?", customer),
                             qo("SELECT * FROM outbox WHERE customer_key = ?", customer),
                             qo("SELECT * FROM consent WHERE customer_key = ?", customer)),
        "scenarios": lambda: qo("SELECT scenario, state, count(*) FROM outbox GROUP BY 1, 2"),
        "outbox": lambda: (qo("SELECT state, count(*) FROM outbox GROUP BY 1"),
                           qo("SELECT * FROM outbox ORDER BY id DESC LIMIT 100"), qo("SELECT count(*) FROM outbox")),
        "inbox": lambda: qo("SELECT * FROM inbound_messages WHERE replied_at IS NULL ORDER BY id DESC"),
        "results": lambda: q("SELECT count(*) FROM runs"),
    }
    from urllib.parse import quote

    pages = {name: f"/{name}.json" for name in direct}
    pages["segments-drill"] = f"/segments.json?segment={quote(big_segment)}"
    pages["customer"] = f"/customers/{quote(customer, safe='')}.json"

    store = OpsStore(ops_url)
    app = create_app(path, store=store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    rows = []
    statuses: list[int] = []
    with httpx.Client(base_url=base, timeout=120) as client:
        for _ in range(5):
            client.get("/healthz")
        floor = []
        for _ in range(args.requests):
            t = time.perf_counter()
            client.get("/healthz")
            floor.append((time.perf_counter() - t) * 1000)
        answers = {}
        for name, url in pages.items():
            timings = {}
            for kind, target in (("json", url), *((("html", url.replace(".json", "", 1)),) if args.html else ())):
                for i in range(2):
                    t = time.perf_counter()
                    r = client.get(target)
                    if i == 0:
                        timings[kind + "-first"] = [(time.perf_counter() - t) * 1000]
                    statuses.append(r.status_code)
                took = []
                for _ in range(args.requests):
                    t = time.perf_counter()
                    r = client.get(target)
                    took.append((time.perf_counter() - t) * 1000)
                    statuses.append(r.status_code)
                timings[kind] = took
                if kind == "json":
                    answers[name] = r.json()
            for _ in range(2):
                direct[name]()
            peer = []
            for i in range(args.requests):
                t = time.perf_counter()
                direct[name]()
                peer.append((time.perf_counter() - t) * 1000 + floor[i])
            rows.append((name, timings, peer))
            print(f"  {name}: p95 {percentile(timings['json'], 0.95):.1f} ms, direct {percentile(peer, 0.95):.1f} ms",
                  flush=True)
    server.should_exit = True
    thread.join(10)

    print(f"\nserve latency: {n_customers:,} customers, {args.requests} warm requests per page (httpx, sequential); "
          f"direct = the SQL's time + an empty HTTP round trip (/healthz, p50 {statistics.median(floor):.1f} ms)")
    head = f"{'page':<18}{'first ms':>9}{'p50 ms':>9}{'p95 ms':>9}{'direct p50':>12}{'direct p95':>12}{'p95 ratio':>11}"
    print(head + (f"{'html p50':>10}{'html p95':>10}" if args.html else ""))
    for name, timings, peer in rows:
        p50, p95 = statistics.median(timings["json"]), percentile(timings["json"], 0.95)
        d50, d95 = statistics.median(peer), percentile(peer, 0.95)
        line = f"{name:<18}{timings['json-first'][0]:>9.0f}{p50:>9.1f}{p95:>9.1f}{d50:>12.1f}{d95:>12.1f}{p95 / d95:>10.1f}×"
        if args.html:
            line += f"{statistics.median(timings['html']):>10.1f}{percentile(timings['html'], 0.95):>10.1f}"
        print(line)
        goals.at_most(f"{name} p95", p95, GOAL_P95_MS, unit=" ms")
        goals.at_most(f"{name} p95 / direct p95", p95 / d95, GOAL_RATIO, unit="×")
        if args.html:
            goals.at_most(f"{name} HTML p95", percentile(timings["html"], 0.95), GOAL_P95_MS, unit=" ms")

    goals.equal("status of every request", sorted(set(statuses)), [200])
    sizes = {r["segment"]: r["customers"] for r in answers["segments"]["tables"][0]["rows"]}
    goals.equal("segment sizes", sizes, dict(q("SELECT segment, count(*) FROM result_segments_rfm GROUP BY 1")))
    goals.equal("drill-down total", answers["segments-drill"]["tables"][1]["total"],
                q("SELECT count(*) FROM result_segments_rfm WHERE segment = ?", big_segment)[0][0])
    goals.equal("outbox counts", answers["outbox"]["counts"], dict(qo("SELECT state, count(*) FROM outbox GROUP BY 1")))
    orders = next(t for t in answers["customer"]["tables"] if t["key"] == "orders")
    goals.equal("the customer's order lines", orders["total"],
                q("SELECT count(*) FROM order_lines WHERE customer_key = ?", customer)[0][0])
    con.close()
    ops.close()
    store.close()
    raise SystemExit(goals.finish())


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
